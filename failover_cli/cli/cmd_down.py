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
@click.option(
    "--skip-unreachable",
    is_flag=True,
    help="Delete everything in the regions that answer and list what remains in those "
    "that do not (a regional outage); exit 0 when all that could be reached is gone.",
)
@json_option
@pass_state
def command(state: AppState, yes: bool, keep_table: bool, skip_unreachable: bool) -> None:
    """Delete everything the stack owns, then verify nothing remains.

    A region that does not answer within the deadline stops `down` before it
    deletes anything (exit 1), unless --skip-unreachable.
    """
    from failover_cli.cli.render import confirm_or_stop, emit_json, print_plan
    from failover_cli.cli.session import open_context
    from failover_cli.engine.stack import plan_for_down, plan_reachable_down, run_down
    from failover_cli.ops.reachability import Progress, applied_progress, stopped_by_outage

    if not yes and not sys.stdin.isatty():
        # Nobody can answer the prompt: refuse before reading anything from AWS, whatever
        # is deployed (a script's outcome must not depend on it).
        raise BadInput(
            "`down` deletes resources and needs confirmation",
            hint="Re-run with --yes to confirm non-interactively.",
        )
    ctx, console, printer = open_context(state)
    config = ctx.config
    remains: list[str] = []
    try:
        if skip_unreachable:
            plan, remains = plan_reachable_down(ctx, keep_table=keep_table)
        else:
            plan = plan_for_down(ctx, keep_table=keep_table)
    except Exception as error:
        stopped = stopped_by_outage("down", error, Progress([], ["everything"]))
        if stopped is None:
            raise
        stopped.hint = f"{stopped.hint} Or delete what answers with --skip-unreachable."
        raise stopped from error
    print_plan(console, plan, title=f"Teardown of stack {config.stack}")
    for item in remains:
        console.print(f"  [yellow]unreachable, left for later[/yellow]: {item}")
    if plan.has_changes and not yes:
        confirm_or_stop(f"Delete these {len(plan.pending)} resources of stack {config.stack}?")
    try:
        report = run_down(
            ctx, plan, printer.listener(), keep_table=keep_table, skip_unreachable=skip_unreachable
        )
    except Exception as error:
        changes = [c.describe() for c in plan.pending]
        stopped = stopped_by_outage("down", error, applied_progress(changes, error))
        if stopped is None:
            raise
        raise stopped from error
    skipped = [c.to_json() for c in plan.skipped]
    if state.json:
        emit_json(
            {
                "stack": config.stack,
                "deleted": report.mutating,
                "skipped": skipped,
                "unreachable": remains,
            }
        )
        return
    others = (
        f"; {len(plan.skipped)} with its names but without its ownership tags left alone"
        if plan.skipped
        else ""
    )
    click.echo(f"Stack {config.stack} is down ({report.mutating} resources deleted{others}).")
    for change in plan.skipped:
        click.echo(f"  left alone: {change.describe()} in {change.spec.where or 'global'}")
    if remains:
        click.echo(
            f"Not reached ({len(remains)}, their region did not answer): "
            + "; ".join(remains)
            + ". Run `failover down` again once it answers."
        )
