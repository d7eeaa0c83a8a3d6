"""`failover up` / `down` with a custom domain against the sandbox, checked independently.

The hosted zone exists first (as the user must create it). After `up`: an ISSUED
certificate per region, regional TLS 1.2 domain names mapped to the API stage, one
alias record per region aimed at that region's domain with its health check. A
second `up` makes no mutating call. `down` removes all of the stack's and nothing
else: an untagged certificate and a foreign record in the zone stay.

One sandbox serves the session: stack, table, function and zone names are unique.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from failover_cli.cli.main import cli
from tests.engine_helpers import is_mutating

pytestmark = pytest.mark.sandbox

EAST, WEST = "us-east-1", "us-west-2"
REGIONS = (EAST, WEST)
OWNERSHIP_KEY = "failover:stack"


@dataclass
class Stack:
    name: str
    zone: str
    zone_id: str
    domain: str
    config: Path
    calls: Path

    def write_config(self, routing: str) -> None:
        self.config.write_text(
            f"stack: {self.name}\n"
            f"regions: [{EAST}, {WEST}]\n"
            f"table: {{name: t{self.name}, billing: on-demand}}\n"
            f"function: {{name: f{self.name}}}\n"
            f"domain:\n  name: {self.domain}\n  hosted_zone: {self.zone}\n"
            f"  base_path: v1\n  routing: {routing}\n"
        )

    def run(self, *args: str) -> Result:
        self.calls.write_text("")
        result = CliRunner().invoke(cli, ["--config", str(self.config), *args])
        assert result.exit_code == 0, (result.output, result.exception)
        return result

    def mutating_calls(self) -> list[str]:
        lines = [json.loads(line) for line in self.calls.read_text().splitlines() if line]
        assert lines, "the command logged no AWS call at all"
        return [f"{c['service']}:{c['region']}:{c['op']}" for c in lines if is_mutating(c["op"])]


@pytest.fixture
def stack(sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stack:
    name = f"e{uuid.uuid4().hex[:10]}"
    zone = f"{name}.test"
    zone_id = boto3.client("route53", EAST).create_hosted_zone(
        Name=zone, CallerReference=uuid.uuid4().hex
    )["HostedZone"]["Id"]
    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAILOVER_CALL_LOG", str(calls))
    found = Stack(name, zone, zone_id, f"app.{zone}", tmp_path / "failover.yaml", calls)
    found.write_config("latency")
    return found


def _tags(acm: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]}


def _certificates(domain: str, region: str) -> dict[str, dict[str, Any]]:
    """arn -> {status, tags} of every certificate for `domain` in `region`."""
    acm = boto3.client("acm", region)
    found = {}
    for page in acm.get_paginator("list_certificates").paginate(
        CertificateStatuses=["PENDING_VALIDATION", "ISSUED"]
    ):
        for summary in page["CertificateSummaryList"]:
            if summary["DomainName"] == domain:
                arn = summary["CertificateArn"]
                status = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
                found[arn] = {"status": status, "tags": _tags(acm, arn)}
    return found


def _stack_certificates(stack: Stack, region: str) -> dict[str, dict[str, Any]]:
    return {
        arn: c
        for arn, c in _certificates(stack.domain, region).items()
        if c["tags"].get(OWNERSHIP_KEY) == stack.name
    }


def _records(stack: Stack) -> list[dict[str, Any]]:
    sets = boto3.client("route53", EAST).list_resource_record_sets(HostedZoneId=stack.zone_id)
    return [r for r in sets["ResourceRecordSets"] if r["Type"] not in ("NS", "SOA")]


def _a_records(stack: Stack) -> dict[str, dict[str, Any]]:
    return {
        r["SetIdentifier"]: r
        for r in _records(stack)
        if r["Type"] == "A" and r["Name"].rstrip(".") == stack.domain
    }


def _health_check_ids(stack: Stack) -> dict[str, str]:
    """region -> id of the check tagged Name=<stack>-<region> and failover:stack=<stack>."""
    r53 = boto3.client("route53", EAST)
    ids = [c["Id"] for c in r53.list_health_checks()["HealthChecks"]]
    found = {}
    for start in range(0, len(ids), 10):
        answer = r53.list_tags_for_resources(
            ResourceType="healthcheck", ResourceIds=ids[start : start + 10]
        )
        for entry in answer["ResourceTagSets"]:
            tags = {t["Key"]: t["Value"] for t in entry["Tags"]}
            if tags.get(OWNERSHIP_KEY) == stack.name:
                found[tags["Name"].removeprefix(f"{stack.name}-")] = entry["ResourceId"]
    return found


def _api_id(stack: Stack, region: str) -> str:
    apis = boto3.client("apigateway", region).get_rest_apis()["items"]
    return str(next(a["id"] for a in apis if a["name"] == stack.name))


def _foreign_record(stack: Stack) -> dict[str, Any]:
    record = {
        "Name": f"{stack.domain}.",
        "Type": "A",
        "SetIdentifier": "someone-else",
        "Region": "eu-west-1",
        "AliasTarget": {
            "HostedZoneId": "Z2FDTNDATAQYW2",
            "DNSName": "d-foreign.execute-api.eu-west-1.amazonaws.com",
            "EvaluateTargetHealth": False,
        },
    }
    boto3.client("route53", EAST).change_resource_record_sets(
        HostedZoneId=stack.zone_id,
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": record}]},
    )
    return record


def test_up_builds_the_domain_a_second_up_changes_nothing_down_leaves_others(
    stack: Stack,
) -> None:
    foreign_record = _foreign_record(stack)
    # Someone's certificate for the same name, without our tags: never adopted, never deleted.
    foreign_cert = boto3.client("acm", EAST).request_certificate(
        DomainName=stack.domain, ValidationMethod="DNS"
    )["CertificateArn"]

    stack.run("up")

    checks = _health_check_ids(stack)
    records = _a_records(stack)
    assert sorted(records) == sorted([f"{stack.name}-{r}" for r in REGIONS] + ["someone-else"])
    for region in REGIONS:
        [(arn, cert)] = _stack_certificates(stack, region).items()
        assert arn != foreign_cert and cert["status"] == "ISSUED"
        ag = boto3.client("apigateway", region)
        domain = ag.get_domain_name(domainName=stack.domain)
        assert domain["endpointConfiguration"]["types"] == ["REGIONAL"]
        assert domain["securityPolicy"] == "TLS_1_2"
        assert domain["regionalCertificateArn"] == arn
        assert ag.get_base_path_mappings(domainName=stack.domain)["items"] == [
            {"basePath": "v1", "restApiId": _api_id(stack, region), "stage": "prod"}
        ]
        record = records[f"{stack.name}-{region}"]
        assert record["Region"] == region
        assert record["AliasTarget"]["DNSName"].rstrip(".") == domain["regionalDomainName"]
        assert record["AliasTarget"]["HostedZoneId"] == domain["regionalHostedZoneId"]
        assert record["AliasTarget"]["EvaluateTargetHealth"] is False
        # The record uses the region's CALCULATED check: its probe AND its switch readers.
        assert record["HealthCheckId"] == checks[f"{region}-switched"]
        calculated = boto3.client("route53", EAST).get_health_check(
            HealthCheckId=checks[f"{region}-switched"]
        )["HealthCheck"]["HealthCheckConfig"]
        readers = [checks[f"{region}-read-in-{q}"] for q in REGIONS if q != region]
        assert sorted(calculated["ChildHealthChecks"]) == sorted([checks[region], *readers])
        assert calculated["HealthThreshold"] == 1 + len(readers)
    assert _certificates(stack.domain, EAST)[foreign_cert]["status"] == "ISSUED"  # same CNAME

    stack.run("up")
    assert stack.mutating_calls() == []

    stack.run("down", "--yes")
    for region in REGIONS:
        assert _stack_certificates(stack, region) == {}
        domains = boto3.client("apigateway", region).get_domain_names()["items"]
        assert stack.domain not in [d["domainName"] for d in domains]
    assert list(_certificates(stack.domain, EAST)) == [foreign_cert]
    remaining = _records(stack)
    assert [r["SetIdentifier"] for r in remaining if r["Type"] == "A"] == ["someone-else"]
    assert _a_records(stack)["someone-else"]["AliasTarget"] == foreign_record["AliasTarget"]
    # The foreign certificate asks for the same validation record: it stays, unchanged.
    [cname] = [r for r in remaining if r["Type"] == "CNAME"]
    asked = boto3.client("acm", EAST).describe_certificate(CertificateArn=foreign_cert)
    record = asked["Certificate"]["DomainValidationOptions"][0]["ResourceRecord"]
    assert (cname["Name"], cname["ResourceRecords"]) == (
        record["Name"],
        [{"Value": record["Value"]}],
    )
    assert len(remaining) == 2


def test_switching_routing_moves_the_records_and_down_removes_the_validation_record(
    stack: Stack,
) -> None:
    stack.run("up")
    assert {r.get("Region") for r in _a_records(stack).values()} == set(REGIONS)

    stack.write_config("failover")
    stack.run("up")
    records = _a_records(stack)
    assert {k: r.get("Failover") for k, r in records.items()} == {
        f"{stack.name}-{EAST}": "PRIMARY",
        f"{stack.name}-{WEST}": "SECONDARY",
    }
    assert not any("Region" in r for r in records.values())  # no stale latency record
    stack.run("up")
    assert stack.mutating_calls() == []

    stack.run("down", "--yes")
    assert _records(stack) == []  # records and the validation CNAME: the zone is as it was
    for region in REGIONS:
        assert _certificates(stack.domain, region) == {}
