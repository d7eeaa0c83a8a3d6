"""Reading a health check's GetHealthCheckStatus under Route 53's account-wide quota.

Route 53 allows the call a burst of 4 and then 1 per second per account, shared by every
command (and machine) of that account. Each command paces its own calls
(`aws/pacing.py`), but a command started right after another one (`status` after `up`)
can still find the account's bucket spent. So a reader retries Throttling with jittered
backoff within its own time budget, and says "throttled" rather than failing once that is
spent; and `up`'s waits (which only poll until the checks report) pace themselves well
below the account's rate, so that the bucket is full again when the next command starts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from failover_cli.aws.errors import error_code
from failover_cli.aws.outage import outage_region
from failover_cli.aws.pacing import TokenBucket
from failover_cli.aws.retry import Backoff, retry
from failover_cli.engine.context import Context
from failover_cli.services.health_checks import ROUTE53_REGION

THROTTLED = frozenset({"Throttling", "ThrottlingException", "PriorRequestNotComplete"})
# up's polling: one call at a time, at most one every 1.1 s across all its threads. The
# account's bucket (4, refilled 1/s) refills in full between two polls, so a running `up`
# never draws it below 3 and the next command finds it (nearly) full.
POLL_BURST, POLL_RATE = 1.0, 0.9
STATUS_READ_BUDGET = 10.0  # seconds a command's one reading retries Throttling
QUICK_ATTEMPTS = 2  # botocore's attempts per call (the first and one retry)
_POLL_BUCKET = "route53:status-poll-bucket"  # memo key: one bucket per run


def is_throttled(error: BaseException) -> bool:
    return error_code(error) in THROTTLED


def _worth_retrying(error: Exception) -> bool:
    # botocore's attempts are cut short here (`_quick_client`), so what it would have
    # retried (a dropped connection, a 5xx) is retried here too, within the same budget.
    return is_throttled(error) or outage_region(error, default=ROUTE53_REGION) is not None


def read_status(ctx: Context, check_id: str, *, budget: float) -> dict[str, Any]:
    """GetHealthCheckStatus of `check_id`, Throttling (and dropped connections, 5xx)
    retried with jittered backoff for up to `budget` seconds, then the error is raised."""
    r53 = _quick_client(ctx)
    answer: dict[str, Any] = retry(
        lambda: r53.get_health_check_status(HealthCheckId=check_id),
        retryable=_worth_retrying,
        backoff=Backoff(first=1.0, factor=2.0, cap=4.0, budget=max(budget, 0.0)),
        clock=ctx.clock,
    )
    return answer


def _quick_client(ctx: Context) -> Any:
    """Route 53's client with botocore's own retries cut to one (QUICK_ATTEMPTS): its
    backoff for Throttling grows to 20 s a pause, past a read-only command's whole
    deadline; the jittered retry above spends the caller's budget instead. One call then
    takes at most about a second more than its attempts."""
    deadline = ctx.deadline or getattr(ctx.clients, "deadline", None)
    if deadline is None:  # a test double without deadlines
        return ctx.client("route53", ROUTE53_REGION)
    quick = replace(deadline, max_attempts=min(deadline.max_attempts, QUICK_ATTEMPTS))
    return ctx.client("route53", ROUTE53_REGION, quick)


def try_read_status(ctx: Context, check_id: str, *, budget: float) -> dict[str, Any] | None:
    """As `read_status`, but None when still throttled once the budget is spent."""
    try:
        return read_status(ctx, check_id, budget=budget)
    except Exception as error:
        if is_throttled(error):
            return None
        raise


def poll_observations(ctx: Context, check_id: str) -> list[dict[str, Any]] | None:
    """One poll of a wait: the check's observations, or None when throttled (the wait's
    next round tries again). Paced by a slow per-run bucket shared by every thread."""
    bucket = ctx.memo(
        _POLL_BUCKET, lambda: TokenBucket(POLL_BURST, POLL_RATE, ctx.clock.now, ctx.clock.pause)
    )
    bucket.take()
    answer = try_read_status(ctx, check_id, budget=5.0)
    return None if answer is None else list(answer.get("HealthCheckObservations") or [])
