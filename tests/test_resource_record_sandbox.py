"""Routing switches against the sandbox's Route 53: a record deleted and created again with the
same content is accepted, as on AWS, so latency -> failover -> latency converges."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

pytestmark = pytest.mark.sandbox

EAST = "us-east-1"


def _record(name: str, **routing: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "A",
        "SetIdentifier": "stack-us-east-1",
        "AliasTarget": {
            "HostedZoneId": "Z1UJRXOUMOOFQ8",
            "DNSName": "d-abc.execute-api.us-east-1.amazonaws.com",
            "EvaluateTargetHealth": False,
        },
        **routing,
    }


def _routing(zone_id: str, name: str) -> list[tuple[str, str | None, str | None]]:
    sets = boto3.client("route53", EAST).list_resource_record_sets(HostedZoneId=zone_id)
    return [
        (r["SetIdentifier"], r.get("Region"), r.get("Failover"))
        for r in sets["ResourceRecordSets"]
        if r["Type"] == "A" and r["Name"].rstrip(".") == name
    ]


def test_routing_switches_back_and_forth_in_single_batches(sandbox_env: str) -> None:
    zone = f"z{uuid.uuid4().hex[:10]}.test"
    name = f"app.{zone}"
    r53 = boto3.client("route53", EAST)
    zone_id = r53.create_hosted_zone(Name=zone, CallerReference=uuid.uuid4().hex)["HostedZone"][
        "Id"
    ]
    latency, failover = _record(name, Region=EAST), _record(name, Failover="PRIMARY")

    def apply(*changes: tuple[str, dict[str, Any]]) -> None:
        r53.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={
                "Changes": [{"Action": a, "ResourceRecordSet": dict(r)} for a, r in changes]
            },
        )

    apply(("CREATE", latency))
    apply(("DELETE", latency), ("CREATE", failover))
    assert _routing(zone_id, name) == [("stack-us-east-1", None, "PRIMARY")]
    apply(("DELETE", failover), ("CREATE", latency))  # moto alone refuses this one
    assert _routing(zone_id, name) == [("stack-us-east-1", EAST, None)]

    apply(("DELETE", latency))
    apply(("CREATE", latency))
    assert _routing(zone_id, name) == [("stack-us-east-1", EAST, None)]
    with pytest.raises(r53.exceptions.InvalidChangeBatch):
        apply(("CREATE", latency))  # it exists now: AWS refuses, and so does the sandbox
