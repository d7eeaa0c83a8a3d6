"""TestDNSAnswer in the sandbox: Route 53's answer from the records and the current health.

Health here comes from CALCULATED checks (healthy while at least
HealthThreshold children are; none here, so threshold 0 is healthy and 1
unhealthy) and their `Inverted`/`Disabled` flags: plain Route 53 calls that
switch a check at once, with no endpoint to probe. Each test uses its own zone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import SandboxProcess

pytestmark = pytest.mark.sandbox

EAST, WEST = "us-east-1", "us-west-2"
API_ZONE = "Z2FDTNDATAQYW2"  # API Gateway's regional hosted zone id, as moto gives it


def route53() -> Any:
    return boto3.client("route53", region_name=EAST)


def new_zone() -> tuple[str, str]:
    """(zone id, zone name) of a fresh public zone."""
    name = f"z{uuid.uuid4().hex[:10]}.test"
    zone = route53().create_hosted_zone(Name=name, CallerReference=uuid.uuid4().hex)
    return zone["HostedZone"]["Id"], name


def calculated_check(healthy: bool) -> str:
    check_id: str = route53().create_health_check(
        CallerReference=uuid.uuid4().hex,
        HealthCheckConfig={
            "Type": "CALCULATED",
            "ChildHealthChecks": [],
            "HealthThreshold": 0 if healthy else 1,
        },
    )["HealthCheck"]["Id"]
    return check_id


def target(region: str) -> str:
    return f"d-{uuid.uuid4().hex[:10]}.execute-api.{region}.amazonaws.com"


def alias_record(
    name: str, region: str, check_id: str, routing: dict[str, str], dns_name: str | None = None
) -> dict[str, Any]:
    return {
        "Action": "UPSERT",
        "ResourceRecordSet": {
            "Name": name,
            "Type": "A",
            "SetIdentifier": f"set-{region}",
            "HealthCheckId": check_id,
            "AliasTarget": {
                "HostedZoneId": API_ZONE,
                "DNSName": dns_name or target(region),
                "EvaluateTargetHealth": False,
            },
            **routing,
        },
    }


def change(zone_id: str, *changes: dict[str, Any]) -> None:
    route53().change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": list(changes)}
    )


def ask(zone_id: str, name: str, record_type: str = "A") -> dict[str, Any]:
    found: dict[str, Any] = route53().test_dns_answer(
        HostedZoneId=zone_id, RecordName=name, RecordType=record_type
    )
    found.pop("ResponseMetadata", None)
    return found


def answering_region(zone_id: str, name: str) -> str:
    data = ask(zone_id, name)["RecordData"]
    return next(region for region in (EAST, WEST) if any(region in entry for entry in data))


def stack(routing: str, east_healthy: bool = True, west_healthy: bool = True) -> dict[str, str]:
    zone_id, zone = new_zone()
    name = f"hello.{zone}"
    checks = {EAST: calculated_check(east_healthy), WEST: calculated_check(west_healthy)}
    roles = {EAST: "PRIMARY", WEST: "SECONDARY"}
    change(
        zone_id,
        *(
            alias_record(
                name,
                region,
                checks[region],
                {"Region": region} if routing == "latency" else {"Failover": roles[region]},
            )
            for region in (EAST, WEST)
        ),
    )
    return {"zone": zone_id, "name": name, "east": checks[EAST], "west": checks[WEST]}


def test_the_answer_has_botocores_shape_and_shows_the_region(sandbox_env: str) -> None:
    made = stack("latency")
    found = ask(made["zone"], made["name"])
    assert found["ResponseCode"] == "NOERROR" and found["Protocol"] == "UDP"
    assert found["RecordName"] == made["name"] and found["RecordType"] == "A"
    assert found["Nameserver"].startswith("ns-")
    address, shown_target = found["RecordData"]
    assert address.startswith("192.0.2.")  # a documentation address, stable per region
    assert ".execute-api.us-east-1.amazonaws.com" in shown_target


def test_latency_routing_follows_health(sandbox_env: str) -> None:
    made = stack("latency")
    assert answering_region(made["zone"], made["name"]) == EAST  # nearest to us-east-1

    route53().update_health_check(HealthCheckId=made["east"], Inverted=True)
    assert answering_region(made["zone"], made["name"]) == WEST

    route53().update_health_check(HealthCheckId=made["west"], Inverted=True)
    # Every record unhealthy: Route 53 answers as if all were healthy.
    assert answering_region(made["zone"], made["name"]) == EAST

    route53().update_health_check(HealthCheckId=made["east"], Inverted=False)
    route53().update_health_check(HealthCheckId=made["west"], Inverted=False)
    assert answering_region(made["zone"], made["name"]) == EAST


def test_failover_routing_follows_the_primarys_health(sandbox_env: str) -> None:
    made = stack("failover", east_healthy=False)
    assert answering_region(made["zone"], made["name"]) == WEST

    route53().update_health_check(HealthCheckId=made["east"], HealthThreshold=0)
    assert answering_region(made["zone"], made["name"]) == EAST

    route53().update_health_check(HealthCheckId=made["east"], HealthThreshold=1)
    route53().update_health_check(HealthCheckId=made["west"], HealthThreshold=1)
    assert answering_region(made["zone"], made["name"]) == EAST  # both down: the primary


def test_a_disabled_check_counts_as_healthy(sandbox_env: str) -> None:
    made = stack("failover", east_healthy=False)
    assert answering_region(made["zone"], made["name"]) == WEST
    route53().update_health_check(HealthCheckId=made["east"], Disabled=True)
    assert answering_region(made["zone"], made["name"]) == EAST


def test_plain_records_missing_names_and_foreign_names(sandbox_env: str) -> None:
    zone_id, zone = new_zone()
    change(
        zone_id,
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": f"www.{zone}",
                "Type": "A",
                "TTL": 60,
                "ResourceRecords": [{"Value": "203.0.113.10"}],
            },
        },
    )
    assert ask(zone_id, f"www.{zone}")["RecordData"] == ["203.0.113.10"]
    assert ask(zone_id, f"www.{zone}", "AAAA")["ResponseCode"] == "NOERROR"
    assert ask(zone_id, f"www.{zone}", "AAAA")["RecordData"] == []
    assert ask(zone_id, f"nope.{zone}")["ResponseCode"] == "NXDOMAIN"
    assert ask(zone_id, "www.elsewhere.test")["ResponseCode"] == "REFUSED"
    assert ask(zone_id, zone, "NS")["RecordData"][0].startswith("ns-")


def test_errors_are_route53s(sandbox_env: str) -> None:
    with pytest.raises(ClientError) as missing:
        ask("ZNOSUCHZONE0", "www.example.com")
    assert missing.value.response["Error"]["Code"] == "NoSuchHostedZone"
    zone_id, zone = new_zone()
    with pytest.raises(ClientError) as bad_type:
        ask(zone_id, f"www.{zone}", "BOGUS")
    assert bad_type.value.response["Error"]["Code"] == "InvalidInput"


@pytest.fixture
def west_client(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SandboxProcess]:
    """A sandbox whose DNS client sits in us-west-2."""
    process = launch_sandbox("--client-region", WEST)
    process.wait_until_ready()
    monkeypatch.setenv("AWS_ENDPOINT_URL", process.endpoint)
    yield process


def test_latency_is_measured_from_the_configured_client_region(west_client: SandboxProcess) -> None:
    made = stack("latency")
    assert answering_region(made["zone"], made["name"]) == WEST
    route53().update_health_check(HealthCheckId=made["west"], Inverted=True)
    assert answering_region(made["zone"], made["name"]) == EAST
    assert f"DNS answers as seen from {WEST}" in west_client.stderr()
