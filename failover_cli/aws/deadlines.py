"""How long one AWS call may take: per-attempt time-outs, attempts and a budget per call.

A regional control-plane outage looks, from outside, like endpoints that accept a
connection and never answer. botocore's defaults (60 s read time-out, 10 adaptive
attempts) then hold one call for ten minutes. Each command picks a `Deadline`
instead: read-only commands (`status`, `plan`, the first reads of `force-fail` and
`drill`) give up after a few seconds; mutating ones wait longer, but bounded.

The budget is enforced inside botocore's own retry loop (`needs-retry`), so cheap
failures (throttling, a refused connection) are still retried as often as the
attempts allow, while a call whose attempts keep hanging is not tried again once its
budget is spent: it ends within budget + one read time-out. Nothing here loops by hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

# Where the first attempt's start time is kept (the request context lives across attempts).
_STARTED = "failover_started"


@dataclass(frozen=True)
class Deadline:
    """botocore's Config for one kind of command, and the budget of one call."""

    name: str
    connect_timeout: float  # seconds to open a connection (refused/unrouted endpoints)
    read_timeout: float  # seconds without a byte of the answer, per attempt
    max_attempts: int  # the first attempt and the retries (botocore's total_max_attempts)
    call_budget: float  # seconds one call may take over all its attempts
    mode: str = "standard"

    def config(self) -> Any:
        from botocore.config import Config

        return Config(
            retries={"mode": self.mode, "total_max_attempts": self.max_attempts},  # type: ignore[arg-type]
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_pool_connections=20,
        )


# Read-only commands: a region that has not answered in a few seconds is reported
# as unreachable and the others are still shown (`status` returns within 15 s; its
# wall deadline does the giving up, these only bound each call).
READ_ONLY = Deadline("read-only", connect_timeout=4, read_timeout=8, max_attempts=5, call_budget=16)

# The reads before a mutating command changes anything (`up`'s and `down`'s observe
# phase): an unreachable region stops the command before any change, within about
# half a minute, yet a slow but answering endpoint (a loaded machine) is waited for.
# Attempts as many as a write's (throttling and 5xx are retried as before these deadlines):
# the call budget, not the attempt count, is what bounds a hang.
OBSERVE = Deadline(
    "observe",
    connect_timeout=5,
    read_timeout=30,
    max_attempts=10,
    call_budget=60,
    mode="adaptive",
)

# Mutating commands: botocore's own time-outs and attempts (throttling is absorbed by
# the adaptive mode), but a call whose attempts keep hanging stops after two minutes.
MUTATING = Deadline(
    "mutating",
    connect_timeout=10,
    read_timeout=60,
    max_attempts=11,
    call_budget=120,
    mode="adaptive",
)


def read_only(timeout: float) -> Deadline:
    """The deadline of `status --timeout`: the wall deadline per region gives up on a hang;
    each call may take that long per attempt (a slow but answering endpoint is waited for)."""
    return Deadline(
        "read-only",
        connect_timeout=min(READ_ONLY.connect_timeout, timeout / 2),
        read_timeout=timeout,
        max_attempts=READ_ONLY.max_attempts,
        call_budget=2 * timeout,
    )


def install_budget(client: Any, deadline: Deadline) -> None:
    """Stop botocore retrying a call once its budget is spent."""
    events = client.meta.events
    events.register("before-call.*.*", _stamp_start)
    events.register_first("needs-retry.*.*", _budget_check(deadline, client))


def _stamp_start(context: dict[str, Any] | None = None, **_: Any) -> None:
    if context is not None:
        context[_STARTED] = time.monotonic()


def _budget_check(deadline: Deadline, client: Any) -> Any:
    def check(
        request_dict: dict[str, Any] | None = None,
        response: Any = None,
        caught_exception: BaseException | None = None,
        operation: Any = None,
        **_: Any,
    ) -> None:
        context = (request_dict or {}).get("context") or {}
        started = context.get(_STARTED)
        if started is None:
            return
        if time.monotonic() - started < deadline.call_budget:
            return  # budget left: botocore decides whether to retry
        if caught_exception is not None:
            raise caught_exception
        if response is not None and _is_error(response):
            # The class botocore itself would raise for this answer (NotFoundException, not a
            # bare ClientError): callers catch the modeled class, and an answer that merely
            # came late (a loaded machine, throttling retried) must mean the same.
            parsed = response[1]
            error = parsed.get("Error") or {}
            code = context.get("error_code_override") or error.get("Code")
            raise client.exceptions.from_code(code)(parsed, getattr(operation, "name", ""))

    return check


def _is_error(response: Any) -> bool:
    http, parsed = response
    return bool(getattr(http, "status_code", 200) >= 300 and isinstance(parsed, dict))
