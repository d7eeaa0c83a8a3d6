"""The sandbox refuses what a web page could send it: foreign Hosts (DNS rebinding) and
foreign Origins (cross-origin requests), and never grants CORS to anyone.

Against the session's sandbox subprocess, with raw HTTP so every header is ours.
"""

from __future__ import annotations

import http.client
import json
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import boto3
import pytest

from failover_cli.sandbox.host_guard import HostGuard

pytestmark = pytest.mark.sandbox
FUNCTIONS = "/2015-03-31/functions/"
# A SigV4 header moto does not check: what a page would forge after a rebinding.
SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/lambda/"
    "aws4_request, SignedHeaders=host, Signature=0",
    "X-Amz-Date": "20240101T000000Z",
}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


def _send(endpoint: str, method: str, path: str, headers: dict[str, str]) -> Answer:
    where = urlsplit(endpoint)
    connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        connection.close()


def _own(endpoint: str) -> str:
    return urlsplit(endpoint).netloc  # 127.0.0.1:<port>


def test_a_rebound_host_cannot_list_functions(sandbox_endpoint: str) -> None:
    rebound = _send(sandbox_endpoint, "GET", FUNCTIONS, {"Host": "rebind.evil.example", **SIGNED})
    assert rebound.status == 403
    assert "rebind.evil.example" in json.loads(rebound.body)["message"]
    # The very same request with the sandbox's own Host is an ordinary ListFunctions.
    own = _send(sandbox_endpoint, "GET", FUNCTIONS, {"Host": _own(sandbox_endpoint), **SIGNED})
    assert own.status == 200 and "Functions" in json.loads(own.body)


@pytest.mark.parametrize(
    "host",
    ["localhost", "api.localhost", "lambda.us-east-1.amazonaws.com", "127.0.0.1"],
)
def test_loopback_and_aws_hosts_are_served(sandbox_endpoint: str, host: str) -> None:
    port = urlsplit(sandbox_endpoint).port
    answer = _send(sandbox_endpoint, "GET", FUNCTIONS, {"Host": f"{host}:{port}", **SIGNED})
    assert answer.status == 200, answer  # served as ListFunctions: not refused, not broken
    assert isinstance(json.loads(answer.body)["Functions"], list)


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
def test_a_foreign_origin_is_refused_without_cors_allowance(
    sandbox_endpoint: str, method: str
) -> None:
    headers = {
        "Host": _own(sandbox_endpoint),
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "POST",
        **SIGNED,
    }
    answer = _send(sandbox_endpoint, method, FUNCTIONS, headers)
    assert answer.status == 403
    assert not [name for name in answer.headers if name.startswith("access-control-")]


def test_the_sandboxs_own_origin_is_served_and_still_gets_no_cors(sandbox_endpoint: str) -> None:
    origin = f"http://{_own(sandbox_endpoint)}"
    headers = {"Host": _own(sandbox_endpoint), "Origin": origin, **SIGNED}
    answer = _send(sandbox_endpoint, "GET", FUNCTIONS, headers)
    assert answer.status == 200
    assert "access-control-allow-origin" not in answer.headers  # moto's global CORS is off


def test_boto3_is_unaffected(sandbox_env: str) -> None:
    """boto3's own requests (its Host, no Origin) write and read through the guard."""
    logs = boto3.client("logs", "us-east-1")
    name = f"/guard/{uuid.uuid4().hex}"
    logs.create_log_group(logGroupName=name)
    try:
        found = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        assert [group["logGroupName"] for group in found] == [name]
    finally:
        logs.delete_log_group(logGroupName=name)


@pytest.mark.parametrize(
    ("origin", "host", "own"),
    [
        ("http://127.0.0.1:4566", "127.0.0.1", True),  # the watch page
        ("http://localhost:4566", "localhost", True),
        ("http://page.localhost:4566", "page.localhost", True),  # a function's page, its API
        ("http://page.localhost:4566", "127.0.0.1", False),  # ... driving the sandbox
        ("http://page.localhost:4566", "other.localhost", False),  # ... or another page
        ("http://localhost:4566", "127.0.0.1", False),
        ("http://127.0.0.1:4567", "127.0.0.1", False),  # another local service
        ("https://127.0.0.1:4566", "127.0.0.1", False),
        ("http://127.0.0.1", "127.0.0.1", False),
        ("null", "127.0.0.1", False),  # sandboxed iframes and file:// pages
        ("http://127.0.0.1:4566.evil.example", "127.0.0.1", False),
        ("http://evil.example:4566", "127.0.0.1", False),
        ("http://127.0.0.1:99999", "127.0.0.1", False),
    ],
)
def test_what_counts_as_the_sandboxs_own_origin(origin: str, host: str, own: bool) -> None:
    guard = HostGuard(4566, lambda _account, _name: False)
    assert guard.own_origin(origin, host) is own


def test_a_functions_page_cannot_set_an_outage(sandbox_endpoint: str) -> None:
    """A page served for a function (an execute-api host on *.localhost) posting to the
    sandbox's own /_sandbox/outage is a cross-origin request: refused, nothing set."""
    port = urlsplit(sandbox_endpoint).port
    page = f"http://a1b2c3d4e5.execute-api.us-east-1.localhost:{port}"
    where = urlsplit(sandbox_endpoint)
    connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
    try:
        body = json.dumps({"region": "us-east-1", "mode": "hang"})
        headers = {"Host": _own(sandbox_endpoint), "Origin": page, "Content-Type": "text/plain"}
        connection.request("POST", "/_sandbox/outage", body=body, headers=headers)
        answer = connection.getresponse()
        assert answer.status == 403, answer.read()
        answer.read()
    finally:
        connection.close()
    now = _send(sandbox_endpoint, "GET", "/_sandbox/outage", {"Host": _own(sandbox_endpoint)})
    assert json.loads(now.body)["outages"] == []
