"""One Route 53 health checker request: where it goes, what it sends, how it is judged.

The sandbox never leaves loopback. Targets it serves itself (REST API hosts
`*.execute-api.*.amazonaws.com`, custom domain names, `*.localhost`, or its own
port on a loopback IPAddress) are requested from the sandbox with the Host
header Route 53 would send; every other target is reported the way Route 53
reports an endpoint it cannot reach, without any connection attempt.

The request is handed to the sandbox's layer in this process (in_process.py), with the
headers it used to send over loopback: the same interceptors answer it (host guard,
outages, the API's throttle and resource policy, the function), without an HTTP client
and a server thread per probe, which at a high time scale kept a core busy. An outage
that holds a connection holds this request too (no answer: timed out), one that resets
connections is a connection Route 53 could not make.

Judged as Route 53 does: connected within 4 s, answered within 2 s more (of the
endpoint's own time: what a starved machine kept the sandbox waiting is not counted,
starvation.py), a 2xx/3xx status, and for *_STR_MATCH the search string in the first 5,120
bytes of the body. TLS is not emulated: HTTPS checks talk plain HTTP to the
sandbox (which is what serves those hosts).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from failover_cli.sandbox.outage_regions import Mode, Unanswered
from failover_cli.sandbox.starvation import STALL, StallClock

if TYPE_CHECKING:
    from failover_cli.sandbox.requests import AwsRequest
    from failover_cli.sandbox.responses import Response

Dispatch = Callable[["AwsRequest"], "Response"]
log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 4.0  # Route 53: the TCP connection within four seconds
RESPONSE_TIMEOUT_S = 2.0  # ... and the answer within two seconds after that
# A starved machine may stretch those two seconds (starvation.py), up to this many times:
# a hung endpoint is still said to be one within bounded time, however busy the machine.
MOST_STRETCH = 10.0
SEARCH_BYTES = 5120
HTTP_TYPES = frozenset({"HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH"})
PROBED_TYPES = HTTP_TYPES | {"TCP"}
USER_AGENT = "Amazon-Route53-Health-Check-Service (ref {ref}; report http://amzn.to/1vsZADi)"
UNREACHABLE = (
    "Failure: Connection timed out. The endpoint or the internet connection is down, or "
    "requests are being blocked by your firewall. See "
    "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-router-firewall-rules.html"
)
RESPONSE_TIMED_OUT = (
    "Failure: Response timed out. The endpoint did not respond within 2 seconds after the "
    "connection was established."
)


@dataclass(frozen=True)
class Target:
    """The endpoint part of a HealthCheckConfig."""

    type: str
    fqdn: str | None
    ip_address: str | None
    port: int
    resource_path: str | None
    search_string: str | None = None

    @property
    def host_header(self) -> str:
        """Route 53's Host header: the name (or IP), plus the port unless it is the default."""
        host = (self.fqdn or self.ip_address or "").rstrip(".")
        default = 443 if self.type.startswith("HTTPS") else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def path(self) -> str:
        path = self.resource_path or "/"
        return path if path.startswith("/") else "/" + path


@dataclass(frozen=True)
class ProbeResult:
    success: bool
    status: str  # the StatusReport text


def served_by_sandbox(target: Target, sandbox_port: int, serves: Callable[[str], bool]) -> bool:
    """Whether Route 53's request for `target` would land on this sandbox."""
    if target.ip_address:
        # Route 53 connects to IPAddress when one is given, whatever the name says.
        try:
            loopback = ipaddress.ip_address(target.ip_address).is_loopback
        except ValueError:
            return False
        return loopback and target.port == sandbox_port
    host = (target.fqdn or "").rstrip(".").lower()
    return bool(host) and serves(host)


def probe(
    target: Target,
    sandbox: tuple[str, int],
    serves: Callable[[str], bool],
    dispatch: Dispatch,
    *,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    response_timeout: float = RESPONSE_TIMEOUT_S,
    source_ip: str | None = None,
    stall: StallClock = STALL,
) -> ProbeResult:
    """Run one check of `target`; `sandbox` is the (host, port) the sandbox listens on and
    `dispatch` runs a request through its layer (`Layer.dispatch`).

    `source_ip` is the checker's address: sent as `X-Forwarded-For`, which the
    sandbox takes as the caller's address (the probe itself comes from loopback).
    """
    if not served_by_sandbox(target, sandbox[1], serves):
        return ProbeResult(False, UNREACHABLE)
    resolved = f" Resolved IP: {sandbox[0]}." if not target.ip_address else ""
    if target.type == "TCP":
        try:
            socket.create_connection(sandbox, timeout=connect_timeout).close()
        except OSError:
            return ProbeResult(False, UNREACHABLE)
        return ProbeResult(True, "Success: TCP connection established." + resolved)
    from failover_cli.sandbox import in_process

    headers = {  # what http.client sent over loopback, Route 53's user agent among them
        "Accept-Encoding": "identity",
        "User-Agent": USER_AGENT.format(ref=uuid.uuid4()),
        "Accept": "*/*",
    }
    if source_ip:
        headers["X-Forwarded-For"] = source_ip
    endpoint = f"http://{sandbox[0]}:{sandbox[1]}"
    made = in_process.plain_request(
        endpoint, host=target.host_header, path=target.path, headers=headers
    )
    pending = in_process.Pending(dispatch, made)
    if not answers_within(pending.finished, response_timeout, stall):
        return ProbeResult(False, RESPONSE_TIMED_OUT)
    try:
        response = pending.result()
    except Unanswered as unanswered:
        if unanswered.mode is Mode.HANG:  # held: no answer within the time Route 53 gives
            answers_within(threading.Event(), response_timeout, stall)
            return ProbeResult(False, RESPONSE_TIMED_OUT)
        return ProbeResult(False, UNREACHABLE)  # reset
    except Exception:  # a bug in the layer: the server answers 500, like moto does
        log.exception("sandbox layer failed on a health checker's GET of %s", target.path)
        return judge(target, 500, "Internal Server Error", b"", resolved)
    reason = response.status_line.partition(" ")[2]
    return judge(target, response.status, reason, response.body[:SEARCH_BYTES], resolved)


def answers_within(answered: threading.Event, limit: float, stall: StallClock) -> bool:
    """Whether `answered` is set within `limit` seconds of the endpoint's own time: wall
    time less what the sandbox spent waiting for this machine's CPU meanwhile (never more
    than MOST_STRETCH x `limit` of wall time)."""
    stall.start()
    started, stalled_before = time.monotonic(), stall.stalled()
    while True:
        waited = time.monotonic() - started
        own = waited - (stall.stalled() - stalled_before)
        left = min(limit - own, MOST_STRETCH * limit - waited)
        if left <= 0:
            return False
        if answered.wait(min(left, 0.2)):
            return True


def judge(target: Target, status: int, reason: str, head: bytes, resolved: str = "") -> ProbeResult:
    """Route 53's verdict on an HTTP answer (`head`: the body's first 5,120 bytes)."""
    code = f"HTTP Status Code {status}, {reason or 'Unknown'}."
    if not 200 <= status < 400:
        return ProbeResult(False, f"Failure: {code}{resolved}")
    if target.type.endswith("_STR_MATCH"):
        wanted = (target.search_string or "").encode()
        if wanted not in head[:SEARCH_BYTES]:
            return ProbeResult(
                False,
                "Failure: Search string not found in the first 5120 bytes of the response "
                f"body. {code}{resolved}",
            )
    return ProbeResult(True, f"Success: {code}{resolved}")
