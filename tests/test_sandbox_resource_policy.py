"""REST API resource policies with aws:SourceIp on the sandbox, and its ip-ranges.json.

One sandbox subprocess at --time-scale 10 for the module (its ranges document
is changed by one test and put back). Callers other than the health checkers
name their address with X-Forwarded-For, the sandbox's test device; 192.0.2.0/24
and 198.51.100.0/24 (documentation ranges) play the stranger and the operator.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.conftest import launch_sandbox_process
from tests.e2e_helpers import internal_client
from tests.sandbox_api_helpers import (
    ACCOUNT,
    SECRET,
    api_get,
    api_host,
    create_api,
    eventually,
    health_function,
    http,
    unique,
)

# One worker runs the whole module: its stack (a module fixture) is then built once
# (`--dist loadgroup`, pyproject's addopts).
pytestmark = [pytest.mark.sandbox, pytest.mark.xdist_group("sandbox_resource_policy")]

EAST = "us-east-1"
CHECKERS = ["eu-west-1", "us-east-1", "us-west-2"]
STRANGER, OPERATOR, OPERATOR_CIDR = "192.0.2.77", "198.51.100.7", "198.51.100.0/24"
HEALTH = f"/prod/health?healthCheckerId={SECRET}"
HELLO = f"/prod/hello?healthCheckerId={SECRET}"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process = launch_sandbox_process(tmp_path_factory.mktemp("policy"), "--time-scale", "10")
    try:
        process.wait_until_ready()
        yield process.endpoint
    finally:
        process.stop()


@pytest.fixture
def endpoint(sandbox: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox)
    return sandbox


def document(endpoint: str) -> dict[str, Any]:
    answer = http(f"{endpoint}/_sandbox/ip-ranges.json")
    assert answer.status == 200
    parsed: dict[str, Any] = answer.json()
    return parsed


def checker_cidrs(doc: dict[str, Any], regions: list[str]) -> list[str]:
    return [
        p["ip_prefix"]
        for p in doc["prefixes"]
        if p["service"] == "ROUTE53_HEALTHCHECKS" and p["region"] in regions
    ] + [
        p["ipv6_prefix"]
        for p in doc["ipv6_prefixes"]
        if p["service"] == "ROUTE53_HEALTHCHECKS" and p["region"] in regions
    ]


def allow_list(cidrs: list[str], resource: str = "execute-api:/*/*/health") -> str:
    """What `failover up` writes: invoke allowed, denied on `resource` outside the CIDRs."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "execute-api:Invoke",
                    "Resource": "execute-api:/*",
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "execute-api:Invoke",
                    "Resource": resource,
                    "Condition": {"NotIpAddress": {"aws:SourceIp": cidrs}},
                },
            ],
        }
    )


def put_policy(api: str, policy: str, *, deploy: bool = True) -> None:
    ag = boto3.client("apigateway", region_name=EAST)
    ag.update_rest_api(
        restApiId=api, patchOperations=[{"op": "replace", "path": "/policy", "value": policy}]
    )
    if deploy:
        ag.create_deployment(restApiId=api, stageName="prod")


def call(endpoint: str, api: str, path: str, caller: str | None) -> Any:
    headers = {"X-Forwarded-For": caller} if caller else {}
    return api_get(endpoint, api, EAST, path, headers=headers)


def refusal(api: str, path: str, explicit: bool = True) -> dict[str, str]:
    arn = f"arn:aws:execute-api:{EAST}:********{ACCOUNT[-4:]}:{api}/prod/GET/{path}"
    suffix = " with an explicit deny" if explicit else ""
    message = f"User: anonymous is not authorized to perform: execute-api:Invoke on resource: {arn}"
    return {"Message": message + suffix}


def test_the_policy_admits_the_operator_and_refuses_a_stranger_on_health_only(
    endpoint: str,
) -> None:
    api = create_api(EAST, health_function(EAST, unique("policy")))
    put_policy(api, allow_list([*checker_cidrs(document(endpoint), CHECKERS), OPERATOR_CIDR]))
    stranger = call(endpoint, api, HEALTH, STRANGER)
    assert (stranger.status, stranger.json()) == (403, refusal(api, "health"))
    assert stranger.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert call(endpoint, api, HEALTH, OPERATOR).status == 200
    assert call(endpoint, api, HEALTH, None).status == 403  # no header: 127.0.0.1, not listed
    assert call(endpoint, api, HELLO, STRANGER).status == 200  # /hello is not restricted


def test_the_function_sees_the_callers_address_not_the_test_device(endpoint: str) -> None:
    from tests.sandbox_api_helpers import ECHO, create_function, source_zip

    api = create_api(EAST, create_function(EAST, unique("echo"), source_zip(ECHO)))
    event = call(endpoint, api, "/prod/x", OPERATOR).json()
    assert event["requestContext"]["identity"]["sourceIp"] == OPERATOR
    assert event["headers"]["X-Forwarded-For"] == OPERATOR


def test_a_policy_change_takes_effect_on_the_next_deployment(endpoint: str) -> None:
    api = create_api(EAST, health_function(EAST, unique("deploy")))
    put_policy(api, allow_list([OPERATOR_CIDR]), deploy=False)
    assert call(endpoint, api, HEALTH, STRANGER).status == 200  # the deployed stage has none
    boto3.client("apigateway", region_name=EAST).create_deployment(restApiId=api, stageName="prod")
    assert call(endpoint, api, HEALTH, STRANGER).status == 403


def test_ipv6_callers_and_every_route(endpoint: str) -> None:
    api = create_api(EAST, health_function(EAST, unique("six")))
    put_policy(api, allow_list(["2001:db8:1::/48"], resource="execute-api:/*"))
    assert call(endpoint, api, HEALTH, "2001:db8:1::7").status == 200
    assert call(endpoint, api, HELLO, "2001:db8:2::7").json() == refusal(api, "hello")
    assert call(endpoint, api, HELLO, OPERATOR).status == 403


def test_without_an_allow_the_caller_is_refused_implicitly(endpoint: str) -> None:
    api = create_api(EAST, health_function(EAST, unique("implicit")))
    only_deny = json.loads(allow_list([OPERATOR_CIDR]))
    only_deny["Statement"] = only_deny["Statement"][1:]
    put_policy(api, json.dumps(only_deny))
    answer = call(endpoint, api, HEALTH, OPERATOR)  # not denied, but nothing allows it
    assert (answer.status, answer.json()) == (403, refusal(api, "health", explicit=False))


def test_the_ranges_document_has_the_real_checker_prefixes(endpoint: str) -> None:
    doc = document(endpoint)
    assert doc["syncToken"].isdigit() and len(doc["createDate"]) == len("2026-12-04-08-30-00")
    cidrs = checker_cidrs(doc, ["us-east-1"])
    assert "107.23.255.0/26" in cidrs and "2600:1f18:7fff:f800::/56" in cidrs
    documentation = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24")]
    documentation += [ipaddress.ip_network(n) for n in ("203.0.113.0/24", "2001:db8::/32")]
    for cidr in checker_cidrs(doc, [p["region"] for p in doc["prefixes"]]):
        network = ipaddress.ip_network(cidr)
        assert not any(network.overlaps(d) for d in documentation if d.version == network.version)


def test_health_checkers_pass_a_policy_built_from_the_document(endpoint: str) -> None:
    api = create_api(EAST, health_function(EAST, unique("checked")))
    doc = document(endpoint)
    put_policy(api, allow_list(checker_cidrs(doc, CHECKERS)))
    route53 = boto3.client("route53")
    check = route53.create_health_check(
        CallerReference=str(uuid.uuid4()),
        HealthCheckConfig={
            "Type": "HTTPS_STR_MATCH",
            "FullyQualifiedDomainName": api_host(api, EAST),
            "Port": 443,
            "ResourcePath": HEALTH,
            "SearchString": "hello from",
            "RequestInterval": 10,
            "FailureThreshold": 2,
            "Regions": CHECKERS,
        },
    )["HealthCheck"]["Id"]

    def reports() -> list[dict[str, Any]]:
        # Polled: read outside the account's 1-a-second quota, as the sandbox's page does.
        watcher = internal_client("route53", EAST)
        found: list[dict[str, Any]] = watcher.get_health_check_status(HealthCheckId=check)[
            "HealthCheckObservations"
        ]
        passed = [o["StatusReport"]["Status"].startswith("Success") for o in found]
        return found if len(found) == len(CHECKERS) and all(passed) else []

    # Until every checker passed (a cold start on a busy machine may time out once; a
    # policy that refused the checkers would answer 403 every time and never get here).
    observed = eventually(reports, "every checker to pass the policy")
    for o in observed:  # each checker called from inside its own region's prefixes
        mine = checker_cidrs(doc, [o["Region"]])
        assert any(ipaddress.ip_address(o["IPAddress"]) in ipaddress.ip_network(c) for c in mine)


def test_post_replaces_the_document_and_refuses_garbage(endpoint: str) -> None:
    before = document(endpoint)
    try:
        changed = json.loads(json.dumps(before))
        changed["syncToken"], changed["createDate"] = "1999999999", "2033-05-18-03-33-19"
        changed["prefixes"].append(
            {
                "ip_prefix": "15.177.64.0/23",
                "region": "us-east-1",
                "service": "ROUTE53_HEALTHCHECKS",
            }
        )
        answer = http(
            f"{endpoint}/_sandbox/ip-ranges", method="POST", body=json.dumps(changed).encode()
        )
        assert answer.status == 200
        assert document(endpoint) == answer.json() and answer.json()["syncToken"] == "1999999999"
        bad = {"prefixes": [{"ip_prefix": "10.0.0.300/8", "region": "x", "service": "y"}]}
        refused = http(
            f"{endpoint}/_sandbox/ip-ranges", method="POST", body=json.dumps(bad).encode()
        )
        assert refused.status == 400 and "10.0.0.300/8" in refused.json()["error"]
        assert document(endpoint)["syncToken"] == "1999999999"  # unchanged by the bad one
    finally:
        http(f"{endpoint}/_sandbox/ip-ranges", method="POST", body=json.dumps(before).encode())


def test_a_policy_over_8_kb_or_not_json_is_refused(endpoint: str) -> None:
    from botocore.exceptions import ClientError

    api = create_api(EAST, health_function(EAST, unique("big")))
    many = [f"2001:db8:{i:x}::1/128" for i in range(400)]
    for policy in (allow_list(many), "not a policy"):
        with pytest.raises(ClientError) as refused:
            put_policy(api, policy, deploy=False)
        assert refused.value.response["Error"]["Code"] == "BadRequestException"
    stored = boto3.client("apigateway", region_name=EAST).get_rest_api(restApiId=api)
    assert not stored.get("policy")  # nothing was stored
