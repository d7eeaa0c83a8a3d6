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
    ("origin", "own"),
    [
        ("http://127.0.0.1:4566", True),
        ("http://localhost:4566", True),
        ("http://page.localhost:4566", True),
        ("http://127.0.0.1:4567", False),  # another local service is another origin
        ("https://127.0.0.1:4566", False),
        ("http://127.0.0.1", False),
        ("null", False),  # sandboxed iframes and file:// pages
        ("http://127.0.0.1:4566.evil.example", False),
        ("http://evil.example:4566", False),
        ("http://127.0.0.1:99999", False),
    ],
)
def test_what_counts_as_the_sandboxs_own_origin(origin: str, own: bool) -> None:
    guard = HostGuard(4566, lambda _account, _name: False)
    assert guard.own_origin(origin) is own
