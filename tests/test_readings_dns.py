"""The DNS answer is matched to regions even though API Gateway rotates its addresses.

TestDNSAnswer returns the addresses Route 53 would answer with; a regional endpoint's
addresses change from one lookup to the next. The drill must still see which region
an answer points at, so each reading resolves the alias targets afresh.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.config.schema import DomainConfig
from failover_cli.ops.failover_observer import AwsObserver
from tests.engine_helpers import context, make_config

EAST = "d-east.execute-api.us-east-1.amazonaws.com"
WEST = "d-west.execute-api.us-west-2.amazonaws.com"
# Each lookup of a target answers the next address of its pool, as a rotating endpoint.
POOLS = {EAST: ["3.0.0.1", "3.0.0.2", "3.0.0.3"], WEST: ["44.0.0.1", "44.0.0.2", "44.0.0.3"]}


@pytest.fixture
def zone() -> Iterator[str]:
    with mock_aws():
        r53 = boto3.client("route53", "us-east-1")
        zone_id = r53.create_hosted_zone(Name="example.com", CallerReference="z")["HostedZone"][
            "Id"
        ].split("/")[-1]
        changes = [
            {
                "Action": "CREATE",
                "ResourceRecordSet": {
                    "Name": "hello.example.com",
                    "Type": "A",
                    "SetIdentifier": f"hello-{region}",
                    "Region": region,
                    "AliasTarget": {
                        "HostedZoneId": "Z1UJRXOUMOOFQ8",
                        "DNSName": target,
                        "EvaluateTargetHealth": False,
                    },
                },
            }
            for region, target in (("us-east-1", EAST), ("us-west-2", WEST))
        ]
        r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
        yield zone_id


@pytest.fixture
def rotating(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    lookups = {EAST: 0, WEST: 0}

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        pool = POOLS[host.rstrip(".")]
        address = pool[lookups[host.rstrip(".")] % len(pool)]
        lookups[host.rstrip(".")] += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def test_each_answer_is_matched_to_its_region_while_addresses_rotate(
    zone: str, rotating: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(domain=DomainConfig(name="hello.example.com", hosted_zone="example.com"))
    with context(config) as (ctx, _):
        observer = AwsObserver(ctx)
        r53 = observer._route53()  # the client the observer asks (its own call deadline)
        answers = iter(
            [
                ["3.0.0.1"],  # east, first address of its pool
                ["3.0.0.2"],  # east again: a new address since the last reading
                ["44.0.0.3"],  # the answer moved west, on an address not seen before
            ]
        )
        monkeypatch.setattr(
            r53, "test_dns_answer", lambda **_: {"RecordData": next(answers)}, raising=False
        )
        seen = [observer.dns().regions for _ in range(3)]
    assert seen == [frozenset({"us-east-1"}), frozenset({"us-east-1"}), frozenset({"us-west-2"})]
    assert rotating[EAST] == 3 and rotating[WEST] == 3  # looked up afresh at each reading
