"""`failover up`: converge AWS to the config. Safe to re-run; progress on stderr."""

from __future__ import annotations

import click

from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState


@click.command("up")
@json_option
@pass_state
def command(state: AppState) -> None:
    """Converge AWS to the config; safe to re-run."""
    from failover_cli.cli.render import emit_json
    from failover_cli.cli.session import open_context
    from failover_cli.engine.stack import plan_for_up, run_up
    from failover_cli.ops.reachability import Progress, applied_progress, stopped_by_outage
    from failover_cli.ops.status import api_url
    from failover_cli.resources.check_override import noted_overrides
    from failover_cli.resources.subscription import PENDING_OUTPUT

    ctx, console, printer = open_context(state)
    config = ctx.config
    console.print(f"[bold]failover up[/bold]: stack {config.stack} in {', '.join(config.regions)}")
    try:
        plan = plan_for_up(ctx)
    except Exception as error:  # a region that does not answer: said as an outage
        stopped = stopped_by_outage("up", error, Progress([], ["everything"]))
        if stopped is None:
            raise
        raise stopped from error
    if not plan.has_changes and not plan.skipped:
        console.print("  Nothing to do: the stack already matches the config.")
    try:
        report = run_up(ctx, plan, printer.listener())
    except Exception as error:
        changes = [c.describe() for c in plan.pending]
        stopped = stopped_by_outage("up", error, applied_progress(changes, error))
        if stopped is None:
            raise
        raise stopped from error
    endpoints = {
        region: api_url(api_id, region, config.api.stage)
        for region in config.regions
        if (api_id := ctx.outputs.get(f"api_id:{region}"))
    }
    domain_url = routing = None
    if config.domain is not None:
        base = f"/{config.domain.base_path}" if config.domain.base_path else ""
        domain_url = f"https://{config.domain.name}{base}"
        routing = config.domain.routing
    pending = ctx.outputs.get(PENDING_OUTPUT)  # the alarm e-mail awaiting its confirmation click
    overridden = noted_overrides(ctx.outputs, list(config.regions))
    for region in overridden:  # operator state, like FORCE_FAIL: said, never cleared
        console.print(
            f"  [yellow]The health check of {region} carries force-fail's override[/yellow]: "
            f"left in place. Undo it with `failover force-fail --region {region} --restore`."
        )
    if state.json:
        emit_json(
            {
                "stack": config.stack,
                "changed": report.mutating,
                "changes": [c.to_json() for c, _ in report.done],
                "endpoints": endpoints,
                "domain_url": domain_url,
                "pending_subscription": pending,
                "health_check_overrides": overridden,
            }
        )
        return
    click.echo(f"Stack {config.stack} is up ({report.mutating} changes).")
    for region, url in endpoints.items():
        click.echo(f"  API {region:<14} {url}")
    if domain_url:
        click.echo(f"  Domain {domain_url} (Route 53 {routing} routing)")
    if pending:
        click.echo(
            f"Confirm the alarm subscription: AWS sent a confirmation link to {pending}; "
            "alarm e-mails are not delivered until it is clicked."
        )
