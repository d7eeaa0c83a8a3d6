"""Route 53's own verdict on health checks, read from CloudWatch in one call.

GetHealthCheckStatus answers no CALCULATED check and spends Route 53's account quota
(a burst of 4, then 1 per second), which a look at every switch reader would exceed.
Route 53 publishes every check's verdict as the `AWS/Route53` `HealthCheckStatus`
metric (1 healthy, 0 unhealthy, Inverted already applied) in us-east-1: one
GetMetricData reads them all ("Monitoring health checks using CloudWatch", Route 53
Developer Guide). The metric is per minute, so a verdict is "over the last minute".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from failover_cli.engine.context import Context

METRIC_REGION = "us-east-1"  # Route 53's metrics exist only there
HEALTHY, UNHEALTHY, CHANGING, UNKNOWN = "healthy", "unhealthy", "changing", "unknown"
_LOOK_BACK = timedelta(minutes=5)
_MAX_QUERIES = 500  # GetMetricData's limit per call


def check_verdicts(ctx: Context, check_ids: list[str]) -> dict[str, str]:
    """check id -> healthy | unhealthy | changing (both in its newest minute) | unknown
    (no datapoint yet: a check publishes nothing in its first minute)."""
    found = {check_id: UNKNOWN for check_id in check_ids}
    if not check_ids:
        return found
    queries: list[dict[str, Any]] = []
    for index, check_id in enumerate(check_ids):
        for stat in ("Minimum", "Maximum"):
            queries.append(
                {
                    "Id": f"{stat[:3].lower()}{index}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/Route53",
                            "MetricName": "HealthCheckStatus",
                            "Dimensions": [{"Name": "HealthCheckId", "Value": check_id}],
                        },
                        "Period": 60,
                        "Stat": stat,
                    },
                }
            )
    cw = ctx.client("cloudwatch", METRIC_REGION)
    now = datetime.now(UTC)
    newest: dict[str, float] = {}
    for start in range(0, len(queries), _MAX_QUERIES):
        answer = cw.get_metric_data(
            MetricDataQueries=queries[start : start + _MAX_QUERIES],
            StartTime=now - _LOOK_BACK,
            EndTime=now + timedelta(minutes=1),
            ScanBy="TimestampDescending",
        )
        for result in answer.get("MetricDataResults", []):
            values = _newest(result)
            if values is not None:
                newest[str(result["Id"])] = values
    for index, check_id in enumerate(check_ids):
        low, high = newest.get(f"min{index}"), newest.get(f"max{index}")
        if low is None or high is None:
            continue
        found[check_id] = HEALTHY if low >= 1 else UNHEALTHY if high <= 0 else CHANGING
    return found


def _newest(result: dict[str, Any]) -> float | None:
    pairs = list(zip(result.get("Timestamps", []), result.get("Values", []), strict=False))
    if not pairs:
        return None
    return float(max(pairs, key=lambda pair: pair[0])[1])
