"""The `AWS/Route53` `HealthCheckStatus` metric: 1 healthy, 0 unhealthy, per check, in us-east-1.

Route 53 reports the status of every health check to CloudWatch in
us-east-1 (whatever the regions of the stack), dimension HealthCheckId. Here
it is sampled every PUBLISH_EVERY emulated seconds straight into moto's
CloudWatch backend (user PutMetricData may not write to `AWS/` namespaces),
so GetMetricStatistics shows it and alarms evaluate it.

Sampling more often than once a minute matters: a one-minute Minimum then
catches any unhealthy moment in the minute, and a check created just before
its alarm already has data when the alarm is first evaluated (an alarm that
treats missing data as breaching would otherwise fire at once).
"""

from __future__ import annotations

import logging

from failover_cli.sandbox import route53_health
from failover_cli.sandbox.context import SandboxContext

log = logging.getLogger(__name__)

NAMESPACE = "AWS/Route53"
METRIC = "HealthCheckStatus"
DIMENSION = "HealthCheckId"
METRIC_REGION = "us-east-1"  # Route 53's metrics exist only there
PUBLISH_EVERY = 10.0  # emulated seconds


def install(context: SandboxContext) -> None:
    context.scheduler.call_every(PUBLISH_EVERY, lambda: publish(context), first_after=0)


def publish(context: SandboxContext) -> int:
    """One HealthCheckStatus datapoint for every health check; returns how many."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.utils import utcnow

    now = utcnow()  # moto's own timestamps are naive UTC
    by_account: dict[str, list[dict[str, object]]] = {}
    for account, check_id in route53_health.all_check_ids():
        healthy = route53_health.is_healthy(context, check_id, account)
        by_account.setdefault(account, []).append(
            {
                "MetricName": METRIC,
                "Value": 1.0 if healthy else 0.0,
                "Unit": "None",
                "Timestamp": now,
                "Dimensions": [{"Name": DIMENSION, "Value": check_id}],
            }
        )
    for account, data in by_account.items():
        cloudwatch_backends[account][METRIC_REGION].put_metric_data(NAMESPACE, data)
    return sum(len(data) for data in by_account.values())
