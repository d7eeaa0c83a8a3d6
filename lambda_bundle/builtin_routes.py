"""The routes every stack has: /health (for Route 53 health checks) and /hello.

Both require the health-checker secret (?healthCheckerId=); the dispatcher
enforces that before these functions run.
"""

from __future__ import annotations

import random

import deep_ping
import settings
from routing import Request, Response, route


def _wants_deep(request: Request) -> bool:
    asked = request.query.get("deep")
    if asked is not None:
        # The caller chose: `deep=true` (the deep health checks) or `deep=false` (a release
        # gate's shallow ping, which must not be judged by a table read it did not ask for).
        return settings.is_true(asked)
    percent = settings.deep_ping_percent()
    return percent > 0 and random.random() * 100 < percent


@route("health", protected=True)
def health(request: Request) -> Response:
    region = request.region
    if not _wants_deep(request):
        return Response(200, {"message": f"Shallow hello from {region}", "ping": "shallow"})
    greeting = deep_ping.read_greeting(region)
    if greeting is None:
        return Response(503, {"message": f"Deep ping failed in {region}"})
    return Response(200, {"message": f"{greeting}{region}", "ping": "deep"})


@route("hello", protected=True)
def hello(request: Request) -> Response:
    return Response(200, {"message": f"Hello from {request.region}", "region": request.region})
