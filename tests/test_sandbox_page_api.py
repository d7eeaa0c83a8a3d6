"""The watch page's server side, without a browser: routing, discovery, probe, secret.

The routes are checked on the layer alone (no moto); discovery on a sandbox
subprocess with resources built by plain boto3, so these tests need neither
Chromium nor the other sandbox features; the probe's `/hello` call against a
tiny local server standing in for the custom-domain route.
"""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from werkzeug.test import Client, EnvironBuilder

from failover_cli.sandbox.layer import Layer
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.watch.page import WatchPage, page_url
from failover_cli.sandbox.watch.probe import Watcher, health_summary
from failover_cli.sandbox.watch.stacks import HealthCheckRef, StackView, _check_region
from tests.conftest import SandboxProcess

SECRET = "s3cret-never-shown-0123456789abcdef"


def _request(path: str, host: str = "127.0.0.1:4566", **headers: str) -> AwsRequest:
    environ = EnvironBuilder(path=path, headers={"Host": host, **headers}).get_environ()
    return AwsRequest.from_environ(environ)


def _backend(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("418 I'm a teapot", [("Content-Type", "text/plain")])
    return [b"moto"]


@pytest.fixture
def page_client() -> Client:
    layer = Layer(_backend)
    layer.add(WatchPage(Watcher("http://127.0.0.1:9"), time_scale=5))
    return Client(layer)


# -- routing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "host", "headers", "wanted"),
    [
        ("/_sandbox/", "127.0.0.1:4566", {}, True),
        ("/_sandbox", "localhost:4566", {}, True),
        ("/_sandbox/api/stacks", "127.0.0.1", {}, True),
        ("/_sandboxes", "127.0.0.1:4566", {}, False),
        ("/_sandbox/", "hello.example.com", {}, False),  # a domain's own path is the app's
        ("/_sandbox/", "abc.execute-api.us-east-1.localhost:4566", {}, False),
        (
            "/_sandbox/",
            "127.0.0.1:4566",
            {"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request"},
            False,
        ),
    ],
)
def test_wants_only_unsigned_page_paths_on_the_sandbox_host(
    path: str, host: str, headers: dict[str, str], wanted: bool
) -> None:
    page = WatchPage(Watcher("http://127.0.0.1:9"), time_scale=1)
    assert page.wants(_request(path, host, **headers)) is wanted


def test_serves_the_page_and_its_files_uncached(page_client: Client) -> None:
    redirect = page_client.get("/_sandbox", headers={"Host": "127.0.0.1:4566"})
    assert redirect.status_code == 302 and redirect.headers["Location"] == "/_sandbox/"
    for path, kind in [
        ("/_sandbox/", "text/html"),
        ("/_sandbox/index.html", "text/html"),
        ("/_sandbox/watch.js", "text/javascript"),
        ("/_sandbox/watch.css", "text/css"),
    ]:
        answer = page_client.get(path, headers={"Host": "127.0.0.1:4566"})
        assert answer.status_code == 200, path
        assert answer.headers["Content-Type"].startswith(kind)
        assert answer.headers["Cache-Control"] == "no-store"
    html = page_client.get("/_sandbox/", headers={"Host": "localhost"}).get_data(as_text=True)
    assert 'src="watch.js"' in html and 'href="watch.css"' in html


@pytest.mark.parametrize(
    "path", ["/_sandbox/../page.py", "/_sandbox/page.py", "/_sandbox/static/watch.js"]
)
def test_serves_no_other_file(page_client: Client, path: str) -> None:
    answer = page_client.get(path, headers={"Host": "127.0.0.1:4566"})
    assert answer.status_code == 404


def test_refuses_writes_and_a_probe_without_a_stack(page_client: Client) -> None:
    assert page_client.post("/_sandbox/api/stacks").status_code == 405
    answer = page_client.get("/_sandbox/api/probe", headers={"Host": "127.0.0.1"})
    assert answer.status_code == 400 and "stack" in answer.get_json()["error"]


def test_other_requests_reach_moto(page_client: Client) -> None:
    assert page_client.get("/", headers={"Host": "127.0.0.1"}).status_code == 418


def test_page_url() -> None:
    assert page_url("http://127.0.0.1:4566") == "http://127.0.0.1:4566/_sandbox/"


@pytest.mark.parametrize(
    ("name", "region"),
    [
        ("shop-us-east-1", "us-east-1"),
        ("shop-us-gov-west-1", "us-gov-west-1"),
        ("shop-us-east-1-switched", None),  # the switch's calculated check is no region's probe
        ("shop-us-east-1-read-in-us-west-2", None),
    ],
)
def test_only_a_regions_probe_names_a_region(name: str, region: str | None) -> None:
    tags = {"Name": name, "failover:stack": "shop"}
    config = {"FullyQualifiedDomainName": "abc.execute-api.us-west-2.amazonaws.com"}
    assert _check_region(config, tags, "shop") == region


# -- health, as Route 53 decides it -------------------------------------------------


def _observations(*statuses: str) -> list[dict[str, Any]]:
    return [{"Region": "us-east-1", "StatusReport": {"Status": s}} for s in statuses]


@pytest.mark.parametrize(
    ("statuses", "inverted", "disabled", "healthy"),
    [
        (("Success: HTTP Status Code 200",) * 3, False, False, True),
        (("Success: 200", "Failure: 503", "Failure: 503"), False, False, True),  # 33% > 18%
        (("Success: 200",) + ("Failure: 503",) * 5, False, False, False),  # 17% is not enough
        (("Failure: 503",) * 3, False, False, False),
        ((), False, False, False),  # nobody has looked yet
        (("Failure: 503",) * 3, True, False, True),
        (("Failure: 503",) * 3, False, True, True),  # a disabled check counts as healthy
    ],
)
def test_health_summary(
    statuses: tuple[str, ...], inverted: bool, disabled: bool, healthy: bool
) -> None:
    ref = HealthCheckRef("us-west-2", "hc-1", inverted=inverted, disabled=disabled)
    summary = health_summary(ref, _observations(*statuses))
    assert summary == {
        "region": "us-west-2",
        "check_id": "hc-1",
        "healthy": healthy,
        "healthy_checkers": sum(s.startswith("Success") for s in statuses),
        "checkers": len(statuses),
    }


# -- the probe's /hello call ------------------------------------------------------


class _EchoRoute(BaseHTTPRequestHandler):
    """Stands in for the custom-domain route: echoes what it was asked, path and all."""

    def do_GET(self) -> None:
        region = "us-west-2" if self.headers["Host"] == "hello.example.com" else ""
        body = json.dumps({"message": f"{self.headers['Host']} {self.path}"}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Failover-Region", region)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoRoute)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _SecretWatcher(Watcher):
    def _secret(self, stack: StackView) -> str | None:
        return SECRET


def test_hello_goes_to_the_domain_route_and_never_returns_the_secret(echo_endpoint: str) -> None:
    stack = StackView(
        name="s", regions=("us-east-1", "us-west-2"), checks=(), domain="hello.example.com",
        base_path="v1",
    )  # fmt: skip
    answer = _SecretWatcher(echo_endpoint)._hello(stack)
    assert answer["region"] == "us-west-2" and answer["status"] == 503
    # The route saw the domain as Host and the secret in the query string ...
    assert answer["message"] == "hello.example.com /v1/hello?healthCheckerId=…"
    # ... and nothing handed back carries it.
    assert SECRET not in json.dumps(answer)
    assert answer["latency_ms"] >= 0 and answer["time"].endswith("Z")


def test_hello_at_the_domain_root(echo_endpoint: str) -> None:
    stack = StackView(name="s", regions=("us-east-1",), checks=(), domain="x.test", base_path="")
    answer = _SecretWatcher(echo_endpoint)._hello(stack)
    assert answer["message"].startswith("x.test /hello?") and answer["region"] is None


def test_hello_with_nothing_listening() -> None:
    stack = StackView(name="s", regions=("us-east-1",), checks=(), domain="x.test", base_path="")
    answer = _SecretWatcher("http://127.0.0.1:9")._hello(stack)
    assert answer["status"] is None and answer["message"].startswith("no answer")


# -- discovery on a real sandbox -----------------------------------------------------


def _get(endpoint: str, path: str) -> dict[str, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{endpoint}{path}", timeout=20) as answer:
        payload: dict[str, Any] = json.loads(answer.read())
    return payload


def _build_stack(endpoint: str, stack: str, *, domain: str | None) -> None:
    """The parts the page reads, made by hand with boto3 (no `failover up`)."""

    def client(service: str, region: str = "us-east-1") -> Any:
        return boto3.client(service, region_name=region, endpoint_url=endpoint)

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = client("iam").create_role(
        RoleName=f"{stack}-function", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    route53 = client("route53")
    checks = {}
    for region in ("us-east-1", "us-west-2"):
        client("lambda", region).create_function(
            FunctionName=f"{stack}-fn",
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": code.getvalue()},
            Environment={"Variables": {"HEALTH_CHECKER_ID": SECRET, "FORCE_FAIL": "false"}},
            Tags={"failover:stack": stack},
        )
        api = client("apigateway", region).create_rest_api(
            name=stack, endpointConfiguration={"types": ["REGIONAL"]}
        )["id"]
        check = route53.create_health_check(
            CallerReference=f"{stack}-{region}-{time.time()}",
            HealthCheckConfig={
                "Type": "HTTPS_STR_MATCH",
                "FullyQualifiedDomainName": f"{api}.execute-api.{region}.amazonaws.com",
                "Port": 443,
                "ResourcePath": f"/prod/health?healthCheckerId={SECRET}",
                "SearchString": "hello from",
                "RequestInterval": 30,
                "FailureThreshold": 3,
                "Regions": ["us-east-1", "us-west-1", "us-west-2"],
                "EnableSNI": True,
            },
        )["HealthCheck"]["Id"]
        route53.change_tags_for_resource(
            ResourceType="healthcheck",
            ResourceId=check,
            AddTags=[
                {"Key": "failover:stack", "Value": stack},
                {"Key": "Name", "Value": f"{stack}-{region}"},
            ],
        )
        checks[region] = (check, api)
    if domain is None:
        return
    zone = route53.create_hosted_zone(
        Name=domain.split(".", 1)[1], CallerReference=f"{stack}-{time.time()}"
    )["HostedZone"]["Id"]
    changes = []
    for region, role_name in (("us-east-1", "PRIMARY"), ("us-west-2", "SECONDARY")):
        check, api = checks[region]
        apigateway = client("apigateway", region)
        target = apigateway.create_domain_name(
            domainName=domain,
            regionalCertificateArn=_issued_certificate(
                client("acm", region), route53, zone, domain
            ),
            endpointConfiguration={"types": ["REGIONAL"]},
            securityPolicy="TLS_1_2",
        )
        # (no stage: discovery reads the mapping, not what it leads to)
        apigateway.create_base_path_mapping(domainName=domain, restApiId=api, basePath="v1")
        changes.append(
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": domain,
                    "Type": "A",
                    "SetIdentifier": f"{stack}-{region}",
                    "Failover": role_name,
                    "HealthCheckId": check,
                    "AliasTarget": {
                        "HostedZoneId": target["regionalHostedZoneId"],
                        "DNSName": target["regionalDomainName"],
                        "EvaluateTargetHealth": False,
                    },
                },
            }
        )
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})


def _issued_certificate(acm: Any, route53: Any, zone: str, domain: str) -> str:
    """Request a DNS-validated certificate, put its CNAME in the zone, wait until ISSUED."""
    arn: str = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        certificate = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        if certificate["Status"] == "ISSUED":
            return arn
        record = certificate["DomainValidationOptions"][0].get("ResourceRecord")
        if record:
            change = {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": record["Name"],
                    "Type": record["Type"],
                    "TTL": 60,
                    "ResourceRecords": [{"Value": record["Value"]}],
                },
            }
            route53.change_resource_record_sets(
                HostedZoneId=zone, ChangeBatch={"Changes": [change]}
            )
        time.sleep(0.2)
    raise AssertionError(f"certificate for {domain} never issued")


@pytest.mark.sandbox
def test_stacks_and_probe_on_a_sandbox(
    launch_sandbox: Callable[..., SandboxProcess],
) -> None:
    sandbox = launch_sandbox("--time-scale", "5")
    sandbox.wait_until_ready()
    endpoint = sandbox.endpoint
    assert _get(endpoint, "/_sandbox/api/stacks")["stacks"] == []

    _build_stack(endpoint, "plain", domain=None)
    _build_stack(endpoint, "routed", domain="hello.example.net")
    listing = _get(endpoint, "/_sandbox/api/stacks")
    assert SECRET not in json.dumps(listing)
    assert listing["stacks"] == [
        {
            "name": "plain",
            "regions": ["us-east-1", "us-west-2"],
            "primary": None,
            "routing": None,
            "domain": None,
            "base_path": None,
            "hello_url": None,
        },
        {
            "name": "routed",
            "regions": ["us-east-1", "us-west-2"],
            "primary": "us-east-1",
            "routing": "failover",
            "domain": "hello.example.net",
            "base_path": "v1",
            "hello_url": f"http://hello.example.net.localhost:{sandbox.port}/v1/hello",
        },
    ]

    plain = _get(endpoint, "/_sandbox/api/probe?stack=plain")
    assert plain["problem"] == "no-domain"
    assert [h["region"] for h in plain["health"]] == ["us-east-1", "us-west-2"]
    assert all(h["checkers"] >= 1 for h in plain["health"])

    # What answers /hello depends on the rest of the sandbox; the secret never comes back.
    routed = _get(endpoint, "/_sandbox/api/probe?stack=routed")
    assert "problem" not in routed and routed["domain"] == "hello.example.net"
    assert {"region", "status", "message", "latency_ms", "time", "health"} <= set(routed)
    assert SECRET not in json.dumps(routed)

    assert _get(endpoint, "/_sandbox/api/probe?stack=nothing") == {
        "stack": "nothing",
        "problem": "no-stack",
    }
