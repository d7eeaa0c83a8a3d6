"""Builds what the stack commands share: config, clients and an engine Context."""

from __future__ import annotations

from typing import TYPE_CHECKING

from failover_cli.cli.state import AppState

if TYPE_CHECKING:
    from rich.console import Console

    from failover_cli.aws.deadlines import Deadline
    from failover_cli.cli.render import ProgressPrinter
    from failover_cli.engine.context import Context


def open_context(
    state: AppState, deadline: Deadline | None = None
) -> tuple[Context, Console, ProgressPrinter]:
    """Load the config (exit 2 on problems, before any AWS call) and build a Context whose
    calls are bounded by `deadline` (the command's kind: read-only or mutating)."""
    config = state.load_config()
    from failover_cli.aws.endpoint_check import refuse_dead_endpoint

    refuse_dead_endpoint()  # a sandbox that is not running is said now, not as an outage
    if deadline is not None:
        state.deadline = deadline
    import failover_cli.resources  # noqa: F401  (the resource kinds register with the engine)
    from failover_cli.cli.render import ProgressPrinter, err_console
    from failover_cli.engine.context import Context

    console = err_console()
    printer = ProgressPrinter(console)
    ctx = Context(config=config, clients=state.clients(), progress=printer.progress())
    return ctx, console, printer
