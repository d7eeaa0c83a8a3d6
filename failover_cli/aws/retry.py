"""Retry for eventual consistency (IAM propagation, Lambda "update in progress").

Throttling is botocore's job (adaptive retry mode); this helper covers the
errors AWS returns while a change it just accepted is still spreading. The
clock and sleep are injectable so tests never wait.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from failover_cli.errors import FailoverError, TimeoutExpired

T = TypeVar("T")


class Cancelled(FailoverError):
    """A wait was abandoned because the user interrupted the command."""


@dataclass
class Clock:
    """Time source and sleep, replaceable in tests; `cancel()` ends every wait early.

    On Ctrl-C the runner cancels the clock so that threads polling a replica or
    certificate stop at their next poll instead of holding the exit for minutes.
    """

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _cancelled: threading.Event = field(default_factory=threading.Event, repr=False)

    def cancel(self) -> None:
        self._cancelled.set()

    def pause(self, seconds: float) -> None:
        """Sleep, raising Cancelled if the clock is (or gets) cancelled meanwhile."""
        self._check()
        if self.sleep is time.sleep:
            self._cancelled.wait(seconds)  # wakes at once on cancel()
        else:
            self.sleep(seconds)  # an injected test clock
        self._check()

    def _check(self) -> None:
        if self._cancelled.is_set():
            raise Cancelled("Interrupted while waiting", hint="Re-run the same command.")


@dataclass
class Backoff:
    first: float = 1.0
    factor: float = 2.0
    cap: float = 15.0
    budget: float = 120.0
    jitter: Callable[[float], float] = field(default=lambda d: d * random.uniform(0.5, 1.0))


def retry(
    call: Callable[[], T],
    *,
    retryable: Callable[[Exception], bool],
    backoff: Backoff | None = None,
    clock: Clock | None = None,
    on_retry: Callable[[Exception, float], None] | None = None,
) -> T:
    """Run `call`, retrying while `retryable(error)` and the time budget lasts."""
    backoff = backoff or Backoff()
    clock = clock or Clock()
    deadline = clock.now() + backoff.budget
    delay = backoff.first
    while True:
        try:
            return call()
        except Exception as error:
            if not retryable(error):
                raise
            pause = backoff.jitter(delay)
            if clock.now() + pause > deadline:
                raise
            if on_retry:
                on_retry(error, pause)
            clock.pause(pause)
            delay = min(delay * backoff.factor, backoff.cap)


FIRST_POLL = 0.5  # seconds before a wait's second check; the pause doubles up to the interval


def wait_until(
    check: Callable[[], T | None],
    *,
    what: str,
    timeout: float,
    interval: float = 2.0,
    clock: Clock | None = None,
    hint: str | None = None,
    region: str | None = None,
    on_poll: Callable[[float], None] | None = None,
) -> T:
    """Poll `check` until it returns something truthy; raise TimeoutExpired after `timeout`.

    The first re-checks come sooner (FIRST_POLL, doubling up to `interval`): much of what
    is waited for settles within a second or two (a table, a version, a new check's first
    reports), and a fixed 5 or 15 s step would make each such wait that long."""
    clock = clock or Clock()
    start = clock.now()
    step = min(FIRST_POLL, interval)
    while True:
        result = check()
        if result:
            return result
        elapsed = clock.now() - start
        if elapsed >= timeout:
            raise TimeoutExpired(
                f"Timed out after {int(timeout)}s waiting for {what}", hint=hint, region=region
            )
        if on_poll:
            on_poll(elapsed)
        clock.pause(min(step, max(timeout - elapsed, 0.01)))
        step = min(step * 2, interval)
