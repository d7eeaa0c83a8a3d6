"""Builds what the stack commands share: config, clients and an engine Context."""

from __future__ import annotations

from typing import TYPE_CHECKING

from failover_cli.cli.state import AppState

if TYPE_CHECKING:
    from rich.console import Console

    from failover_cli.cli.render import ProgressPrinter
    from failover_cli.engine.context import Context


def open_context(state: AppState) -> tuple[Context, Console, ProgressPrinter]:
    """Load the config (exit 2 on problems, before any AWS call) and build a Context."""
    config = state.load_config()
    from failover_cli.cli.render import ProgressPrinter, err_console
    from failover_cli.engine.context import Context

    console = err_console()
    printer = ProgressPrinter(console)
    ctx = Context(config=config, clients=state.clients(), progress=printer.progress())
    return ctx, console, printer
