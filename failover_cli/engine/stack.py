"""The stack-level operations behind `plan`, `up` and `down`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from failover_cli.bundle import build_bundle
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Action, Plan, Spec
from failover_cli.engine.planner import (
    observe_reachable,
    plan_down,
    plan_up,
    refuse_conflicts,
)
from failover_cli.engine.registry import desired_specs, handler_for, kinds, teardown_specs
from failover_cli.engine.runner import ApplyReport, ChangeListener, apply_plan
from failover_cli.engine.secret import resolve_secret
from failover_cli.errors import FailoverError

if TYPE_CHECKING:
    from failover_cli.access.ranges import Ranges

# What `down --keep-table` leaves in place: the data and what keeps it healthy.

# `down` needs identities, not code: a placeholder spares it reading the bundle.


def build_specs(ctx: Context) -> list[Spec]:
    """The desired state for `up`/`plan`: preconditions checked, secret resolved, code zipped."""
    from failover_cli.deps.target import LambdaTarget

    fn = ctx.config.function
    target = LambdaTarget(fn.runtime, fn.architecture)
    say = lambda message: ctx.progress("", message)  # noqa: E731
    # First: a bad bundle (or a dependency with no wheel for Lambda) costs no AWS call.
    code = build_bundle(fn.source, target, say)
    for what in code.skipped:
        say(f"left out of the function's code: {what}")
    if code.dependencies is not None:  # what was built for where (plan shows sizes anyway)
        say(f"function code: {code.describe()}")
    ranges = read_ranges(ctx)  # first: an unreadable document costs no AWS call
    for kind in kinds():  # e.g. the hosted zone exists, the table is not left behind
        handler_for(kind).preflight(ctx)
    secret = resolve_secret(ctx)
    return desired_specs(DesiredInputs(ctx.config, secret, code, ranges))


def read_ranges(ctx: Context) -> Ranges | None:
    """The ranges document `access.allow: route53-health-checkers` needs, with a line
    saying what the allow-list holds."""
    from failover_cli.access.policy import allow_list
    from failover_cli.access.ranges import load_ranges

    access = ctx.config.access
    if access is None:
        return None
    checkers = ctx.config.health_check.checker_regions
    ranges = load_ranges(checker_regions=checkers) if access.checkers else None
    allow = allow_list(access, ctx.config.health_check.checker_regions, ranges)
    where = "/health" if access.routes == "health" else "every route"
    source = f", checker prefixes from ip-ranges.json of {ranges.date}" if ranges else ""
    ctx.progress("", f"IP allow-list on {where}: {len(allow.cidrs)} prefixes{source}")
    return ranges


def plan_for_up(ctx: Context) -> Plan:
    """Create and update what the config names; delete what the stack owns beyond it."""
    from failover_cli.engine.guard import describe_losses
    from failover_cli.engine.leftovers import former_changes, observe_with_former

    # Reads give up on a region that does not answer within the read-only deadline.
    reading = ctx.reading()
    specs = build_specs(reading)
    observed, former = observe_with_former(ctx, specs)
    plan = plan_up(specs, observed, ctx.config.stack)
    plan.changes += former_changes(ctx, specs, former)
    describe_losses(plan)
    return plan


def run_up(ctx: Context, plan: Plan, listener: ChangeListener) -> ApplyReport:
    refuse_conflicts(plan, ctx.config.stack)
    return apply_plan(ctx, plan, listener)


def plan_for_down(ctx: Context, *, keep_table: bool) -> Plan:
    """Delete what the config names and what the stack still owns beyond it."""
    from failover_cli.engine.guard import describe_losses
    from failover_cli.engine.leftovers import former_changes, observe_with_former

    specs = teardown_specs(ctx, keep_table=keep_table)
    observed, former = observe_with_former(ctx, specs)
    plan = plan_down(specs, observed, ctx.config.stack)
    plan.changes += former_changes(ctx, specs, former, keep_table=keep_table)
    describe_losses(plan)
    return plan


def plan_reachable_down(ctx: Context, *, keep_table: bool) -> tuple[Plan, list[str]]:
    """`down --skip-unreachable`: the plan for what answers, and what was set aside."""
    specs = teardown_specs(ctx, keep_table=keep_table)
    observed, out = observe_reachable(ctx.reading(), specs)
    by_key = {s.key: s for s in specs}
    remains = [f"{by_key[k].kind} {by_key[k].name} ({by_key[k].where or 'global'})" for k in out]
    return plan_down(specs, observed, ctx.config.stack), remains


def run_down(
    ctx: Context,
    plan: Plan,
    listener: ChangeListener,
    *,
    keep_table: bool,
    skip_unreachable: bool = False,
) -> ApplyReport:
    """Delete, then re-scan: fail if anything the stack owns and can reach is still there."""
    report = apply_plan(ctx, plan, listener)
    ctx.forget_all()
    again = (
        plan_reachable_down(ctx, keep_table=keep_table)[0]
        if skip_unreachable
        else plan_for_down(ctx, keep_table=keep_table)
    )
    remaining = [c for c in again.changes if c.action is Action.DELETE]
    if remaining:
        names = ", ".join(
            f"{c.spec.kind} {c.spec.name} ({c.spec.where or 'global'})" for c in remaining
        )
        raise FailoverError(
            f"`down` finished but these resources of the stack still exist: {names}",
            hint="Re-run `failover down`; if they persist, check them in the console.",
        )
    return report
