"""Timed background work tied to the sandbox's lifetime, on the emulated clock.

Delays are in *emulated* seconds: with `time_scale=10` a 30 s health-check
interval fires every 3 real seconds. One thread sleeps until the next job is
due (no polling), so an idle sandbox costs no CPU. Jobs run one at a time on
that thread: keep them short, or hand long work to a thread of your own.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Job:
    """A scheduled callback; `cancel()` stops it (and its repeats)."""

    callback: Callable[[], object]
    every: float | None  # real seconds between repeats, None for a one-shot
    cancelled: bool = field(default=False)

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    def __init__(self, time_scale: float = 1.0, clock: Callable[[], float] = time.monotonic):
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale
        self._clock = clock
        self._queue: list[tuple[float, int, Job]] = []
        self._order = itertools.count()  # ties run in submission order
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def real_seconds(self, emulated_seconds: float) -> float:
        return max(0.0, emulated_seconds) / self.time_scale

    def call_later(self, seconds: float, callback: Callable[[], object]) -> Job:
        """Run `callback` once, `seconds` emulated seconds from now."""
        job = Job(callback, every=None)
        self._push(self._clock() + self.real_seconds(seconds), job)
        return job

    def call_every(
        self, seconds: float, callback: Callable[[], object], *, first_after: float | None = None
    ) -> Job:
        """Run `callback` every `seconds` emulated seconds; the first run after `first_after`."""
        if seconds <= 0:
            raise ValueError("period must be positive")
        job = Job(callback, every=self.real_seconds(seconds))
        delay = seconds if first_after is None else first_after
        self._push(self._clock() + self.real_seconds(delay), job)
        return job

    def start(self) -> None:
        with self._wakeup:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="sandbox-scheduler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread; jobs still queued are dropped."""
        with self._wakeup:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._queue.clear()
            self._wakeup.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _push(self, due: float, job: Job) -> None:
        with self._wakeup:
            heapq.heappush(self._queue, (due, next(self._order), job))
            self._wakeup.notify_all()

    def _next_due_job(self) -> Job | None:
        """Block until a job is due (or stop); pop and return it."""
        with self._wakeup:
            while not self._stopping:
                if not self._queue:
                    self._wakeup.wait()
                    continue
                due, _, job = self._queue[0]
                if job.cancelled:
                    heapq.heappop(self._queue)
                    continue
                delay = due - self._clock()
                if delay > 0:
                    self._wakeup.wait(timeout=delay)
                    continue
                heapq.heappop(self._queue)
                if job.every is not None:
                    # Fixed rate from the previous due time; skip beats missed while busy.
                    next_due = due + job.every
                    now = self._clock()
                    if next_due <= now:
                        next_due = now + job.every
                    heapq.heappush(self._queue, (next_due, next(self._order), job))
                return job
            return None

    def _run(self) -> None:
        while (job := self._next_due_job()) is not None:
            if job.cancelled:
                continue
            try:
                job.callback()
            except Exception:  # one failing job must not stop the others
                log.exception("sandbox background job failed")
