"""Telling "this region did not answer" apart from any other AWS error, and not waiting on it.

An outage reaches the tool in three shapes: no answer at all (time-outs), no
connection (refused, reset), or answers that are all 5xx (ServiceUnavailable,
InternalFailure). Once botocore's attempts or the call's budget are spent, each
of them means the same to an operator: the region's endpoints are unreachable
now. Permission errors, missing resources and throttling are answers, not
outages.

`start` runs a read on a daemon thread and returns its Future, so a caller can
stop waiting for a region at a wall deadline; a thread still stuck in a call
then never holds the process's exit (ThreadPoolExecutor's workers would).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from failover_cli.aws.errors import REGION_KEY, SERVICE_KEY, error_code
from failover_cli.errors import FailoverError

T = TypeVar("T")

# Answers that mean "the service is not serving", as opposed to "you asked wrongly".
_OUTAGE_CODES = frozenset(
    {
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "InternalServiceError",
        "ServiceException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


class Unreachable(FailoverError):
    """A region's AWS endpoints did not answer within the command's deadline."""

    def __init__(self, region: str, sentence: str, *, hint: str | None = None) -> None:
        super().__init__(sentence, hint=hint, region=None)
        self.unreachable_region = region


def outage_region(error: BaseException, default: str | None = None) -> str | None:
    """The region whose endpoints failed to answer, if `error` is an outage; else None.

    Follows a translated error's cause to botocore's own exception, which the client
    factory stamped with the region the call really went to.
    """
    from botocore import exceptions as bx

    seen: BaseException | None = error
    for _ in range(5):  # a short chain: translated error -> botocore error
        if seen is None:
            return None
        if isinstance(seen, Unreachable):
            return seen.unreachable_region
        if isinstance(seen, FutureTimeout | TimeoutError):
            return default
        if isinstance(seen, bx.ClientError):
            response: dict[str, Any] = getattr(seen, "response", {}) or {}
            status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            code = error_code(seen)
            if status >= 500 or code in _OUTAGE_CODES:
                return str(response.get("ResponseMetadata", {}).get(REGION_KEY) or default or "")
            return None
        if isinstance(seen, bx.EndpointConnectionError | bx.HTTPClientError | bx.ConnectionError):
            return str(getattr(seen, "aws_region", None) or default or "") or None
        seen = seen.__cause__
    return None


def outage_service(error: BaseException) -> str | None:
    """The service of the call that found the outage (for "Lambda did not answer")."""
    seen: BaseException | None = error
    while seen is not None:
        service = getattr(seen, "aws_service", None)
        if service:
            return str(service)
        response = getattr(seen, "response", None) or {}
        if isinstance(response, dict) and response.get("ResponseMetadata", {}).get(SERVICE_KEY):
            return str(response["ResponseMetadata"][SERVICE_KEY])
        seen = seen.__cause__
    return None


def no_answer(region: str, seconds: float, what: str = "its AWS endpoints") -> str:
    """The sentence every command uses for a region that did not answer."""
    return f"{region} is unreachable: {what} gave no answer within {seconds:g}s"


def start(work: Callable[[], T], *, name: str = "failover-read") -> Future[T]:
    """Run `work` on a daemon thread; its Future (waiting on it can be given up on)."""
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(work())
        except BaseException as error:  # handed to whoever waits on the future
            future.set_exception(error)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def answer_within(work: Callable[[], T], seconds: float, *, region: str, what: str) -> T:
    """`work()`'s answer, or Unreachable when it is an outage or takes over `seconds`."""
    future = start(work)
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        raise Unreachable(region, no_answer(region, seconds, what)) from None
    except Exception as error:
        found = outage_region(error)
        if found is None:
            raise
        where = found or region
        detail = f"{no_answer(where, seconds, what)} ({_short(error)})"
        raise Unreachable(where, detail) from error


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:160].rstrip(".")
