"""`failover status`: one view per region, the DNS answer and the serving region.

Exit 0 when every region is healthy, 3 when degraded or not deployed, 1 on an
AWS error (through the group's error boundary). `--watch` redraws in place
until Ctrl-C (or SIGTERM) and exits with the last refresh's code; to a pipe or
file it prints each refresh in full, flushed, and with `--json` one JSON object
per line per refresh.
"""

from __future__ import annotations

import json
import sys
from time import sleep
from typing import TYPE_CHECKING

import click

from failover_cli.cli.durations import POSITIVE_DURATION
from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState

if TYPE_CHECKING:
    from rich.live import Live

    from failover_cli.ops.status_model import StackStatus

MIN_INTERVAL = 1.0  # seconds; faster only hammers the APIs (and their throttles)
DEFAULT_TIMEOUT = 10.0  # seconds per region (ops.status.DEFAULT_TIMEOUT; kept here for --help)
MAX_TIMEOUT = 600.0  # a status that waits longer is not a status


@click.command("status")
@click.option(
    "--watch",
    is_flag=True,
    help="Refresh in place until Ctrl-C; to a pipe, print each refresh in full.",
)
@click.option(
    "--interval",
    type=POSITIVE_DURATION,
    default="5s",
    show_default=True,
    help="Time between refreshes with --watch (e.g. 5s, 1m).",
)
@click.option(
    "--timeout",
    type=POSITIVE_DURATION,
    default=f"{DEFAULT_TIMEOUT:g}s",
    show_default=True,
    help="How long each region's AWS endpoints get to answer before that region is "
    "reported unreachable (the others are still shown).",
)
@json_option
@pass_state
def command(state: AppState, watch: bool, interval: float, timeout: float) -> None:
    """One view per region: health, checks, alarms, DNS and a live probe.

    A region whose endpoints do not answer within --timeout is shown as
    unreachable, with every fact that could not be read; status then exits 3.

    \b
    Exit codes:
      0  every region is healthy
      1  an AWS error the tool could not get past
      2  bad input (config, usage, credentials)
      3  degraded, or not deployed
    """
    from failover_cli.aws.deadlines import read_only
    from failover_cli.cli.session import open_context
    from failover_cli.net.http import HttpClient
    from failover_cli.ops.interrupts import signals_as_interrupts
    from failover_cli.ops.status import gather

    if interval < MIN_INTERVAL:
        raise click.BadParameter(f"must be at least {MIN_INTERVAL:g}s", param_hint="--interval")
    if timeout > MAX_TIMEOUT:
        raise click.BadParameter(f"must be at most {MAX_TIMEOUT:g}s", param_hint="--timeout")
    ctx, _console, _printer = open_context(state, read_only(timeout))
    http = HttpClient()  # parses FAILOVER_RESOLVE once: a bad value is exit 2 before any call
    click_ctx = click.get_current_context()
    if not watch:
        from concurrent.futures import ThreadPoolExecutor

        from failover_cli.ops.allow_list import staleness_warnings

        with ThreadPoolExecutor(1) as pool:  # alongside the regions' reads, not after them
            stale = pool.submit(staleness_warnings, ctx)
            status = gather(ctx, http, timeout=timeout)
            warnings = stale.result()
        _show(state, status, warnings)
        click_ctx.exit(int(status.exit_code))
    code = 130  # interrupted before the first refresh finished: nothing was seen
    try:  # SIGTERM ends a watch as Ctrl-C does: what was printed is flushed, not lost
        with signals_as_interrupts(), _Screen(state) as screen:
            while True:
                status = gather(ctx, http, timeout=timeout)
                code = int(status.exit_code)
                screen.show(status)
                sleep(interval)
    except KeyboardInterrupt:
        pass  # the way to stop watching: exit with what the last refresh saw
    click_ctx.exit(code)


def _show(state: AppState, status: StackStatus, warnings: list[str]) -> None:
    from datetime import datetime

    from rich.markup import escape

    from failover_cli.cli.render import emit_json, err_console

    for warning in warnings:  # e.g. an IP allow-list older than AWS's current ranges
        err_console().print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    if state.json:
        emit_json({**status.to_json(), "warnings": warnings})
        if not status.deployed:
            err_console().print(f"Stack {status.stack} is not deployed: run `failover up`.")
        return
    from failover_cli.cli.render import print_result, result_console
    from failover_cli.cli.status_view import render_status

    print_result(result_console(), render_status(status, checked_at=datetime.now()))


class _Screen:
    """Where --watch draws: a rich Live region redrawn in place, or JSON lines with --json."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self._live: Live | None = None

    def __enter__(self) -> _Screen:
        from failover_cli.cli.render import result_console

        self._console = result_console()
        if not self.state.json and self._console.is_terminal:
            from rich.live import Live

            self._live = Live(console=self._console, auto_refresh=False)
            self._live.start()
        return self

    def show(self, status: StackStatus) -> None:
        from datetime import datetime

        from failover_cli.cli.status_view import render_status

        if self.state.json:
            sys.stdout.write(json.dumps(status.to_json(), default=str) + "\n")
        elif self._live is None:  # a pipe or a file: no redrawing, each refresh in full
            from failover_cli.cli.render import print_result

            print_result(self._console, render_status(status, checked_at=datetime.now()))
            self._console.print()
        else:
            self._live.update(render_status(status, checked_at=datetime.now()), refresh=True)
        sys.stdout.flush()  # a reader at the other end of a pipe sees it now

    def __exit__(self, *_exc: object) -> None:
        if self._live is not None:
            self._live.stop()
        sys.stdout.flush()
