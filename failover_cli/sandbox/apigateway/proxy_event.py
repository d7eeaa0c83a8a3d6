"""API Gateway REST proxy integration, format 1.0: the event in, the function's answer out.

Pure functions on plain data (no moto, no HTTP), so the exact shapes are unit
tested. The event is what a Lambda behind a REST API `AWS_PROXY` integration
receives; `parse_proxy_answer` applies API Gateway's rules to what it returns
(anything else is a "Malformed Lambda proxy response", a 502 to the client).
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

# What an AWS_PROXY answer may hold: any other key makes it malformed.
ANSWER_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


@dataclass(frozen=True)
class HttpRequest:
    """The client's request as API Gateway saw it, after the stage (or base path)."""

    method: str
    path: str  # within the stage, e.g. "/health"; "/" for the stage root
    query: str  # raw query string, still percent-encoded
    headers: Mapping[str, str]  # names as the client sent them (any case)
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class RouteContext:
    """Where the request landed: API, stage, resource, and how it was addressed."""

    account_id: str
    api_id: str
    region: str
    stage: str
    resource_id: str
    resource_path: str  # the resource's template, e.g. "/{proxy+}"
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    deployment_id: str | None = None
    binary_media_types: Sequence[str] = ()
    domain_name: str | None = None  # a custom domain; None for the execute-api host
    base_path: str | None = None  # the custom domain's base path ("" for "(none)")

    @property
    def execute_api_host(self) -> str:
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


@dataclass(frozen=True)
class ProxyAnswer:
    """A well-formed proxy answer, as the HTTP response API Gateway sends back."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class MalformedProxyAnswer(ValueError):
    """API Gateway logs "Malformed Lambda proxy response" and answers 502."""


def build_event(
    request: HttpRequest,
    route: RouteContext,
    *,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The v1 proxy event API Gateway gives the function for `request` on `route`."""
    now = now or datetime.now(UTC)
    request_id = request_id or str(uuid.uuid4())
    headers = _event_headers(request, route)
    pairs = parse_qsl(request.query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    # Behind a custom domain the path carries the base path; pathParameters never do.
    if route.base_path is None:
        event_path = request.path
        context_path = f"/{route.stage}{request.path}"
        domain = route.execute_api_host
    else:
        event_path = f"/{route.base_path}{request.path}" if route.base_path else request.path
        context_path = event_path
        domain = route.domain_name or route.execute_api_host
    body, encoded = _event_body(request, route)
    user_agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), None)
    return {
        "resource": route.resource_path,
        "path": event_path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        # The last value wins in the single-value map, as on API Gateway.
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(route.path_parameters) or None,
        "stageVariables": dict(route.stage_variables) or None,
        "requestContext": {
            "resourceId": route.resource_id,
            "resourcePath": route.resource_path,
            "httpMethod": request.method,
            "extendedRequestId": _extended_id(),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": context_path,
            "accountId": route.account_id,
            "protocol": "HTTP/1.1",
            "stage": route.stage,
            "domainPrefix": domain.split(".", 1)[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": _identity(request.source_ip, user_agent),
            "domainName": domain,
            "deploymentId": route.deployment_id,
            "apiId": route.api_id,
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def parse_proxy_answer(payload: bytes) -> ProxyAnswer:
    """The HTTP response for a function's answer; `MalformedProxyAnswer` when API Gateway
    would refuse it (not a JSON object, unknown keys, wrong types, bad base64)."""
    try:
        answer = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedProxyAnswer(f"not JSON: {error}") from None
    if not isinstance(answer, dict):
        raise MalformedProxyAnswer("not a JSON object")
    unknown = set(answer) - ANSWER_KEYS
    if unknown:
        raise MalformedProxyAnswer(f"unexpected keys {sorted(unknown)}")
    status = _status(answer.get("statusCode"))
    body = answer.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyAnswer("body must be a string")
    encoded = answer.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise MalformedProxyAnswer("isBase64Encoded must be a boolean")
    if encoded and body:
        try:
            data = base64.b64decode(body, validate=True)
        except binascii.Error:
            raise MalformedProxyAnswer("body is not valid base64") from None
    else:
        data = (body or "").encode()
    return ProxyAnswer(status, _answer_headers(answer), data)


def _event_headers(request: HttpRequest, route: RouteContext) -> dict[str, str]:
    """The client's headers plus what API Gateway's front end adds."""
    headers = {_canonical(name): value for name, value in request.headers.items()}
    forwarded = headers.get("X-Forwarded-For")
    headers["X-Forwarded-For"] = (
        f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    )
    # The real endpoint is HTTPS on 443, whatever the sandbox's own port is.
    headers["X-Forwarded-Port"] = "443"
    headers["X-Forwarded-Proto"] = "https"
    headers.setdefault("X-Amzn-Trace-Id", trace_id())
    if "Host" not in headers:
        headers["Host"] = route.domain_name or route.execute_api_host
    return headers


def _event_body(request: HttpRequest, route: RouteContext) -> tuple[str | None, bool]:
    """(body, isBase64Encoded): base64 only for the API's binary media types."""
    if not request.body:
        return None, False
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media and any(fnmatch.fnmatch(media, t.lower()) for t in route.binary_media_types):
        return base64.b64encode(request.body).decode(), True
    return request.body.decode("utf-8", "replace"), False


def _identity(source_ip: str, user_agent: str | None) -> dict[str, Any]:
    return {
        "cognitoIdentityPoolId": None,
        "accountId": None,
        "cognitoIdentityId": None,
        "caller": None,
        "sourceIp": source_ip,
        "principalOrgId": None,
        "accessKey": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": None,
        "userAgent": user_agent,
        "user": None,
    }


def _status(value: Any) -> int:
    # bool is an int in Python, not in API Gateway's parser.
    if isinstance(value, int) and not isinstance(value, bool):
        status = value
    elif isinstance(value, str) and value.isdigit():
        status = int(value)
    else:
        raise MalformedProxyAnswer("statusCode must be an integer")
    if not 100 <= status <= 599:
        raise MalformedProxyAnswer(f"statusCode {status} is not an HTTP status")
    return status


def _answer_headers(answer: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """`headers` and `multiValueHeaders` merged; a name in both keeps the multi values."""
    single = answer.get("headers") or {}
    multi = answer.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedProxyAnswer("headers must be JSON objects")
    merged: list[tuple[str, str]] = []
    multi_names = {name.lower() for name in multi}
    for name, value in single.items():
        if name.lower() not in multi_names:
            merged.append((name, _header_value(value)))
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedProxyAnswer("multiValueHeaders values must be lists")
        merged.extend((name, _header_value(v)) for v in values)
    return tuple(merged)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedProxyAnswer("header values must be strings")


def _canonical(name: str) -> str:
    """user-agent -> User-Agent: WSGI loses the client's spelling, this is the usual one."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def trace_id() -> str:
    """An X-Ray trace header value, as API Gateway adds to every request."""
    now = int(datetime.now(UTC).timestamp())
    return f"Root=1-{now:08x}-{uuid.uuid4().hex[:24]}"


def _extended_id() -> str:
    """API Gateway's own request id (base64, 16 characters), e.g. "BQGHTGWAoAMEkWg="."""
    return base64.b64encode(os.urandom(11)).decode()
