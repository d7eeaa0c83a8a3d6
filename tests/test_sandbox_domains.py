"""Custom domains in the sandbox: `<domain>.localhost:<port>` (or `Host: <domain>`) is served
by the region Route 53 picks now, through that region's custom domain and base path mapping.

Functions run (the sandbox's Lambda) and APIs route (its execute-api): these
tests need those features. Health comes from CALCULATED checks flipped with
`Inverted`, so the switch is immediate. Names are unique: the session
sandbox is shared.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from failover_cli.sandbox.apigateway.custom_domains import domain_of
from tests.sandbox_api_helpers import (
    ECHO,
    SECRET,
    Answer,
    create_api,
    create_function,
    health_function,
    http,
    source_zip,
    unique,
)

pytestmark = pytest.mark.sandbox

EAST, WEST = "us-east-1", "us-west-2"
BASE_PATH = "v1"


@dataclass(frozen=True)
class Site:
    endpoint: str
    zone_id: str
    domain: str
    checks: dict[str, str]  # region -> health check id
    apis: dict[str, str]  # region -> API id

    def get(self, path: str, *, localhost: bool = True) -> Answer:
        port = self.endpoint.rsplit(":", 1)[1]
        host = f"{self.domain}.localhost:{port}" if localhost else self.domain
        return http(self.endpoint + path, headers={"Host": host})

    def hello(self, **kw: Any) -> Answer:
        return self.get(f"/{BASE_PATH}/hello?healthCheckerId={SECRET}", **kw)


def route53() -> Any:
    return boto3.client("route53", region_name=EAST)


def calculated_check() -> str:
    check_id: str = route53().create_health_check(
        CallerReference=uuid.uuid4().hex,
        HealthCheckConfig={"Type": "CALCULATED", "ChildHealthChecks": [], "HealthThreshold": 0},
    )["HealthCheck"]["Id"]
    return check_id


def set_inverted(check_id: str, inverted: bool) -> None:
    route53().update_health_check(HealthCheckId=check_id, Inverted=inverted)


def custom_domain(region: str, domain: str, api_id: str, base_path: str = BASE_PATH) -> str:
    """A regional custom domain mapped to the API's prod stage; returns its regional name."""
    ag = boto3.client("apigateway", region_name=region)
    target: str = ag.create_domain_name(
        domainName=domain, endpointConfiguration={"types": ["REGIONAL"]}, securityPolicy="TLS_1_2"
    )["regionalDomainName"]
    ag.create_base_path_mapping(
        domainName=domain, restApiId=api_id, stage="prod", basePath=base_path
    )
    return target


def build_site(endpoint: str, code: bytes | None = None) -> Site:
    """The stack `up` builds with a latency-routed domain, in both regions."""
    zone = f"z{uuid.uuid4().hex[:10]}.test"
    zone_id = route53().create_hosted_zone(Name=zone, CallerReference=uuid.uuid4().hex)[
        "HostedZone"
    ]["Id"]
    domain = f"hello.{zone}"
    checks, apis, changes = {}, {}, []
    for region in (EAST, WEST):
        name = unique("fn")
        arn = create_function(region, name, code) if code else health_function(region, name)
        apis[region] = create_api(region, arn)
        target = custom_domain(region, domain, apis[region])
        checks[region] = calculated_check()
        changes.append(
            {
                "Action": "CREATE",
                "ResourceRecordSet": {
                    "Name": domain,
                    "Type": "A",
                    "SetIdentifier": f"hello-{region}",
                    "Region": region,
                    "HealthCheckId": checks[region],
                    "AliasTarget": {
                        "HostedZoneId": "Z2FDTNDATAQYW2",
                        "DNSName": target,
                        "EvaluateTargetHealth": False,
                    },
                },
            }
        )
    route53().change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return Site(endpoint, zone_id, domain, checks, apis)


def serving_region(answer: Answer) -> str:
    assert answer.status == 200, answer.body
    region = answer.headers["X-Failover-Region"]
    assert answer.json() == {"message": f"Hello from {region}", "region": region}
    return region


def test_the_domain_is_served_by_the_region_route53_picks_now(sandbox_env: str) -> None:
    site = build_site(sandbox_env)
    assert serving_region(site.hello()) == EAST  # latency: nearest to the client, us-east-1

    set_inverted(site.checks[EAST], True)
    assert serving_region(site.hello()) == WEST
    assert serving_region(site.hello(localhost=False)) == WEST  # Host: <domain> works too

    set_inverted(site.checks[WEST], True)  # both unhealthy: answered as if all were healthy
    assert serving_region(site.hello()) == EAST

    set_inverted(site.checks[EAST], False)
    set_inverted(site.checks[WEST], False)
    assert serving_region(site.hello()) == EAST


def test_base_path_mappings_route_the_request(sandbox_env: str) -> None:
    site = build_site(sandbox_env, source_zip(ECHO))
    event = site.get(f"/{BASE_PATH}/deep/path?x=1").json()
    assert event["path"] == f"/{BASE_PATH}/deep/path"  # behind a mapping: with the base path
    assert event["pathParameters"] == {"proxy": "deep/path"}
    assert event["requestContext"]["domainName"] == site.domain
    assert event["headers"]["Host"] == site.domain or event["headers"]["host"] == site.domain
    assert event["queryStringParameters"] == {"x": "1"}

    unmapped = site.get("/v2/deep/path")
    assert unmapped.status == 403 and unmapped.json() == {"message": "Forbidden"}


def test_the_empty_base_path_maps_everything(sandbox_env: str) -> None:
    zone = f"z{uuid.uuid4().hex[:10]}.test"
    zone_id = route53().create_hosted_zone(Name=zone, CallerReference=uuid.uuid4().hex)[
        "HostedZone"
    ]["Id"]
    domain = f"api.{zone}"
    arn = create_function(EAST, unique("fn"), source_zip(ECHO))
    target = custom_domain(EAST, domain, create_api(EAST, arn), base_path="")
    route53().change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": domain,
                        "Type": "A",
                        "AliasTarget": {
                            "HostedZoneId": "Z2FDTNDATAQYW2",
                            "DNSName": target,
                            "EvaluateTargetHealth": False,
                        },
                    },
                }
            ]
        },
    )
    port = sandbox_env.rsplit(":", 1)[1]
    answer = http(f"{sandbox_env}/anything", headers={"Host": f"{domain}.localhost:{port}"})
    assert answer.status == 200 and answer.json()["path"] == "/anything"


def test_a_name_without_dns_is_a_clear_502(sandbox_env: str) -> None:
    port = sandbox_env.rsplit(":", 1)[1]
    answer = http(
        f"{sandbox_env}/",
        headers={"Host": f"nothing.z{uuid.uuid4().hex[:8]}.test.localhost:{port}"},
    )
    assert answer.status == 502
    assert "No DNS answer" in answer.json()["message"]
    assert "NXDOMAIN" in answer.json()["message"]


def test_a_name_that_is_not_an_api_domain_is_a_clear_502(sandbox_env: str) -> None:
    zone = f"z{uuid.uuid4().hex[:10]}.test"
    zone_id = route53().create_hosted_zone(Name=zone, CallerReference=uuid.uuid4().hex)[
        "HostedZone"
    ]["Id"]
    route53().change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": f"www.{zone}",
                        "Type": "A",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "203.0.113.7"}],
                    },
                }
            ]
        },
    )
    answer = http(f"{sandbox_env}/", headers={"Host": f"www.{zone}"})
    assert answer.status == 502
    assert "203.0.113.7" in answer.json()["message"]
    assert "not the regional domain name" in answer.json()["message"]


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("hello.example.com.localhost", "hello.example.com"),
        ("Hello.Example.com", "hello.example.com"),
        ("127.0.0.1", None),
        ("localhost", None),
        ("abc123.execute-api.us-east-1.localhost", None),
        ("d-abc123.execute-api.us-east-1.amazonaws.com", None),
        ("dynamodb.us-east-1.amazonaws.com", None),
    ],
)
def test_which_hosts_are_custom_domains(host: str, domain: str | None) -> None:
    assert domain_of(host) == domain


def test_an_api_host_keeps_its_meaning(sandbox_env: str) -> None:
    port = sandbox_env.rsplit(":", 1)[1]
    host = f"nosuchapi.execute-api.{EAST}.localhost:{port}"
    unknown_api = http(f"{sandbox_env}/prod/x", headers={"Host": host})
    assert unknown_api.status == 403 and unknown_api.json() == {"message": "Forbidden"}
