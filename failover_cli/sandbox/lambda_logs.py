"""What a function writes to CloudWatch Logs, named and shaped as Lambda does it.

Each execution environment (worker) writes to its own stream
`YYYY/MM/DD/[$LATEST]<32 hex>` in `/aws/lambda/<name>`; the group is created
when missing, as Lambda does. Lines: INIT_START, START, the handler's output
(one event per line), the timeout notice, END, REPORT.
"""

from __future__ import annotations

import base64
import math
import platform
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

TAIL_BYTES = 4096  # X-Amz-Log-Result carries the last 4 KB of an invocation's log

Event = tuple[int, str]  # (epoch milliseconds, message)


def now_ms() -> int:
    return int(time.time() * 1000)


def stream_name(version: str, when: float | None = None) -> str:
    day = time.strftime("%Y/%m/%d", time.gmtime(when))
    return f"{day}/[{version}]{uuid.uuid4().hex}"


def iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def init_start_line() -> str:
    return f"INIT_START Runtime Version: python:{platform.python_version()}.sandbox"


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def timeout_line(request_id: str, timeout_s: float) -> str:
    return f"{iso_now()} {request_id} Task timed out after {timeout_s:.2f} seconds"


def report_line(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_used_mb: int | None,
    init_ms: float | None = None,
    status: str | None = None,
) -> str:
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {max(1, math.ceil(duration_ms))} ms",
        f"Memory Size: {memory_mb} MB",
    ]
    if max_used_mb is not None:
        parts.append(f"Max Memory Used: {max_used_mb} MB")
    if init_ms is not None:
        parts.append(f"Init Duration: {init_ms:.2f} ms")
    if status:
        parts.append(f"Status: {status}")
    return "\t".join(parts) + "\t"


@dataclass
class InvocationLog:
    """The events of one invocation (and any init before it), in order."""

    events: list[Event] = field(default_factory=list)

    def add(self, message: str, stamp: int | None = None) -> None:
        stamp = now_ms() if stamp is None else stamp
        # PutLogEvents wants chronological order: never step back in time.
        if self.events and stamp < self.events[-1][0]:
            stamp = self.events[-1][0]
        self.events.append((stamp, message))

    def extend(self, events: Sequence[Sequence[Any]]) -> None:
        """Add a worker's `log` frame: [[epoch ms, message], ...]."""
        for stamp, message in events:
            self.add(str(message), int(stamp))

    def tail(self) -> str:
        """Base64 of the last 4 KB, for `LogType=Tail`."""
        text = "".join(f"{message}\n" for _, message in self.events).encode()
        return base64.b64encode(text[-TAIL_BYTES:]).decode()


class LogSink(Protocol):
    def write(
        self, account: str, region: str, group: str, stream: str, events: Sequence[Event]
    ) -> None: ...


class MotoLogs:
    """Writes straight into moto's CloudWatch Logs backend (same process, no HTTP)."""

    def __init__(self) -> None:
        # moto's log streams are plain lists: one writer at a time.
        self._lock = threading.Lock()

    def write(
        self, account: str, region: str, group: str, stream: str, events: Sequence[Event]
    ) -> None:
        if not events:
            return
        from moto.logs.models import logs_backends

        backend = logs_backends[account][region]
        with self._lock:
            backend.ensure_log_group(group)  # Lambda creates a missing group, no retention
            backend.ensure_log_stream(group, stream)
            backend.put_log_events(
                group, stream, [{"timestamp": stamp, "message": text} for stamp, text in events]
            )
