"""The data-plane switch as `failover up` builds it, against a sandbox at --time-scale 10.

Three regions on latency routing: `up` makes, per region, its probe, a switch reader in
each other region and a CALCULATED check that the record uses, and seeds the switch item.
With every API answered in us-east-1 hanging, one write to us-west-2's table replica
(the data plane only) takes us-east-1 out of the authoritative DNS answer, and removing
it brings us-east-1 back. (force-fail writing the switch itself is the issue's next step;
here the write is made by hand, as force-fail will make it.) Nothing asserts how long
anything took.
"""

# ruff: noqa: F811  (the sandbox fixture comes from test_sandbox_outage.py)

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from failover_cli.cli.main import cli
from tests.sandbox_api_helpers import eventually
from tests.test_sandbox_nameserver import nameserver
from tests.test_sandbox_outage import (  # noqa: F401  (process, sandbox: the module's sandbox)
    outage,
    process,
    sandbox,
)
from tests.test_sandbox_outage_us_east_1 import answering_region

pytestmark = pytest.mark.sandbox

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
REGIONS = (EAST, WEST, EU)


def _checks(stack: str) -> dict[str, dict[str, Any]]:
    """Name tag -> HealthCheckConfig of the stack's checks."""
    r53 = boto3.client("route53", EAST)
    checks = {c["Id"]: c for c in r53.list_health_checks()["HealthChecks"]}
    found = {}
    ids = list(checks)
    for start in range(0, len(ids), 10):
        answer = r53.list_tags_for_resources(
            ResourceType="healthcheck", ResourceIds=ids[start : start + 10]
        )
        for entry in answer["ResourceTagSets"]:
            tags = {t["Key"]: t["Value"] for t in entry["Tags"]}
            if tags.get("failover:stack") == stack:
                check = checks[entry["ResourceId"]]
                found[tags["Name"]] = {"Id": check["Id"], **check["HealthCheckConfig"]}
    return found


def _force_out(table: str, replica: str, region: str, out: bool) -> None:
    """The write force-fail makes, in one replica: SET or REMOVE forced_out.<region>."""
    dynamo = boto3.client("dynamodb", region_name=replica)
    key = {"HelloKey": {"S": "failover:switch"}}
    if out:
        entry = {"M": {"at": {"S": "now"}, "by": {"S": "test"}, "why": {"S": "drill"}}}
        dynamo.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET forced_out.#r = :e ADD revision :one",
            ExpressionAttributeNames={"#r": region},
            ExpressionAttributeValues={":e": entry, ":one": {"N": "1"}},
            ConditionExpression="attribute_exists(forced_out)",  # the map `up` seeded
        )
    else:
        dynamo.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="REMOVE forced_out.#r ADD revision :one",
            ExpressionAttributeNames={"#r": region},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )


def test_up_builds_the_switch_and_a_replica_write_moves_dns_with_us_east_1_hanging(
    sandbox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """runs code"""
    monkeypatch.setenv("FAILOVER_RESOLVE", f"*={sandbox}")
    name = f"s{uuid.uuid4().hex[:10]}"
    zone = f"{name}.test"
    boto3.client("route53", EAST).create_hosted_zone(Name=zone, CallerReference=name)
    domain = f"app.{zone}"
    config = tmp_path / "failover.yaml"
    config.write_text(
        f"stack: {name}\n"
        f"regions: [{EAST}, {WEST}, {EU}]\n"
        f"table: {{name: t{name}, billing: on-demand}}\n"
        f"function: {{name: f{name}}}\n"
        f"domain:\n  name: {domain}\n  hosted_zone: {zone}\n  routing: latency\n"
    )
    run = CliRunner().invoke(cli, ["--config", str(config), "up"])
    assert run.exit_code == 0, (run.output, run.exception)

    checks = _checks(name)
    for region in REGIONS:
        readers = [f"{name}-{region}-read-in-{q}" for q in REGIONS if q != region]
        for reader in readers:
            assert checks[reader]["Inverted"] is True
            assert checks[reader]["SearchString"] == "failover-switch:forced-out"
            assert f"/health/switch/{region}?" in checks[reader]["ResourcePath"]
            assert checks[reader]["RequestInterval"] == 30  # switch.interval_s's default
        calculated = checks[f"{name}-{region}-switched"]
        assert calculated["Type"] == "CALCULATED"
        children = [checks[f"{name}-{region}"]["Id"], *(checks[r]["Id"] for r in readers)]
        assert sorted(calculated["ChildHealthChecks"]) == sorted(children)
        assert calculated["HealthThreshold"] == 3
        assert checks[f"{name}-{region}"].get("Inverted", False) is False  # never on a probe

    answering = answering_region(nameserver(sandbox), domain)
    eventually(lambda: answering() == EAST, "DNS to answer with us-east-1 (nearest)")

    outage(sandbox, EAST, "hang")  # every API answered in us-east-1 hangs
    _force_out(f"t{name}", WEST, EAST, out=True)  # us-west-2's replica only
    eventually(lambda: answering() not in (EAST, None), "the readers to take us-east-1 out")
    _force_out(f"t{name}", WEST, EAST, out=False)
    eventually(lambda: answering() == EAST, "us-east-1 to come back")
