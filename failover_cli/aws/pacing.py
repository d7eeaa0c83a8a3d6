"""Client-side pacing for the AWS calls whose documented rate limit is far below botocore's.

Route 53 allows `GetHealthCheckStatus` a burst of 4 requests and then 1 per second
per account ("Quotas on Route 53 API requests", Route 53 Developer Guide). Drill,
`force-fail --wait`, rotate-secret and status each read several checks on short
intervals; without pacing they would spend the burst at once and then be throttled.
One token bucket per command (shared by every client and thread of it) spaces the
calls out instead, so readings arrive later but never fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TokenBucket:
    """`burst` calls at once, then `rate` per second; `take()` waits for a token."""

    burst: float
    rate: float
    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _tokens: float = field(init=False)
    _last: float = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._tokens = self.burst
        self._last = self.now()

    def _refill(self) -> None:
        current = self.now()
        self._tokens = min(self.burst, self._tokens + (current - self._last) * self.rate)
        self._last = current

    def take(self) -> float:
        """Wait until a call may be made; returns the seconds waited.

        The token is reserved at once (the balance may go below zero) and the caller
        sleeps off the debt: no loop, so a clock whose small steps vanish in float
        rounding cannot spin, and concurrent callers queue in order.
        """
        with self._lock:
            self._refill()
            self._tokens -= 1.0
            wait = max(0.0, -self._tokens / self.rate)
        if wait > 0:
            self.sleep(wait)
        return wait


# (service, operation) -> (burst, calls per second) the tool allows itself: a margin
# below AWS's (4, then 1 per second), so that calls which left on time but arrive
# bunched by the network do not cross the limit at AWS's end.
LIMITS: dict[tuple[str, str], tuple[float, float]] = {
    ("route53", "GetHealthCheckStatus"): (3, 0.9),
}


class Pacer:
    """A ClientFactory call hook: each paced operation waits for its own bucket.

    One per factory, so every client of a command shares it; it follows the command's
    clock (`use_clock`), so a test clock does not sleep and Ctrl-C ends the wait.
    """

    def __init__(
        self, now: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.use_clock(now, sleep)

    def use_clock(self, now: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.buckets = {
            key: TokenBucket(burst, rate, now, sleep) for key, (burst, rate) in LIMITS.items()
        }

    def __call__(self, service: str, _region: str, operation: str, _params: dict[str, Any]) -> None:
        bucket = self.buckets.get((service, operation))
        if bucket is not None:
            bucket.take()
