"""Waiting for a region's switch readers to report before records rely on them.

Route 53 counts an Inverted check with no data yet as unhealthy (the sandbox does the
same), and a CALCULATED check that needs all its children would then take the region
out: records move onto a new calculated check only once every child reports healthy as
Route 53 decides it (Inverted flips the checkers' verdict). Bounded: once the budget is
spent the move goes ahead and says so.
"""

from __future__ import annotations

from collections.abc import Callable

from failover_cli.aws.retry import wait_until
from failover_cli.engine.context import Context
from failover_cli.errors import TimeoutExpired
from failover_cli.services.check_status import poll_observations
from failover_cli.services.health_checks import HEALTHY_SHARE, ROUTE53_REGION, find_health_check


def _verdicts(ctx: Context, check_ids: list[str]) -> Callable[[str], bool | None]:
    """check id -> Route 53's verdict now (None: no report yet); Inverted flips it."""
    r53 = ctx.client("route53", ROUTE53_REGION)
    inverted = {
        c: bool(r53.get_health_check(HealthCheckId=c)["HealthCheck"]["HealthCheckConfig"].get(
            "Inverted", False))
        for c in check_ids
    }  # fmt: skip

    def verdict(check_id: str) -> bool | None:
        seen = poll_observations(ctx, check_id)  # paced; None when throttled: next round
        if not seen:
            return None
        ok = [o for o in seen if o["StatusReport"]["Status"].startswith("Success")]
        return (len(ok) / len(seen) > HEALTHY_SHARE) != inverted[check_id]

    return verdict


def _budget(ctx: Context) -> float:
    return 3 * max(ctx.config.switch.interval_s, ctx.config.health_check.interval_s) + 30


def wait_for_objection(ctx: Context, region: str) -> None:
    """Until a switch reader of `region` reports it forced out (TimeoutExpired after the
    budget): from then on the switch alone keeps it out of DNS."""
    config = ctx.config
    names = [config.reader_check_name(region, q) for q in config.regions if q != region]
    ids = [
        str(found["Id"])
        for name in names
        if (found := find_health_check(ctx, name.removeprefix(f"{config.stack}-"), fresh=True))
    ]
    if not ids:
        raise TimeoutExpired(f"{region} has no switch readers yet")
    verdict = _verdicts(ctx, ids)
    wait_until(
        lambda: any(verdict(c) is False for c in ids),
        what=f"a switch reader to see {region} forced out",
        timeout=_budget(ctx),
        interval=2,
        clock=ctx.clock,
    )


def wait_for_no_objection(ctx: Context, region: str, check_ids: list[str]) -> None:
    verdict = _verdicts(ctx, check_ids)
    reported: set[str] = set()  # a check seen healthy is not asked again (the quota)

    def all_report() -> bool:
        reported.update(c for c in check_ids if c not in reported and verdict(c) is True)
        return len(reported) == len(check_ids)

    budget = _budget(ctx)
    try:
        wait_until(
            all_report,
            what="the switch readers to report",
            timeout=budget,
            interval=5,
            clock=ctx.clock,
        )
    except TimeoutExpired:
        ctx.progress(region, "the switch readers report no healthy majority yet; going ahead")
