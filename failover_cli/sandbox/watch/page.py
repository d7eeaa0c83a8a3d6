"""The watch page at `/_sandbox/`: a stack's `/hello` every second, live through a failover.

Routes (on the sandbox's own host only, 127.0.0.1 or localhost, unsigned):

- `GET /_sandbox/` and its static files: the page (`static/`);
- `GET /_sandbox/api/stacks`: the stacks found, with domain and base path;
- `GET /_sandbox/api/probe?stack=NAME`: one `/hello` through the custom
  domain, made server-side (see `probe`), plus each region's health.

The browser only ever talks to this origin: the domain's host differs from the
page's and `/hello` needs the health-checker secret, which stays server-side.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response
from failover_cli.sandbox.watch.probe import Watcher

log = logging.getLogger(__name__)

PREFIX = "/_sandbox"
PAGE_HOSTS = frozenset({"127.0.0.1", "localhost"})
# The only files served: a fixed list, so no path can reach outside static/.
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "watch.js": "text/javascript; charset=utf-8",
    "watch.css": "text/css; charset=utf-8",
}


class WatchPage(Interceptor):
    def __init__(self, watcher: Watcher, time_scale: float):
        self.watcher = watcher
        self.time_scale = time_scale

    def wants(self, request: AwsRequest) -> bool:
        return (
            request.hostname in PAGE_HOSTS
            and (request.path == PREFIX or request.path.startswith(PREFIX + "/"))
            and "authorization" not in request.headers  # an AWS call is never ours
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        if request.method != "GET":
            return _json({"error": "method not allowed"}, status=405)
        route = request.path[len(PREFIX) :]
        if route == "":
            return _redirect(f"{PREFIX}/")
        if route == "/api/stacks":
            return self._stacks()
        if route == "/api/probe":
            stack = parse_qs(request.query).get("stack", [""])[0]
            if not stack:
                return _json({"error": "the stack parameter is missing"}, status=400)
            return _json(self.watcher.probe(stack))
        name = route.lstrip("/") or "index.html"
        if name in STATIC_FILES:
            return _static(name)
        return _json({"error": f"no such page: {request.path}"}, status=404)

    def _stacks(self) -> Response:
        self.watcher.forget()  # a page (re)loading its stack list wants it fresh
        stacks = self.watcher.stacks()
        return _json(
            {
                "sandbox": {"endpoint": self.watcher.endpoint, "time_scale": self.time_scale},
                "stacks": [stack.public(self.watcher.port) for stack in stacks],
            }
        )


def install(context: SandboxContext) -> None:
    context.layer.add(WatchPage(Watcher(context.endpoint), context.time_scale))


def page_url(endpoint: str) -> str:
    return f"{endpoint}{PREFIX}/"


def _static(name: str) -> Response:
    body = resources.files("failover_cli.sandbox.watch").joinpath("static", name).read_bytes()
    return _response(200, STATIC_FILES[name], body)


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return _response(status, "application/json", json.dumps(payload).encode())


def _redirect(location: str) -> Response:
    return Response(
        status=302,
        headers=(("Location", location), ("Content-Length", "0"), ("Cache-Control", "no-store")),
        body=b"",
    )


def _response(status: int, content_type: str, body: bytes) -> Response:
    # no-store everywhere: every poll must reach the sandbox, never a cache.
    headers = (
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    )
    return Response(status=status, headers=headers, body=body)
