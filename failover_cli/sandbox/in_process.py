"""The sandbox's own calls from one service to another, made in this process.

API Gateway invoking a function goes through the Lambda API exactly as a client's
`Invoke` does: the same interceptors in the same order (the runtime, its throttles, its
pending versions), and moto behind them. Only the transport differs. Sent over loopback
with botocore, every health-checker probe and every app request paid for a second HTTP
request: a client signing it, a server thread parsing it; over half of the sandbox's CPU
for a probe, which at a high time scale adds up to a busy core. Here the request is
built as the server would have parsed it and handed to the layer directly.

It is signed by the sandbox's internal key (never held to `--enforce-policy`) and
carries the internal user agent (no outage gates it: AWS's own traffic), as the
loopback clients' requests do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
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
    from werkzeug.test import EnvironBuilder

    day = time.strftime("%Y%m%d", time.gmtime())
    credential = f"{INTERNAL_ACCESS_KEY}/{day}/{region}/{service}/aws4_request"
    sent = Headers(dict(headers or {}))
    sent["User-Agent"] = INTERNAL_AGENT
    sent["X-Moto-Account-Id"] = account_id
    sent["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=in-process"
    )
    environ = EnvironBuilder(
        path=path,
        base_url=context.endpoint,  # Host: 127.0.0.1:PORT, as a loopback client's
        method=method,
        data=body,
        content_type="application/json",
        headers=sent,
        environ_overrides={"REMOTE_ADDR": "127.0.0.1"},
    ).get_environ()
    return AwsRequest.from_environ(environ)


def call(context: SandboxContext, made: AwsRequest, *, timeout_s: float) -> Response:
    """Run `made` through the layer; NoAnswerInTime after `timeout_s` seconds.

    The call runs on a thread of its own so the caller can give up on time, as a client
    with a read timeout does; the call itself finishes in the background (a function
    runs to its own timeout). The layer's `Unanswered` and bugs reach the caller.
    """
    finished = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["response"] = context.layer.dispatch(made)
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error
        finally:
            finished.set()

    threading.Thread(target=run, name="sandbox-in-process", daemon=True).start()
    if not finished.wait(timeout_s):
        raise NoAnswerInTime(f"no answer within {timeout_s:g} s")
    if "error" in outcome:
        raise outcome["error"]
    response: Response = outcome["response"]
    return response
