"""`failover drill --region R`: fail, time the failover, restore, time the failback."""

from __future__ import annotations

import click

from failover_cli.cli.completion import complete_region
from failover_cli.cli.durations import POSITIVE_DURATION
from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState


@click.command("drill")
@click.option(
    "--region",
    required=True,
    shell_complete=complete_region,
    help="The region to fail during the drill.",
)
@click.option(
    "--timeout",
    type=POSITIVE_DURATION,
    default="10m",
    show_default=True,
    help="How long to follow each half (failover, then failback).",
)
@json_option
@pass_state
def command(state: AppState, region: str, timeout: float) -> None:
    """Force a region out through the switch, measure failover and failback, always restore.

    Times, from the moment the switch is written: the region's routed health (its
    probe and its switch readers) turning unhealthy, the DNS answer moving away and a
    request through the custom domain answered elsewhere; then the same back after the
    restore. The region is put back in the switch on success, time-out, error, Ctrl-C and
    SIGTERM. Never takes the last healthy region out.
    """
    from failover_cli.cli.render import emit_json
    from failover_cli.cli.render_phases import out_console, print_drill
    from failover_cli.cli.session import open_context
    from failover_cli.config.durations import format_duration
    from failover_cli.errors import TimeoutExpired
    from failover_cli.net.time_scale import emulated, time_scale
    from failover_cli.ops.drill import drill

    ctx, console, _ = open_context(state)
    scale = time_scale()  # a bad value is exit 2 before anything changes
    try:
        report = drill(ctx, region, timeout=timeout, say=console.print)
    except KeyboardInterrupt:
        # drill() only lets an interrupt through once the region is back in the switch.
        console.print(f"Drill interrupted. {region} is back in the switch.")
        raise click.exceptions.Exit(130) from None
    if state.json:
        emit_json(emulated(report.to_json(), scale))
    else:
        print_drill(out_console(), report, scale)
    if not report.complete:
        missed = [
            f"{half.action}: {p.label}"
            for half in (report.failover, report.failback)
            if half is not None
            for p in half.missed
        ]
        raise TimeoutExpired(
            f"The drill did not see every phase within {format_duration(timeout)} "
            f"({'; '.join(missed)})",
            hint=f"{region} was put back in the switch. Look at `failover status`, or allow "
            "more time "
            "with --timeout.",
            region=region,
        )
