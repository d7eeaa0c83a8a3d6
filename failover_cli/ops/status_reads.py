"""How `status` waits for its reads: one wall deadline, and which region did not answer.

Every read runs on its own daemon thread (`aws.outage.start`), so a read stuck on a
region that does not answer never holds the command's exit. `get` waits for an
answer until the deadline (stretched while other reads keep coming back: a slow
machine or network is not an outage); a read not back by then, or failed as an outage (no
connection, time-outs, 5xx only), yields UNREAD and notes its region as
unreachable with a sentence. Other AWS errors (access denied...) are translated
here, naming region and IAM action, and raised as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, as_completed
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from failover_cli.aws.errors import translate
from failover_cli.aws.outage import outage_region, start
from failover_cli.ops.status_model import FunctionView

T = TypeVar("T")
MAX_STRETCH = 2.5  # a slow (not dead) stack may stretch the wall deadline this many times


class _Outage(Exception):
    """A read found its region unreachable (raised in a worker, noted by `_Gather.get`)."""

    def __init__(self, region: str, detail: str) -> None:
        super().__init__(detail)
        self.region = region
        self.detail = detail


class DeadlineReads:
    """Reads started at once and awaited until one shared deadline."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.last_answer = self.started  # when a read last came back (any region)
        self.unreachable: dict[str, str] = {}  # region -> why, the first sentence found

    def submit(
        self,
        fn: Callable[..., T],
        *args: Any,
        region: str | None = None,
        service: str | None = None,
    ) -> Future[T]:
        """Run a read on a daemon thread (a hung one never holds the exit)."""

        def call() -> T:
            try:
                answer = fn(*args)
                self.last_answer = time.monotonic()
                return answer
            except _Outage:
                raise  # a read this one waited on already named the outage
            except Exception as error:
                where = outage_region(error, default=region)
                if where:
                    raise _Outage(where, _failed(error)) from error
                # Name the region and IAM action here: re-raised in the main thread
                # the error no longer says where it came from.
                translated = translate(error, region=region, service=service)
                if translated is None or translated is error:
                    raise
                raise translated from error

        return start(call, name="status")

    def get(self, future: Future[Any], region: str, *, grace: float = 0.0) -> Any:
        """The read's answer, or UNREAD when it is not back by the deadline (+ `grace`) or
        its region is out; the region is then noted as unreachable. No grace for a region
        already found out: its probe waits on its own API's id, which is not coming."""
        while True:
            extra = 0.0 if region in self.unreachable else grace
            try:
                return future.result(timeout=max(self.deadline + extra - time.monotonic(), 0.0))
            except FutureTimeout:
                if not self._still_answering():
                    self._note(region, f"no answer in {self.timeout:g}s")
                    return UNREAD
                self.deadline += 1.0  # everything is slow, nothing is out: wait a little more
            except _Outage as outage:
                self._note(outage.region, outage.detail)
                return UNREAD

    def _still_answering(self) -> bool:
        """Reads kept coming back lately (a slow network or machine, not an outage), and
        the wait is still under MAX_STRETCH times the deadline."""
        now = time.monotonic()
        recent = now - self.last_answer < self.timeout / 2
        return recent and now - self.started < MAX_STRETCH * self.timeout

    def _note(self, region: str, why: str) -> None:
        self.unreachable.setdefault(region, why)

    def _any_secret(
        self, functions: dict[str, Future[tuple[FunctionView, str | None]]], first: str
    ) -> str:
        """The health-checker secret from `first`'s function, else any region's that
        answers before the deadline ("" when none does)."""
        order = [functions[first], *(f for r, f in functions.items() if r != first)]
        remaining = max(self.deadline - time.monotonic(), 0.0)
        try:
            own = order[0].result(timeout=remaining)[1]
            if own:
                return own
        except Exception:  # unread: try the others
            pass
        try:
            for future in as_completed(order[1:], timeout=max(self.deadline - time.monotonic(), 0)):
                if answered(future) and (secret := future.result()[1]):
                    return secret
        except FutureTimeout:
            pass
        return ""


class Unread:
    """A read that did not come back in time (distinct from None, a valid answer)."""


UNREAD = Unread()


def answered(future: Future[Any]) -> bool:
    return future.done() and future.exception() is None


def _failed(error: BaseException) -> str:
    """An outage in a few words: the operation and botocore's first line."""
    operation = getattr(error, "operation_name", "") or ""
    text = (str(error).splitlines() or [type(error).__name__])[0][:160].rstrip(".")
    return f"{operation} failed: {text}" if operation and operation not in text else text
