"""The cheap part of `failover doctor` that `up` runs before its first write.

Only for what the plan creates, so a converged `up` (nothing to create) makes no extra
call: health checks to create against the account's Route 53 limit, a function to create
with reserved concurrency against the region's unreserved concurrency, a REST API to
create against the region's fixed quota. The hosted zone's existence is checked by the
plan itself (exit 2), the runtime by the config's validation. A limit that cannot be
read (no permission) is not a reason to stop: `doctor` reports it as "could not check".
"""

from __future__ import annotations

from collections import Counter

from failover_cli.engine.context import Context
from failover_cli.engine.model import Action, Plan
from failover_cli.errors import FailoverError
from failover_cli.ops.doctor_quotas import (
    REGIONAL_APIS_PER_REGION,
    UNRESERVED_MINIMUM,
    lambda_settings,
    rest_api_count,
)


class PreflightFailed(FailoverError):
    """A limit the plan would run into: nothing was changed."""


def preflight_up(ctx: Context, plan: Plan) -> None:
    """Raise before any write when the plan's creations would hit an account limit."""
    created = [c.spec for c in plan.pending if c.action is Action.CREATE]
    checks = Counter(s.kind for s in created)["health_check"]
    if checks:
        _health_checks(ctx, checks)
    reserved = ctx.config.function.reserved_concurrency
    for spec in created:
        if spec.kind == "function" and reserved:
            _concurrency(ctx, spec.region, reserved)
        elif spec.kind == "api":
            _rest_apis(ctx, spec.region)


def _health_checks(ctx: Context, needed: int) -> None:
    try:
        answer = ctx.client("route53", "us-east-1").get_account_limit(
            Type="MAX_HEALTH_CHECKS_BY_OWNER"
        )
    except Exception:  # unreadable: doctor says so; up goes on and AWS decides
        return
    limit, used = int(answer["Limit"]["Value"]), int(answer["Count"])
    if used + needed > limit:
        raise PreflightFailed(
            f"Creating {needed} Route 53 health checks would exceed the account's limit "
            f"({used} of {limit} in use); nothing was changed",
            hint="Delete unused health checks or ask for more in Service Quotas (Route 53), "
            "then re-run.",
        )


def _concurrency(ctx: Context, region: str, reserved: int) -> None:
    try:
        settings = lambda_settings(ctx, region)
    except Exception:
        return
    free = int(settings["AccountLimit"]["UnreservedConcurrentExecutions"])
    if free - reserved < UNRESERVED_MINIMUM:
        raise PreflightFailed(
            f"Reserving {reserved} concurrent executions in {region} would leave fewer than "
            f"{UNRESERVED_MINIMUM} of the account's {free} unreserved (Lambda refuses it); "
            "nothing was changed",
            hint="Lower function.reserved_concurrency, or ask for more concurrency in "
            "Service Quotas (Lambda), then re-run.",
            region=region,
        )


def _rest_apis(ctx: Context, region: str) -> None:
    try:
        count = rest_api_count(ctx, region)
    except Exception:
        return
    if count >= REGIONAL_APIS_PER_REGION:
        raise PreflightFailed(
            f"{region} already has {count} REST APIs, API Gateway's fixed quota; nothing "
            "was changed",
            hint="Delete unused REST APIs in the region, then re-run.",
            region=region,
        )
