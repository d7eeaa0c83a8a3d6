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
        self,
        account: str,
        region: str,
        group: str,
        stream: str,
        events: Sequence[Event],
        *,
        create_group: bool = True,
    ) -> None: ...


class MotoLogs:
    """Writes straight into moto's CloudWatch Logs backend (same process, no HTTP)."""

    def __init__(self) -> None:
        # moto's log streams are plain lists: one writer at a time.
        self._lock = threading.Lock()

    def write(
        self,
        account: str,
        region: str,
        group: str,
        stream: str,
        events: Sequence[Event],
        *,
        create_group: bool = True,
    ) -> None:
        if not events:
            return
        from moto.logs.models import logs_backends

        backend = logs_backends[account][region]
        with self._lock:
            if group not in backend.groups:
                if not create_group:
                    return  # as on AWS: the lines are lost, the invocation still succeeds
                backend.ensure_log_group(group)  # Lambda creates a missing group, no retention
            backend.ensure_log_stream(group, stream)
            backend.put_log_events(
                group, stream, [{"timestamp": stamp, "message": text} for stamp, text in events]
            )


def role_may_create_log_groups(account: str, role_arn: str) -> bool:
    """Whether the execution role allows logs:CreateLogGroup, as Lambda needs to make a group.

    On AWS a function whose role lacks it (like the stack's least-privilege role)
    cannot recreate a deleted group; its log lines are dropped instead. This
    matters for `down`: an in-flight request must not resurrect a deleted group.
    """
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["global"]
    name = role_arn.rsplit("/", 1)[-1]
    role = next((r for r in backend.roles.values() if r.name == name), None)
    if role is None:
        return False
    documents = [str(doc) for doc in role.policies.values()]
    for policy in role.managed_policies.values():
        documents += [str(v.document) for v in policy.versions if v.is_default]
    return any(_allows_create_log_group(doc) for doc in documents)


def _allows_create_log_group(document: str) -> bool:
    import json
    import urllib.parse

    try:
        parsed = json.loads(urllib.parse.unquote(document))
    except ValueError:
        return False
    statements = parsed.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if action in ("*", "logs:*", "logs:CreateLogGroup") or (
                action.endswith("*") and "logs:CreateLogGroup".startswith(action[:-1])
            ):
                return True
    return False
