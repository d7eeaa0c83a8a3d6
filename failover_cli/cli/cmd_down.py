"""`failover down`: delete everything the stack owns, then re-scan to prove it."""

from __future__ import annotations

import sys

import click

from failover_cli.cli.options import json_option, pass_state, yes_option
from failover_cli.cli.state import AppState
from failover_cli.errors import BadInput


@click.command("down")
@yes_option
@click.option("--keep-table", is_flag=True, help="Keep the table and its replicas (the data).")
@json_option
@pass_state
def command(state: AppState, yes: bool, keep_table: bool) -> None:
    """Delete everything the stack owns, then verify nothing remains."""
    from failover_cli.cli.render import emit_json, print_plan
    from failover_cli.cli.session import open_context
    from failover_cli.engine.stack import plan_for_down, run_down

    if not yes and not sys.stdin.isatty():
        # Nobody can answer the prompt: refuse before reading anything from AWS, whatever
        # is deployed (a script's outcome must not depend on it).
        raise BadInput(
            "`down` deletes resources and needs confirmation",
            hint="Re-run with --yes to confirm non-interactively.",
        )
    ctx, console, printer = open_context(state)
    config = ctx.config
    plan = plan_for_down(ctx, keep_table=keep_table)
    print_plan(console, plan, title=f"Teardown of stack {config.stack}")
    if plan.has_changes and not yes:
        click.confirm(
            f"Delete these {len(plan.pending)} resources of stack {config.stack}?",
            abort=True,
            err=True,
        )
    report = run_down(ctx, plan, printer.listener(), keep_table=keep_table)
    skipped = [c.to_json() for c in plan.skipped]
    if state.json:
        emit_json({"stack": config.stack, "deleted": report.mutating, "skipped": skipped})
        return
    others = (
        f"; {len(plan.skipped)} with its names but without its ownership tags left alone"
        if plan.skipped
        else ""
    )
    click.echo(f"Stack {config.stack} is down ({report.mutating} resources deleted{others}).")
    for change in plan.skipped:
        click.echo(f"  left alone: {change.describe()} in {change.spec.where or 'global'}")
