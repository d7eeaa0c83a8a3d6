"""`failover rollback`: each region's `live` alias back to the previous release, gated."""

from __future__ import annotations

import click

from failover_cli.cli.options import json_option, pass_state, yes_option
from failover_cli.cli.state import AppState


@click.command("rollback")
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="R",
    help="Only this region (repeatable); default: every region of the config.",
)
@click.option(
    "--to",
    "to",
    metavar="VERSION",
    help="Serve this published version instead of the previous release (version numbers "
    "are per region: usually with --region).",
)
@yes_option
@json_option
@pass_state
def command(state: AppState, regions: tuple[str, ...], to: str | None, yes: bool) -> None:
    """Point each region's `live` alias back at the release it served before.

    No build and no upload: the earlier version is already published. Regions go one
    at a time in the release order, each gated like a release (/health shallow and
    deep, the routes without 5xx, the health check for deploy.bake); a failed gate
    points that region back at what it served and stops with exit 1. A second
    rollback goes one release further back. A version whose health-checker secret or
    force-fail state differs from the live one's is refused (exit 2, nothing
    changed): serving it would fail the region's health checks. Asks first unless
    --yes; `failover up` afterwards releases function.source again.
    """
    import sys

    from failover_cli.cli.render import confirm_or_stop, emit_json
    from failover_cli.cli.session import open_context
    from failover_cli.errors import BadInput
    from failover_cli.ops.reachability import Progress, stopped_by_outage
    from failover_cli.ops.rollback import plan_rollback, run_rollback

    ctx, console, _ = open_context(state)
    config = ctx.config
    unknown = [r for r in regions if r not in config.regions]
    if unknown:
        raise BadInput(
            f"--region {', '.join(unknown)} is not a region of stack {config.stack}",
            hint=f"Its regions: {', '.join(config.regions)}.",
        )
    if to is not None and not to.isdigit():
        raise BadInput(
            f"--to {to!r} is not a version number",
            hint="Published versions are numbers; `failover status` shows the live one.",
        )
    try:
        plan = plan_rollback(ctx, regions or config.regions, to)
    except Exception as error:
        stopped = stopped_by_outage("rollback", error, Progress([], ["everything"]))
        if stopped is None:
            raise
        raise stopped from error
    for region in plan.already:
        console.print(f"  {region}: already serves version {to or 'the target'}; nothing to do")
    if not plan.moves:
        if state.json:
            emit_json({"stack": config.stack, "rolled_back": []})
        else:
            click.echo(f"Nothing to roll back in stack {config.stack}.")
        return
    console.print(f"[bold]failover rollback[/bold]: stack {config.stack}, one region at a time")
    for move in plan.moves:
        console.print(
            f"  {move.region}: live version {move.current} -> {move.target} "
            f"(code {move.code_sha256[:12]}, published {move.published})"
        )
    if not yes:
        if not sys.stdin.isatty():
            raise BadInput(
                "`rollback` needs confirmation; nothing was changed",
                hint="Re-run with --yes to confirm non-interactively.",
            )
        confirm_or_stop(f"Roll back {len(plan.moves)} region(s)?")
    try:
        done = run_rollback(ctx, plan)
    except Exception as error:
        stopped = stopped_by_outage(
            "rollback", error, Progress(["the regions reported above"], ["the others"])
        )
        if stopped is None:
            raise
        raise stopped from error
    if state.json:
        emit_json({"stack": config.stack, "rolled_back": [m.to_json() for m in done]})
        return
    for move in done:
        click.echo(f"{move.region}: live version {move.current} -> {move.target}")
    click.echo(f"Rolled back {len(done)} region(s) of stack {config.stack}.")
