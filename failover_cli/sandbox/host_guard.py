"""Refuse what a web page could send the sandbox: DNS rebinding and cross-origin requests.

The sandbox listens on loopback on a predictable port and runs the code of any
zip it is given, so a page open in the user's browser must not be able to
drive it. A page on `evil.example` has two ways in:

- DNS rebinding: `evil.example` starts resolving to 127.0.0.1, the browser
  treats the sandbox as the page's own origin, and requests arrive with
  `Host: evil.example`. So the Host must be one the sandbox answers for:
  `127.0.0.1`, `localhost`, `*.localhost`, an AWS host (`*.amazonaws.com`, as
  `FAILOVER_RESOLVE` sends the tool's probes) or a name in one of the
  sandbox's hosted zones (a custom domain it serves). An attacker cannot make
  their own name look like any of these.
- Cross-origin requests (`fetch("http://127.0.0.1:4566/...")` from the page):
  browsers add `Origin`. Only a same-origin request passes: an Origin exactly
  the request's own (`http://`, its Host, the sandbox's port), so the watch
  page drives the sandbox and a function's page (`*.localhost`, a custom
  domain) calls its own API, but a function's page can never reach the
  sandbox's own host (`/_sandbox/outage`) nor another page's. moto's blanket
  CORS allowance is switched off (server.py), so no answer lets a page read it
  either.

Signed or not, a refused request never reaches moto or a feature.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit

from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_response

# (account id, host name) -> whether the sandbox serves that name (a custom domain).
ServedName = Callable[[str, str], bool]

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost"})
LOCALHOST_SUFFIX = ".localhost"
AWS_SUFFIX = ".amazonaws.com"


class HostGuard(Interceptor):
    """Wants exactly the requests to refuse, and answers them 403 without forwarding."""

    def __init__(self, port: int, served: ServedName):
        self.port = port
        self.served = served

    def wants(self, request: AwsRequest) -> bool:
        return self.refusal(request) is not None

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        reason = self.refusal(request) or "refused"
        return json_response({"message": f"sandbox: {reason}"}, status=403)

    def refusal(self, request: AwsRequest) -> str | None:
        """Why the request is refused, or None when it may go on."""
        host = request.hostname.rstrip(".")
        if not (is_loopback(host) or host.endswith(AWS_SUFFIX) or self._served(request, host)):
            return (
                f"Host {host!r} is not this sandbox's; use 127.0.0.1, localhost, "
                "*.localhost or an AWS host name"
            )
        origin = request.headers.get("origin")
        if origin is not None and not self.own_origin(origin, host):
            return (
                f"Origin {origin!r} is not the origin of {host!r}; cross-origin requests "
                "are refused"
            )
        return None

    def own_origin(self, origin: str, host: str) -> bool:
        """`http://<host>:<this port>`: the origin of the page the request's Host serves
        (the watch page's for the sandbox's own host), and nothing wider."""
        try:
            parts = urlsplit(origin)
            port = parts.port
        except ValueError:
            return False
        return (
            parts.scheme == "http"
            and (parts.hostname or "").lower().rstrip(".") == host.lower()
            and port == self.port
            and parts.path in ("", "/")
        )

    def _served(self, request: AwsRequest, host: str) -> bool:
        if not host or _is_ip(host):
            return False
        return self.served(request.account_id, host)


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_NAMES or host.endswith(LOCALHOST_SUFFIX)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
