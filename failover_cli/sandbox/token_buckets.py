"""Token buckets by key: how AWS meters a rate on its side, refusing what is over it.

A bucket holds `burst` tokens, refills at `rate` tokens a second of its clock, and each
request takes one; a request that finds it empty is refused (Throttling, 429) instead
of waiting. The sandbox keeps its own, apart from the product's client-side pacing
(aws/pacing.py): a bug in one must not hide in the emulator meant to catch it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable


class TokenBuckets:
    """One bucket per key; thread-safe (requests arrive on many threads)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, key: Hashable, burst: float, rate: float) -> bool:
        """Take a token from `key`'s bucket (full at first); False when it is empty."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        return allowed
