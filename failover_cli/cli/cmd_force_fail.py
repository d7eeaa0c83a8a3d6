"""`failover force-fail --region R`: take one region out of DNS on purpose, or `--restore` it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from failover_cli.cli.completion import complete_region
from failover_cli.cli.durations import POSITIVE_DURATION
from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState

if TYPE_CHECKING:
    from failover_cli.ops.force_fail import ForceFailReport


@click.command("force-fail")
@click.option(
    "--region",
    default=None,
    shell_complete=complete_region,
    help="The region to take out of DNS (with --restore and no --region: every region the "
    "switch has forced out).",
)
@click.option("--restore", is_flag=True, help="Undo it instead: put the region back in the switch.")
@click.option(
    "--wait",
    is_flag=True,
    help="Follow the failover (or failback) and print how long each phase took.",
)
@click.option(
    "--timeout",
    type=POSITIVE_DURATION,
    default="10m",
    show_default=True,
    help="How long --wait follows the phases.",
)
@click.option(
    "--allow-total-outage",
    is_flag=True,
    help="Force the region out even when every other region is forced out.",
)
@json_option
@pass_state
def command(
    state: AppState,
    region: str | None,
    restore: bool,
    wait: bool,
    timeout: float,
    allow_total_outage: bool,
) -> None:
    """Force one region out of DNS through the switch in the stack's global table.

    Writes the region into the switch item in the table replica of every other region at
    once and succeeds on the first that answers (data plane only: nothing is asked of the
    region itself, nor of Route 53's API or any Lambda API, so it works while us-east-1 is
    down). Route 53's switch readers see it and the region's record leaves DNS within the
    readers' interval x threshold plus replication. --restore puts it back. Refuses to force
    out the last region in service unless --allow-total-outage. With --wait the phases are
    timed from the write: the region's routed health (its probe and its readers), the DNS
    answer (TestDNSAnswer, or the zone's own name servers when Route 53's API does not
    answer) and a request through the custom domain. After --restore the DNS and request
    phases wait for the region only where Route 53 prefers it: the PRIMARY with failover
    routing; with latency routing, the region being back in the answer.
    """
    if restore and allow_total_outage:
        raise click.UsageError(
            "--allow-total-outage is for failing a region; --restore never takes one down, "
            "so the two do not go together"
        )
    from failover_cli.cli.render import emit_json
    from failover_cli.cli.render_phases import out_console, print_force_fail
    from failover_cli.cli.session import open_context
    from failover_cli.net.time_scale import emulated, time_scale
    from failover_cli.ops.force_fail import force_fail, read_view

    if region is None and not restore:
        raise click.UsageError(
            "Missing option '--region': the region to fail (only --restore may omit it, to "
            "restore every region that is forced)"
        )
    ctx, console, _ = open_context(state)
    scale = time_scale()  # a bad value is exit 2 before anything changes
    regions = [region] if region is not None else sorted(read_view(ctx, seeded=False).forced_out)
    if not regions:
        console.print(f"The switch has no region of stack {ctx.config.stack} forced out.")
        if state.json:
            emit_json({"restored": []})
        return
    reports = []
    for one in regions:  # --restore without --region: every forced region, one by one
        try:
            report = force_fail(
                ctx,
                one,
                restore=restore,
                allow_total_outage=allow_total_outage,
                wait=wait,
                timeout=timeout,
                say=console.print,
            )
        except KeyboardInterrupt:
            raise click.exceptions.Exit(130) from None  # force_fail() said where it stands
        reports.append(report)
        if not state.json:
            print_force_fail(out_console(), report, scale)
    if state.json:
        shown = [emulated(r.to_json(), scale) for r in reports]
        emit_json(shown[0] if region is not None else {"restored": shown})
    for report in reports:
        _complete_or_raise(report, restore, timeout)


def _complete_or_raise(report: ForceFailReport, restore: bool, timeout: float) -> None:
    """A --wait that did not see every phase is exit 1, saying where the switch stands."""
    from failover_cli.config.durations import format_duration
    from failover_cli.errors import TimeoutExpired

    region = report.region
    if report.watch is not None and not report.watch.complete:
        missed = ", ".join(p.label for p in report.watch.missed)
        state_now = "back in service" if restore else "forced out"
        raise TimeoutExpired(
            f"{region} is {state_now} in the switch (written), but not every phase "
            f"followed within {format_duration(timeout)} "
            f"(missing: {missed})",
            hint="Look at `failover status`, or wait longer with --timeout.",
            region=region,
        )
