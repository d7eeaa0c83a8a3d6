"""Waiting for a region's switch readers to report before records rely on them.

Route 53 counts an Inverted check with no data yet as unhealthy (the sandbox does the
same), and a CALCULATED check that needs all its children would then take the region
out: records move onto a new calculated check only once every child reports healthy as
Route 53 decides it (Inverted flips the checkers' verdict). Bounded: once the budget is
spent the move goes ahead and says so.
"""

from __future__ import annotations

from failover_cli.aws.retry import wait_until
from failover_cli.engine.context import Context
from failover_cli.errors import TimeoutExpired
from failover_cli.services.check_status import poll_observations
from failover_cli.services.health_checks import HEALTHY_SHARE, ROUTE53_REGION


def wait_for_no_objection(ctx: Context, region: str, check_ids: list[str]) -> None:
    r53 = ctx.client("route53", ROUTE53_REGION)
    inverted = {
        c: bool(r53.get_health_check(HealthCheckId=c)["HealthCheck"]["HealthCheckConfig"].get(
            "Inverted", False))
        for c in check_ids
    }  # fmt: skip

    reported: set[str] = set()  # a check seen healthy is not asked again (the quota)

    def healthy(check_id: str) -> bool:
        seen = poll_observations(ctx, check_id)
        if not seen:  # no report yet, or throttled: next round
            return False
        ok = [o for o in seen if o["StatusReport"]["Status"].startswith("Success")]
        passes = len(ok) / len(seen) > HEALTHY_SHARE
        return passes != inverted[check_id]

    def all_report() -> bool:
        reported.update(c for c in check_ids if c not in reported and healthy(c))
        return len(reported) == len(check_ids)

    budget = 3 * max(ctx.config.switch.interval_s, ctx.config.health_check.interval_s) + 30
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
