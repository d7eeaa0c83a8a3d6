"""The execution environments of one function version: who may run, who is warm, who is stale.

Pure bookkeeping under one condition variable; starting and stopping the
processes is the caller's (outside the lock, so a slow start never blocks
the other callers of the same function).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from failover_cli.sandbox.lambda_.process import WorkerProcess


@dataclass(eq=False)
class Worker:
    process: WorkerProcess
    fingerprint: tuple[Any, ...]
    stream: str  # its own log stream, as each Lambda execution environment has
    init_ms: float | None = None  # reported once, on the worker's first REPORT line
    last_used: float = field(default_factory=time.monotonic)


class Grant(Enum):
    WARM = "warm"  # run on `Lease.worker`
    START = "start"  # a slot is reserved: start a worker
    THROTTLED = "throttled"  # every slot stayed busy for the whole wait
    CLOSED = "closed"  # the sandbox is stopping


@dataclass(frozen=True)
class Lease:
    grant: Grant
    worker: Worker | None = None
    stale: tuple[Worker, ...] = ()  # idle workers of older code or configuration: dispose them


class WorkerPool:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._count = 0  # idle + busy + starting
        self._fingerprint: tuple[Any, ...] | None = None
        self._closed = False

    def acquire(self, fingerprint: tuple[Any, ...], limit: int, wait_s: float) -> Lease:
        """A warm worker of this fingerprint, or a slot to start one (waiting up to `wait_s`)."""
        deadline = time.monotonic() + wait_s
        stale: list[Worker] = []
        with self._cond:
            while True:
                if self._closed:
                    return Lease(Grant.CLOSED, stale=tuple(stale))
                if fingerprint != self._fingerprint:
                    stale += self._idle
                    self._count -= len(self._idle)
                    self._idle = []
                    self._fingerprint = fingerprint
                if self._idle:  # the most recently used: the warmest
                    return Lease(Grant.WARM, self._idle.pop(), tuple(stale))
                if self._count < limit:
                    self._count += 1
                    return Lease(Grant.START, stale=tuple(stale))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return Lease(Grant.THROTTLED, stale=tuple(stale))
                self._cond.wait(remaining)

    def release(self, worker: Worker | None, reusable: bool) -> Worker | None:
        """Give back a slot; a worker that cannot be reused is returned for disposal."""
        with self._cond:
            self._cond.notify()
            if (
                worker is not None
                and reusable
                and not self._closed
                and worker.fingerprint == self._fingerprint
            ):
                worker.last_used = time.monotonic()
                self._idle.append(worker)
                return None
            self._count -= 1
            return worker

    def take_idle(self, older_than: float | None = None) -> list[Worker]:
        """Remove idle workers (all, or those unused since `older_than`) for disposal."""
        with self._cond:
            taken = [w for w in self._idle if older_than is None or w.last_used < older_than]
            self._idle = [w for w in self._idle if w not in taken]
            self._count -= len(taken)
            return taken

    def close(self) -> list[Worker]:
        """No more leases; the idle workers are returned for disposal."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        return self.take_idle()
