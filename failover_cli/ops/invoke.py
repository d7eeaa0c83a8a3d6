"""`failover invoke`: one request to one region's function through its API, secret masked.

The request goes to the region's own API (`https://<id>.execute-api.<R>...
/<stage><path>`), the way a client or a health check reaches it, so what it
shows is what API Gateway and the function answer together. The health-checker
secret is added as `healthCheckerId` (read from the function's environment),
so protected routes (/health, /hello) answer too; every place the secret could
show (the URL, headers, body) is masked before anything is printed.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from failover_cli.engine.context import Context
from failover_cli.errors import BadInput, FailoverError, mask, redact
from failover_cli.net.http import HttpAnswer, HttpClient
from failover_cli.services.health_checks import SECRET_PARAMETER

TIMEOUT_S = 30.0  # API Gateway's own integration limit is 29 s


@dataclass(frozen=True)
class InvokeAnswer:
    region: str
    method: str
    url: str  # masked
    status: int  # 0: no HTTP answer
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    seconds: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "headers": self.headers,
            "body": self.body,
            "seconds": round(self.seconds, 3),
            "error": self.error or None,
        }


def request_url(base: str, path: str, secret: str | None) -> str:
    """`base` + `path` (its own query kept) with the secret as one more parameter."""
    parts = urllib.parse.urlsplit(path if path.startswith("/") else f"/{path}")
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if secret and not any(k == SECRET_PARAMETER for k, _ in query):
        query.append((SECRET_PARAMETER, secret))
    encoded = urllib.parse.urlencode(query)
    return f"{base}{parts.path}" + (f"?{encoded}" if encoded else "")


def invoke(
    ctx: Context,
    region: str,
    path: str = "/hello",
    data: str | None = None,
    method: str | None = None,
    http: HttpClient | None = None,
) -> InvokeAnswer:
    from failover_cli.aws.tags import is_owned
    from failover_cli.engine.secret import SECRET_VARIABLE
    from failover_cli.ops.force_fail import require_region
    from failover_cli.ops.status import api_url
    from failover_cli.resources.api import find_api

    require_region(ctx, region)
    if not path.startswith("/"):
        raise BadInput(f"--path {path!r} must start with /", hint="For example --path /hello.")
    api = find_api(ctx, region)
    if api is None or not is_owned(api.get("tags") or {}, ctx.config.stack):
        raise FailoverError(
            f"Stack {ctx.config.stack} has no REST API of its own here",
            region=region,
            hint="Run `failover up` first (`failover status` shows what exists).",
        )
    lam = ctx.client("lambda", region)
    try:
        configuration = lam.get_function_configuration(FunctionName=ctx.config.function.name)
        variables = (configuration.get("Environment") or {}).get("Variables") or {}
    except lam.exceptions.ResourceNotFoundException:
        variables = {}  # the API answers for itself (a 5xx): worth showing
    secrets = [v for k, v in variables.items() if k.startswith(SECRET_VARIABLE) and v]
    url = request_url(
        api_url(str(api["id"]), region, ctx.config.api.stage), path, variables.get(SECRET_VARIABLE)
    )
    verb = method or ("POST" if data is not None else "GET")
    body = data.encode() if data is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    answer = (http or HttpClient()).request(verb, url, body, headers=headers, timeout=TIMEOUT_S)
    return _masked(region, verb, url, answer, secrets)


def _masked(
    region: str, method: str, url: str, answer: HttpAnswer, secrets: list[str]
) -> InvokeAnswer:
    def hide(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, mask(secret))
        return redact(text)

    return InvokeAnswer(
        region=region,
        method=method,
        url=hide(url),
        status=answer.status,
        headers={hide(k): hide(v) for k, v in answer.headers.items()},
        body=hide(answer.body),
        seconds=answer.seconds,
        error=hide(answer.error),
    )
