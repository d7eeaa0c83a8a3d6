"""The `AWS/Route53` `HealthCheckStatus` metric: 1 healthy, 0 unhealthy, per check, in us-east-1.

Route 53 reports the status of every health check to CloudWatch in
us-east-1 (whatever the regions of the stack), dimension HealthCheckId. Here
it is sampled every PUBLISH_EVERY emulated seconds straight into moto's
CloudWatch backend (user PutMetricData may not write to `AWS/` namespaces),
so GetMetricStatistics shows it and alarms evaluate it.

Sampling more often than once a minute lets a one-minute Minimum catch any
unhealthy moment in the minute. But as on Route 53, a new check publishes
nothing for its first `AwsRules.first_metric_after` (a minute): its alarm sees
missing data meanwhile, so an alarm that treats missing data as breaching fires
on every new or replaced check ("Monitoring health checks using CloudWatch",
Route 53 Developer Guide), which is why the tool's alarms do not.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.route53 import health as route53_health

log = logging.getLogger(__name__)

NAMESPACE = "AWS/Route53"
METRIC = "HealthCheckStatus"
DIMENSION = "HealthCheckId"
METRIC_REGION = "us-east-1"  # Route 53's metrics exist only there
PUBLISH_EVERY = 10.0  # emulated seconds
# How much of our own history moto keeps (emulated): bounds memory and the alarms'
# scans at 8,640 datapoints per check whatever the time scale.
RETENTION_SECONDS = 24 * 3600.0


def install(context: SandboxContext) -> None:
    first_seen: dict[tuple[str, str], float] = {}
    context.scheduler.call_every(PUBLISH_EVERY, lambda: publish(context, first_seen), first_after=0)


def publish(context: SandboxContext, first_seen: dict[tuple[str, str], float] | None = None) -> int:
    """One HealthCheckStatus datapoint for every health check old enough; returns how many.

    `first_seen` remembers when each check was first found (real monotonic seconds):
    checks younger than the rules' `first_metric_after` publish nothing yet.
    """
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.utils import utcnow

    now = utcnow()  # moto's own timestamps are naive UTC
    moment = time.monotonic()
    quiet = context.scheduler.real_seconds(context.rules.first_metric_after)
    by_account: dict[str, list[dict[str, object]]] = {}
    for account, check_id in route53_health.all_check_ids():
        if first_seen is not None:
            born = first_seen.setdefault((account, check_id), moment)
            if moment - born < quiet:
                continue
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
    if first_seen is not None:  # forget deleted checks
        current = set(route53_health.all_check_ids())
        for gone in [key for key in first_seen if key not in current]:
            del first_seen[gone]
    oldest = now - timedelta(seconds=RETENTION_SECONDS / context.time_scale)
    for account, data in by_account.items():
        backend = cloudwatch_backends[account][METRIC_REGION]
        backend.put_metric_data(NAMESPACE, data)
        _forget_before(backend.metric_data, oldest)
    return sum(len(data) for data in by_account.values())


def _forget_before(metric_data: list[Any], oldest: datetime) -> None:
    """Drop the leading run of our own datapoints older than `oldest`.

    Only a leading run, removed with one slice deletion: request threads append
    to the same list at the other end meanwhile, and a rebuilt list could lose
    their datapoints. A user's datapoint at the head simply stops the pruning.
    """
    count = 0
    for datum in metric_data:
        timestamp = datum.timestamp
        if (
            datum.namespace != NAMESPACE
            or datum.name != METRIC
            or not isinstance(timestamp, datetime)
        ):
            break
        if timestamp.replace(tzinfo=None) >= oldest:
            break
        count += 1
    if count:
        del metric_data[:count]
