"""Lambda entry point (Handler=handler.handler) for API Gateway REST proxy events (v1).

Dispatch order, for every request:
1. unknown route -> 404, whatever FORCE_FAIL says (a stranger's scan learns nothing);
2. a protected route (health, hello) without the right ?healthCheckerId= -> 403;
3. FORCE_FAIL set -> 503 on any known route;
4. method not allowed -> 405 with Allow;
5. the route's own answer.
403 and 404 answers carry no X-Failover-Region: a stranger learns no region from them.
Routes live in builtin_routes.py, switch_reader.py and app_routes.py; this file never
changes to add one.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

import builtin_routes  # noqa: F401  (registers health and hello)
import settings
import switch_reader  # noqa: F401  (registers health/switch/{region})
from routing import Request, Response, router

try:
    import app_routes  # noqa: F401  (registers the application's routes)
except ModuleNotFoundError as exc:  # the application removed the file: no extra routes
    if exc.name != "app_routes":
        raise

_log = logging.getLogger(__name__)
SECRET_PARAM = "healthCheckerId"
_ANONYMOUS = frozenset({403, 404})  # answers to strangers: no region header


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    region = settings.region()
    try:
        request = parse_request(event, context, region)
        return to_proxy_result(dispatch(request), region)
    except Exception as exc:
        # One line, no event data (its query string may carry the secret).
        _log.error("unhandled %s in %s", type(exc).__name__, region)
        return to_proxy_result(Response(500, {"message": "Internal error"}), region)


def route_name(event: Mapping[str, Any]) -> str:
    """The whole path after stage and base path: pathParameters.proxy (`path` includes any
    base path), else `path`. Exact: `/x/health` is not the health route, it is unknown."""
    params = event.get("pathParameters") or {}
    path = params.get("proxy") or event.get("path") or ""
    return str(path).strip("/")


def parse_request(event: Mapping[str, Any], context: Any, region: str) -> Request:
    return Request(
        method=str(event.get("httpMethod") or "GET").upper(),
        route=route_name(event),
        query=event.get("queryStringParameters") or {},
        headers=event.get("headers") or {},
        body=event.get("body"),
        region=region,
        event=event,
        context=context,
    )


def secret_ok(candidate: str | None) -> bool:
    """Constant-time check against every accepted secret (current and, if set, next)."""
    given = (candidate or "").encode()
    matched = False
    for secret in settings.accepted_secrets():
        matched |= hmac.compare_digest(given, secret)
    return matched and bool(given)


def dispatch(request: Request) -> Response:
    found = router.get(request.route)
    if found is None:
        return Response(404, {"message": "Not found"})
    if found.protected and not secret_ok(request.query.get(SECRET_PARAM)):
        return Response(403, {"message": "Forbidden"})
    if settings.force_fail():
        return Response(503, {"message": f"Forced failure in {request.region}"})
    if request.method not in found.methods:
        allow = ", ".join(sorted(found.methods))
        return Response(405, {"message": "Method not allowed"}, {"Allow": allow})
    result = found.func(request)
    return result if isinstance(result, Response) else Response(200, result)


def to_proxy_result(response: Response, region: str) -> dict[str, Any]:
    headers = {**response.headers, "Content-Type": "application/json", "Cache-Control": "no-store"}
    if response.status not in _ANONYMOUS:
        headers["X-Failover-Region"] = region
    return {
        "statusCode": response.status,
        "headers": headers,
        "body": json.dumps(response.body),
        "isBase64Encoded": False,
    }
