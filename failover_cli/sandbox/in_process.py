"""The sandbox's own requests to itself, made in this process.

Two kinds:

- API Gateway invoking a function goes through the Lambda API exactly as a client's
  `Invoke` does: the same interceptors in the same order (the runtime, its throttles,
  its pending versions), and moto behind them (`request`). It is signed by the
  sandbox's internal key (never held to `--enforce-policy`) and carries the internal
  user agent (no outage gates it: AWS's own traffic), as the loopback clients' do.
- A Route 53 health checker's GET of an endpoint the sandbox serves (`plain_request`):
  the same headers it sent over loopback, through the whole layer (host guard, outages,
  the API's throttle, resource policy and function).

Only the transport differs. Over loopback, every probe and every app request paid for
one or two more HTTP requests: a client writing it, a server thread parsing it; over
half of the sandbox's CPU for a probe, which at a high time scale adds up to a busy
core. Here the request is built as the server would have parsed it and handed to the
layer directly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.outage_regions import INTERNAL_AGENT
from failover_cli.sandbox.requests import INTERNAL_ACCESS_KEY, AwsRequest
from failover_cli.sandbox.responses import Response


class NoAnswerInTime(Exception):
    """The call did not finish within its time limit (it goes on in the background)."""


def request(
    context: SandboxContext,
    *,
    service: str,
    region: str,
    account_id: str,
    method: str,
    path: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> AwsRequest:
    """The request a loopback client of `service` in `region` would have sent, as parsed.

    `path` is the decoded path (WSGI's PATH_INFO), e.g. an ARN with its colons as they are.
    """
    from werkzeug.datastructures import Headers

    day = time.strftime("%Y%m%d", time.gmtime())
    credential = f"{INTERNAL_ACCESS_KEY}/{day}/{region}/{service}/aws4_request"
    sent = Headers(dict(headers or {}))
    sent["User-Agent"] = INTERNAL_AGENT
    sent["X-Moto-Account-Id"] = account_id
    sent["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=in-process"
    )
    # Host: 127.0.0.1:PORT, as a loopback client's
    return _parsed(context.endpoint, method, path, sent, body, "application/json")


def plain_request(endpoint: str, *, host: str, path: str, headers: Mapping[str, str]) -> AwsRequest:
    """A GET of `path` (query string included) on `host`, sent to the sandbox at `endpoint`
    with `headers` and nothing else: no signature, no user agent of the sandbox's."""
    from werkzeug.datastructures import Headers

    sent = Headers(dict(headers))
    sent["Host"] = host
    return _parsed(endpoint, "GET", path, sent, b"", None)


def _parsed(
    endpoint: str, method: str, path: str, headers: Any, body: bytes, content_type: str | None
) -> AwsRequest:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(
        path=path,
        base_url=endpoint,
        method=method,
        data=body,
        content_type=content_type,
        headers=headers,
        environ_overrides={"REMOTE_ADDR": "127.0.0.1"},
    ).get_environ()
    return AwsRequest.from_environ(environ)


class Pending:
    """A request running through the layer on a thread of its own, so that its caller can
    give up on time, as a client with a read timeout does; the request itself finishes in
    the background (a function runs to its own timeout)."""

    def __init__(self, dispatch: Callable[[AwsRequest], Response], made: AwsRequest):
        self.finished = threading.Event()
        self._outcome: dict[str, Any] = {}
        self._dispatch = dispatch
        self._made = made
        threading.Thread(target=self._run, name="sandbox-in-process", daemon=True).start()

    def _run(self) -> None:
        try:
            self._outcome["response"] = self._dispatch(self._made)
        except BaseException as error:  # handed to the caller by result()
            self._outcome["error"] = error
        finally:
            self.finished.set()

    def result(self) -> Response:
        """The answer, once `finished`; raises what the layer raised (`Unanswered`, a bug)."""
        if "error" in self._outcome:
            raise self._outcome["error"]
        response: Response = self._outcome["response"]
        return response


def call(context: SandboxContext, made: AwsRequest, *, timeout_s: float) -> Response:
    """Run `made` through the layer; NoAnswerInTime after `timeout_s` seconds.

    The layer's `Unanswered` and bugs reach the caller.
    """
    pending = Pending(context.layer.dispatch, made)
    if not pending.finished.wait(timeout_s):
        raise NoAnswerInTime(f"no answer within {timeout_s:g} s")
    return pending.result()
