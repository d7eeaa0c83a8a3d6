"""`failover force-fail --region R`: make one region fail on purpose, or `--restore` it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from failover_cli.cli.completion import complete_region
from failover_cli.cli.durations import POSITIVE_DURATION
from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState

if TYPE_CHECKING:
    from failover_cli.ops.force_fail_mechanisms import ForceFailReport


@click.command("force-fail")
@click.option(
    "--region",
    default=None,
    shell_complete=complete_region,
    help="The region whose function should fail (with --restore and no --region: every "
    "region that is forced).",
)
@click.option(
    "--restore", is_flag=True, help="Undo it instead: FORCE_FAIL and/or the health-check override."
)
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
    help="Fail the region even when no other region is healthy.",
)
@click.option(
    "--via",
    type=click.Choice(["auto", "function", "health-check"]),
    default="auto",
    show_default=True,
    help="function: FORCE_FAIL on the region's function; health-check: a search string "
    "no answer contains on its Route 53 health check (needs nothing from the region); "
    "auto: the function when its Lambda API answers, else the health check.",
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
    via: str,
) -> None:
    """Set FORCE_FAIL=true on one region's function (merged into its environment).

    Every request to that region then answers 503, its health check turns
    unhealthy and Route 53 moves traffic away. When the region's Lambda API does
    not answer (a regional outage), its Route 53 health check is made to fail
    instead (--via). --restore undoes whichever is in place. Refuses to fail the
    last healthy region unless --allow-total-outage. With --wait the phases are timed from
    the moment the variable was written: health check, DNS answer (TestDNSAnswer)
    and a request through the custom domain. After --restore the DNS and request
    phases wait for the region only where Route 53 prefers it: the PRIMARY with
    failover routing; with latency routing, the region being back in the answer.
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
    from failover_cli.ops.force_fail import force_fail
    from failover_cli.ops.force_fail_mechanisms import Via, forced_regions

    if region is None and not restore:
        raise click.UsageError(
            "Missing option '--region': the region to fail (only --restore may omit it, to "
            "restore every region that is forced)"
        )
    ctx, console, _ = open_context(state)
    scale = time_scale()  # a bad value is exit 2 before anything changes
    regions = [region] if region is not None else forced_regions(ctx)
    if not regions:
        console.print(f"Nothing is forced to fail in any region of stack {ctx.config.stack}.")
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
                via=Via(via),
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
    from failover_cli.errors import TimeoutExpired

    region = report.region
    if report.watch is not None and not report.watch.complete:
        missed = ", ".join(p.label for p in report.watch.missed)
        what = "The health-check override" if report.check is not None else "FORCE_FAIL"
        state_now = ("off" if restore else "on") if report.check else str(not restore).lower()
        raise TimeoutExpired(
            f"{what} is {state_now} (written), but not every phase "
            f"followed within {timeout:.0f}s "
            f"(missing: {missed})",
            hint="Look at `failover status`, or wait longer with --timeout.",
            region=region,
        )
