"""A health check's status as Route 53 uses it for DNS answers and the metric.

Endpoint checks (HTTP, HTTPS, TCP ...) are what the sandbox's checkers say
(`context.health`, which applies the threshold, the 18% rule, `Inverted` and
`Disabled`). CALCULATED checks have no endpoint: Route 53 derives them from
their children (healthy while at least HealthThreshold children are, each
child with its own `Inverted`), so that is done here; a disabled check counts
as healthy and `Inverted` flips the result, as for endpoint checks.
"""

from __future__ import annotations

from typing import Any

from failover_cli.sandbox.context import SandboxContext

CALCULATED = "CALCULATED"
_MAX_DEPTH = 4  # calculated checks cannot nest on Route 53; a loop must not recurse forever


def is_healthy(context: SandboxContext, check_id: str, account_id: str | None = None) -> bool:
    """Whether Route 53 considers the check healthy now (an unknown check counts as healthy)."""
    return _healthy(context, check_id, account_id, 0)


def _healthy(context: SandboxContext, check_id: str, account_id: str | None, depth: int) -> bool:
    check = find_check(check_id, account_id)
    if check is None or str(check.type_ or "").upper() != CALCULATED or depth > _MAX_DEPTH:
        return context.health.is_healthy(check_id)
    if flag(check.disabled):
        healthy = True  # Route 53 stops aggregating a disabled check and calls it healthy
    else:
        children = [str(child) for child in check.children or ()]
        healthy_children = sum(_healthy(context, c, account_id, depth + 1) for c in children)
        healthy = healthy_children >= int(check.health_threshold or 0)
    # Inverted applies on top, as for endpoint checks (health_state.py): disabled AND
    # inverted is the way to hold a check unhealthy.
    return healthy != flag(check.inverted)


def find_check(check_id: str, account_id: str | None = None) -> Any:
    """moto's HealthCheck with this id (in `account_id`, else any account), or None."""
    from moto.route53.models import route53_backends

    accounts = [account_id] if account_id else list(route53_backends.keys())
    for account in accounts:
        regions = dict.get(route53_backends, account)  # plain lookup: never creates one
        for backend in list(regions.values()) if regions else ():
            check = backend.health_checks.get(check_id)
            if check is not None:
                return check
    return None


def all_check_ids() -> list[tuple[str, str]]:
    """(account id, check id) of every health check moto holds."""
    from moto.route53.models import route53_backends

    found: list[tuple[str, str]] = []
    for account, regions in list(route53_backends.items()):
        for backend in list(regions.values()):
            found.extend((account, str(check_id)) for check_id in list(backend.health_checks))
    return found


def flag(value: Any) -> bool:
    """moto keeps booleans as parsed: True, "true" or "false"."""
    return value is True or str(value).lower() == "true"
