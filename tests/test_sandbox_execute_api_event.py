"""execute-api as pure logic: the REST proxy event (v1), the proxy answer, route matching.

In-process and without moto: these are plain functions on plain data. The
expected events are written out the way API Gateway delivers them.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from failover_cli.sandbox.apigateway.proxy_event import (
    HttpRequest,
    MalformedProxyAnswer,
    RouteContext,
    build_event,
    parse_proxy_answer,
)
from failover_cli.sandbox.apigateway.routes import Integration, Route, RouteTable, match

BUNDLE_DIR = Path(__file__).resolve().parents[1] / "lambda_bundle"
NOW = datetime(2026, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
API, REGION, ACCOUNT = "a1b2c3d4e5", "eu-west-1", "123456789012"


def proxy_route(**overrides: Any) -> RouteContext:
    values: dict[str, Any] = {
        "account_id": ACCOUNT,
        "api_id": API,
        "region": REGION,
        "stage": "prod",
        "resource_id": "r4nd0m",
        "resource_path": "/{proxy+}",
        "path_parameters": {"proxy": "health"},
        "deployment_id": "d3pl0y",
    }
    values.update(overrides)
    return RouteContext(**values)


def test_the_event_of_a_get_on_the_proxy_resource() -> None:
    request = HttpRequest(
        method="GET",
        path="/health",
        query="healthCheckerId=s3cret&deep=true",
        headers={"host": f"{API}.execute-api.{REGION}.amazonaws.com", "user-agent": "curl/8.5"},
        source_ip="203.0.113.7",
    )
    event = build_event(request, proxy_route(), request_id=REQUEST_ID, now=NOW)

    headers = event.pop("headers")
    multi_headers = event.pop("multiValueHeaders")
    extended = event["requestContext"].pop("extendedRequestId")
    assert event == {
        "resource": "/{proxy+}",
        "path": "/health",
        "httpMethod": "GET",
        "queryStringParameters": {"healthCheckerId": "s3cret", "deep": "true"},
        "multiValueQueryStringParameters": {"healthCheckerId": ["s3cret"], "deep": ["true"]},
        "pathParameters": {"proxy": "health"},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "r4nd0m",
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "requestTime": "14/Mar/2026:09:26:53 +0000",
            "path": "/prod/health",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": "prod",
            "domainPrefix": API,
            "requestTimeEpoch": 1773480413589,
            "requestId": REQUEST_ID,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": "203.0.113.7",
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": "curl/8.5",
                "user": None,
            },
            "domainName": f"{API}.execute-api.{REGION}.amazonaws.com",
            "deploymentId": "d3pl0y",
            "apiId": API,
        },
        "body": None,
        "isBase64Encoded": False,
    }
    assert isinstance(extended, str) and len(extended) == 16
    # Header names as clients spell them, plus what API Gateway's front end adds.
    assert headers["Host"] == f"{API}.execute-api.{REGION}.amazonaws.com"
    assert headers["User-Agent"] == "curl/8.5"
    assert headers["X-Forwarded-For"] == "203.0.113.7"
    assert headers["X-Forwarded-Proto"] == "https"
    assert headers["X-Forwarded-Port"] == "443"
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers["X-Amzn-Trace-Id"])
    assert multi_headers == {name: [value] for name, value in headers.items()}
    json.dumps(event)  # the event travels as JSON


def test_query_strings_keep_every_value_in_the_multi_value_map() -> None:
    request = HttpRequest("GET", "/hello", "a=1&a=2&b=&c=x%20y&d=%E2%9C%93", {})
    event = build_event(request, proxy_route())
    assert event["queryStringParameters"] == {"a": "2", "b": "", "c": "x y", "d": "✓"}
    assert event["multiValueQueryStringParameters"] == {
        "a": ["1", "2"],
        "b": [""],
        "c": ["x y"],
        "d": ["✓"],
    }


def test_no_query_no_path_parameters_no_stage_variables_are_null() -> None:
    event = build_event(HttpRequest("GET", "/", "", {}), proxy_route(path_parameters={}))
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None


def test_stage_variables_are_passed_on() -> None:
    event = build_event(
        HttpRequest("GET", "/health", "", {}), proxy_route(stage_variables={"alias": "live"})
    )
    assert event["stageVariables"] == {"alias": "live"}


def test_behind_a_custom_domain_the_path_carries_the_base_path_but_proxy_does_not() -> None:
    route = proxy_route(domain_name="hello.example.com", base_path="api")
    event = build_event(HttpRequest("GET", "/health", "", {"host": "hello.example.com"}), route)
    assert event["path"] == "/api/health"
    assert event["pathParameters"] == {"proxy": "health"}
    assert event["requestContext"]["path"] == "/api/health"
    assert event["requestContext"]["domainName"] == "hello.example.com"
    assert event["requestContext"]["domainPrefix"] == "hello"
    assert event["requestContext"]["stage"] == "prod"


def test_an_empty_base_path_mapping_leaves_the_path_alone() -> None:
    route = proxy_route(domain_name="hello.example.com", base_path="")
    event = build_event(HttpRequest("GET", "/health", "", {}), route)
    assert event["path"] == "/health"
    assert event["requestContext"]["path"] == "/health"


def test_text_bodies_are_strings_and_binary_media_types_are_base64() -> None:
    text = build_event(
        HttpRequest("POST", "/orders", "", {"content-type": "application/json"}, b'{"n": 1}'),
        proxy_route(),
    )
    assert (text["body"], text["isBase64Encoded"]) == ('{"n": 1}', False)
    png = b"\x89PNG\r\n\x1a\n\x00"
    binary = build_event(
        HttpRequest("POST", "/img", "", {"content-type": "image/png"}, png),
        proxy_route(binary_media_types=("image/*",)),
    )
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == png


def test_a_client_forwarded_for_is_extended_not_replaced() -> None:
    event = build_event(
        HttpRequest("GET", "/", "", {"x-forwarded-for": "198.51.100.1"}, source_ip="10.0.0.9"),
        proxy_route(),
    )
    assert event["headers"]["X-Forwarded-For"] == "198.51.100.1, 10.0.0.9"


# -- the function's answer ------------------------------------------------------


def answer(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def test_a_proxy_answer_becomes_the_http_response() -> None:
    parsed = parse_proxy_answer(
        answer(
            statusCode=201,
            headers={"Content-Type": "application/json", "X-One": "1", "Set-Cookie": "ignored"},
            multiValueHeaders={"Set-Cookie": ["a=1", "b=2"]},
            body='{"ok": true}',
            isBase64Encoded=False,
        )
    )
    assert parsed.status == 201
    assert parsed.body == b'{"ok": true}'
    # A name in both maps keeps only the multi-value list, as API Gateway merges them.
    assert parsed.headers == (
        ("Content-Type", "application/json"),
        ("X-One", "1"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    )


def test_a_base64_answer_is_decoded_and_a_minimal_answer_is_fine() -> None:
    data = bytes(range(256))
    parsed = parse_proxy_answer(
        answer(statusCode=200, body=base64.b64encode(data).decode(), isBase64Encoded=True)
    )
    assert parsed.body == data
    assert parse_proxy_answer(answer(statusCode=204)).body == b""


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        b"null",
        answer(body="no status"),
        answer(statusCode="two hundred", body=""),
        answer(statusCode=True, body=""),
        answer(statusCode=200, body={"an": "object"}),
        answer(statusCode=200, body="", cookies=["a=1"]),
        answer(statusCode=200, headers=["X-A"]),
        answer(statusCode=200, headers={"X-A": {"nested": 1}}),
        answer(statusCode=200, multiValueHeaders={"X-A": "not a list"}),
        answer(statusCode=200, isBase64Encoded="yes"),
        answer(statusCode=200, body="***", isBase64Encoded=True),
        answer(statusCode=42),
    ],
)
def test_malformed_proxy_answers_are_refused(payload: bytes) -> None:
    with pytest.raises(MalformedProxyAnswer):
        parse_proxy_answer(payload)


# -- route matching -------------------------------------------------------------

PROXY = Integration("AWS_PROXY", "arn:proxy")
USERS = Integration("AWS_PROXY", "arn:users")
TABLE = RouteTable(
    (
        Route("root", "/", {}),
        Route("proxy", "/{proxy+}", {"ANY": PROXY}),
        Route("users", "/users", {"GET": USERS}),
        Route("user", "/users/{id}", {"GET": USERS, "DELETE": USERS}),
        Route("me", "/users/me", {"ANY": USERS}),
        Route("files", "/files/{path+}", {"GET": USERS}),
    )
)


@pytest.mark.parametrize(
    ("path", "method", "resource", "params"),
    [
        ("/health", "GET", "proxy", {"proxy": "health"}),
        ("/a/b/c", "POST", "proxy", {"proxy": "a/b/c"}),
        ("/users", "GET", "users", {}),
        ("/users/42", "GET", "user", {"id": "42"}),
        ("/users/me", "GET", "me", {}),  # a literal beats a parameter
        ("/users/a%20b", "DELETE", "user", {"id": "a b"}),
        ("/files/x/y.txt", "GET", "files", {"path": "x/y.txt"}),
        ("/users/42/", "GET", "user", {"id": "42"}),
    ],
)
def test_the_most_specific_resource_wins(
    path: str, method: str, resource: str, params: dict[str, str]
) -> None:
    found = match(TABLE, path, method)
    assert found is not None
    assert (found.route.resource_id, found.path_parameters) == (resource, params)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/", "GET"),  # the root has no method; a greedy parameter needs a segment
        ("/users", "POST"),  # the resource matches, its methods do not
    ],
)
def test_no_route_or_no_method_is_no_match(path: str, method: str) -> None:
    assert match(TABLE, path, method) is None


def test_the_verb_beats_any_and_any_catches_the_rest() -> None:
    table = RouteTable(
        (Route("r", "/x", {"ANY": PROXY, "GET": USERS}),),
    )
    get, post = match(table, "/x", "get"), match(table, "/x", "POST")
    assert get is not None and (get.method, get.integration) == ("GET", USERS)
    assert post is not None and (post.method, post.integration) == ("ANY", PROXY)


# -- the shipped function answers these events as SPEC §5 says -----------------------


@pytest.fixture
def bundle_handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """handler.py of lambda_bundle/, imported as Lambda would and removed afterwards."""
    names = {p.stem for p in BUNDLE_DIR.glob("*.py")}
    saved = {n: sys.modules.pop(n) for n in list(names) if n in sys.modules}
    monkeypatch.syspath_prepend(str(BUNDLE_DIR))
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("HEALTH_CHECKER_ID", "s3cret")
    monkeypatch.setenv("FORCE_FAIL", "false")
    monkeypatch.setenv("DEEP_PING_PERCENT", "0")
    yield importlib.import_module("handler")
    for name in names:
        sys.modules.pop(name, None)
    sys.modules.update(saved)


def call(handler: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    proxy = parse_proxy_answer(json.dumps(handler.handler(event, None)).encode())
    return proxy.status, json.loads(proxy.body)


def test_the_bundle_answers_the_sandbox_events(bundle_handler: ModuleType) -> None:
    def get(path: str, query: str, **route: Any) -> tuple[int, dict[str, Any]]:
        found = match(TABLE, path, "GET")
        assert found is not None
        where = proxy_route(path_parameters=found.path_parameters, **route)
        return call(bundle_handler, build_event(HttpRequest("GET", path, query, {}), where))

    assert get("/health", "healthCheckerId=s3cret") == (
        200,
        {"message": f"Shallow hello from {REGION}", "ping": "shallow"},
    )
    assert get("/health", "healthCheckerId=wrong") == (403, {"message": "Forbidden"})
    behind_domain = get("/hello", "healthCheckerId=s3cret", domain_name="x.io", base_path="v1")
    assert behind_domain == (200, {"message": f"Hello from {REGION}", "region": REGION})
