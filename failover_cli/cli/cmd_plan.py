"""`failover plan`: what `up` would do, read-only. Exit 3 when changes are pending."""

from __future__ import annotations

import click

from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState
from failover_cli.errors import ExitCode


@click.command("plan")
@json_option
@pass_state
def command(state: AppState) -> None:
    """Show what `up` would create, change or delete (read-only)."""
    from failover_cli.cli.render import emit_json, print_plan
    from failover_cli.cli.session import open_context
    from failover_cli.engine.stack import plan_for_up

    ctx, console, _ = open_context(state)
    plan = plan_for_up(ctx)
    if state.json:
        emit_json({"stack": ctx.config.stack, **plan.to_json()})
    else:
        print_plan(console, plan, title=f"Plan for stack {ctx.config.stack}")
    raise click.exceptions.Exit(ExitCode.DEGRADED if plan.has_changes else ExitCode.OK)
