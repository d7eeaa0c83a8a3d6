"""Stage throttling: past a stage's rate and burst, API Gateway answers 429 itself.

API Gateway meters each stage with a token bucket
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html):
the bucket holds `throttlingBurstLimit` tokens, refills at `throttlingRateLimit`
tokens a second, and each request takes one; a request that finds the bucket
empty gets `429 {"message": "Too Many Requests"}` and the integration never
runs. The sandbox honours the stage's default method settings (`*/*`, what
`api.throttle` sets), per API and stage, in emulated seconds: the time scale
makes the health checkers probe that much faster, so the bucket refills that
much faster too, and the checkers use the same share of the rate as on AWS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from failover_cli.sandbox.token_buckets import TokenBuckets

ALL_METHODS = "*/*"
Key = tuple[str, str, str, str]  # (account, region, api id, stage)


def emulated_clock(time_scale: float) -> Callable[[], float]:
    """Seconds of emulated time (only differences count)."""
    return lambda: time.monotonic() * time_scale


class StageThrottles:
    """One token bucket per stage; thread-safe (requests arrive on many threads)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._buckets = TokenBuckets(clock)

    def allow(self, key: Key, method_settings: Mapping[str, Any] | None) -> bool:
        """Take a token for one request to the stage; False when it must be throttled."""
        limits = _limits(method_settings)
        if limits is None:
            return True
        rate, burst = limits
        return self._buckets.take(key, burst, rate)


def _limits(method_settings: Mapping[str, Any] | None) -> tuple[float, float] | None:
    """(rate, burst) of the stage's default method settings, or None when not throttled."""
    settings = (method_settings or {}).get(ALL_METHODS) or {}
    rate, burst = settings.get("throttlingRateLimit"), settings.get("throttlingBurstLimit")
    if rate is None or burst is None:
        return None
    return float(rate), float(burst)
