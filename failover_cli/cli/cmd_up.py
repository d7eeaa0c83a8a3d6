"""`failover up`: converge AWS to the config. Safe to re-run; progress on stderr."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from failover_cli.cli.options import json_option, pass_state, yes_option
from failover_cli.cli.state import AppState

if TYPE_CHECKING:
    from rich.console import Console

    from failover_cli.engine.model import Plan


@click.command("up")
@yes_option
@click.option(
    "--allow-data-loss",
    is_flag=True,
    help="Let `up` delete the table (table.name changed): its items are lost.",
)
@click.option(
    "--all-at-once",
    is_flag=True,
    help="Emergencies only: serve a release in every region at once, with no gate and no "
    "automatic rollback. A bad release then fails every region together, and with every "
    "health check unhealthy Route 53 answers as if all were healthy: the whole service is "
    "down.",
)
@json_option
@pass_state
def command(state: AppState, yes: bool, allow_data_loss: bool, all_at_once: bool) -> None:
    """Converge AWS to the config; safe to re-run.

    Deleting what the config no longer names (a region, the domain, an old name) is
    listed first and asked for: --yes answers for you; without a terminal and without
    --yes, `up` refuses before changing anything (exit 2).

    A change to the function's code or configuration (a release) reaches one region at
    a time (deploy.order; by default the failover SECONDARY first, or the config's last
    region first): each region's `live` alias moves to the new version, then the region
    must answer /health shallow and deep, its routes without 5xx, and keep
    its Route 53 health check healthy for deploy.bake. A failed gate points that
    region back at the previous version at once and stops with exit 1; the regions not
    reached never serve the release. Re-run after a fix to continue.
    """
    from failover_cli.cli.app_urls import (
        PUBLIC_ROUTE,
        call_commands,
        custom_endpoint,
        has_public_route,
    )
    from failover_cli.cli.render import emit_json
    from failover_cli.cli.session import open_context
    from failover_cli.engine.stack import plan_for_up, run_up
    from failover_cli.ops.lever_upgrade import carry_old_levers
    from failover_cli.ops.preflight import preflight_up
    from failover_cli.ops.reachability import Progress, applied_progress, stopped_by_outage
    from failover_cli.ops.release_waves import run_waves, split_release
    from failover_cli.ops.status import api_url
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
    if plan.deletions:
        from failover_cli.engine.planner import refuse_conflicts

        refuse_conflicts(plan, config.stack)  # a look-alike stops `up` before any question
        confirm_deletions(console, plan, yes=yes, allow_data_loss=allow_data_loss)
    preflight_up(ctx, plan)  # account limits the creations would meet, before any write
    try:
        # A release (aliases moving to new versions) rolls region by region with gates.
        rest, moves = (plan, []) if all_at_once else split_release(plan)
        report = run_up(ctx, rest, printer.listener())
        if moves:
            run_waves(ctx, moves)
            report.done.extend((c, 0.0) for c in moves)
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
    calls = {}
    if has_public_route(config.function.source):
        endpoint = ctx.client("apigateway", config.primary_region).meta.endpoint_url
        calls = call_commands(endpoints, domain_url, custom_endpoint(endpoint))
    pending = ctx.outputs.get(PENDING_OUTPUT)  # the alarm e-mail awaiting its confirmation click
    # A region an older release forced out (FORCE_FAIL, or the probe's override) stays out:
    # it goes into the switch, and the old mark is cleared once the switch holds it.
    carried = carry_old_levers(ctx)
    for moved in carried:
        marks = " and ".join(moved.marks)
        console.print(
            f"  [yellow]{moved.region} was forced out by an older release ({marks})[/yellow]: "
            + (
                "the switch now keeps it out, the old mark is cleared."
                if moved.cleared
                else "it is in the switch; the old mark stays until its switch readers see "
                "it (run `failover up` again)."
            )
            + f" Undo it with `failover force-fail --region {moved.region} --restore`."
        )
    if state.json:
        emit_json(
            {
                "stack": config.stack,
                "changed": report.mutating,
                "changes": [c.to_json() for c, _ in report.done],
                "endpoints": endpoints,
                "domain_url": domain_url,
                "try": calls,
                "pending_subscription": pending,
                "carried_into_switch": [c.to_json() for c in carried],
            }
        )
        return
    click.echo(f"Stack {config.stack} is up ({report.mutating} changes).")
    for region, url in endpoints.items():
        click.echo(f"  API {region:<14} {url}")
    if domain_url:
        click.echo(f"  Domain {domain_url} (Route 53 {routing} routing)")
    if calls:
        click.echo(
            f"Call the app's public route (GET /{PUBLIC_ROUTE}; /hello and /health need the "
            "health-checker secret):"
        )
        for command in calls.values():
            click.echo(f"  {command}")
    if pending:
        click.echo(
            f"Confirm the alarm subscription: AWS sent a confirmation link to {pending}; "
            "alarm e-mails are not delivered until it is clicked."
        )


def confirm_deletions(console: Console, plan: Plan, *, yes: bool, allow_data_loss: bool) -> None:
    """The guard on deletes: show them, refuse data loss unless allowed, then ask (or not)."""
    import sys

    from failover_cli.cli.render import DELETIONS_HEADING, confirm_or_stop, print_plan
    from failover_cli.engine.guard import loses_data
    from failover_cli.errors import BadInput

    print_plan(console, plan, title="Plan", deletions=DELETIONS_HEADING)
    lost = loses_data(plan)
    if lost and not allow_data_loss:
        raise BadInput(
            f"`up` would delete {'; '.join(c.loses for c in lost)}; nothing was changed",
            hint="Re-run with --allow-data-loss if that is what you want (save the data "
            "first), or put the old table.name back.",
        )
    if yes:
        return
    if not sys.stdin.isatty():
        raise BadInput(
            f"`up` would delete {len(plan.deletions)} resources of the stack and needs "
            "confirmation; nothing was changed",
            hint="Re-run with --yes to confirm non-interactively, or run `failover plan` to "
            "review the deletions.",
        )
    confirm_or_stop(f"Delete these {len(plan.deletions)} resources?")
