"""`--outage us-east-1:hang`: every API answered in us-east-1 hangs, the global ones included,
while Route 53's data plane (checkers, authoritative DNS) and the other regions go on.

On AWS the control planes of Route 53, IAM and STS's global endpoint live in
us-east-1, as do the Route 53 metrics (CloudWatch) and the alarm topic (SNS);
Route 53's name servers and health checkers do not ("AWS Fault Isolation
Boundaries", global services). The stack is built before the outage starts.
Clients use one attempt and short time-outs where a hang is expected; nothing
asserts how long anything took. The module's sandbox is test_sandbox_outage.py's
(at --time-scale 10, each test starting with no outage).
"""

# ruff: noqa: F811  (the sandbox fixture comes from test_sandbox_outage.py)

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from failover_cli.sandbox.route53.dns import fake_ipv4
from tests.sandbox_api_helpers import (
    create_api,
    eventually,
    health_function,
    set_force_fail,
    unique,
)
from tests.test_sandbox_dns import alias_record, change, new_zone
from tests.test_sandbox_domains_failover import health_check
from tests.test_sandbox_nameserver import addresses, nameserver, query
from tests.test_sandbox_outage import (  # noqa: F401  (process, sandbox: the module's sandbox)
    ONCE,
    QUICK,
    outage,
    process,
    sandbox,
    switch,
)

pytestmark = pytest.mark.sandbox

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
# Each call names the region its client signs for: the global services count as us-east-1.
IN_US_EAST_1: list[tuple[str, str, str, dict[str, Any]]] = [
    ("route53", WEST, "list_hosted_zones", {}),
    ("iam", WEST, "list_roles", {}),
    ("sts", EAST, "get_caller_identity", {}),  # STS's global endpoint signs for us-east-1
    ("cloudwatch", EAST, "describe_alarms", {}),
    ("sns", EAST, "list_topics", {}),
    ("dynamodb", EAST, "list_tables", {}),
    ("lambda", EAST, "list_functions", {}),
]
ELSEWHERE = [
    ("sts", WEST, "get_caller_identity", {}),
    ("cloudwatch", WEST, "describe_alarms", {}),
    ("sns", EU, "list_topics", {}),
    ("dynamodb", WEST, "list_tables", {}),
    ("lambda", EU, "list_functions", {}),
]


def client(service: str, region: str, config: Config = ONCE) -> Any:
    return boto3.client(service, region_name=region, config=config)


def hangs(service: str, region: str, call: str, args: dict[str, Any]) -> bool:
    try:
        getattr(client(service, region, QUICK), call)(**args)
    except (ReadTimeoutError, ConnectTimeoutError):
        return True
    return False


def test_every_api_answered_in_us_east_1_hangs_the_others_answer(sandbox: str) -> None:
    outage(sandbox, EAST, "hang")
    for service, region, call, args in IN_US_EAST_1:
        assert hangs(service, region, call, args), f"{service} ({region}) answered"
    for service, region, call, args in ELSEWHERE:
        getattr(client(service, region), call)(**args)  # answers
    switch(sandbox, "DELETE", {"region": EAST})
    client("route53", EAST).list_hosted_zones()  # and back


def test_checkers_dns_and_replication_go_on_while_us_east_1_hangs(sandbox: str) -> None:
    """runs code"""
    # Before the outage: a us-west-2 function probed by a check, the PRIMARY of a name
    # whose SECONDARY is eu-west-1; a table in us-west-2 with a replica in eu-west-1.
    name = unique("east-down")
    api = create_api(WEST, health_function(WEST, name))
    check = health_check(api, WEST)
    zone_id, zone = new_zone()
    site = f"app.{zone}"
    secondary = client("route53", EAST).create_health_check(
        CallerReference=uuid.uuid4().hex,
        HealthCheckConfig={"Type": "HTTP", "FullyQualifiedDomainName": "a.test", "Disabled": True},
    )["HealthCheck"]["Id"]
    change(
        zone_id,
        alias_record(site, WEST, check, {"Failover": "PRIMARY"}),
        alias_record(site, EU, secondary, {"Failover": "SECONDARY"}),
    )
    table = replicated_table(WEST, EU)
    where = nameserver(sandbox)
    answering = answering_region(where, site)
    eventually(lambda: answering() == WEST, "DNS to answer with the healthy PRIMARY")

    outage(sandbox, EAST, "hang")
    assert hangs("route53", EAST, "get_hosted_zone", {"Id": zone_id})
    assert answering() == WEST  # the name servers still answer
    set_force_fail(WEST, name, "true")  # us-west-2's Lambda API answers
    eventually(lambda: answering() == EU, "the checkers to move DNS to eu-west-1")
    client("dynamodb", WEST).put_item(
        TableName=table, Item={"k": {"S": "during"}, "v": {"S": "east down"}}
    )
    eu = client("dynamodb", EU)
    eventually(
        lambda: "Item" in eu.get_item(TableName=table, Key={"k": {"S": "during"}}),
        "the write to replicate from us-west-2 to eu-west-1",
    )
    set_force_fail(WEST, name, "false")
    eventually(lambda: answering() == WEST, "DNS to move back with the checkers")
    assert query(where, site, tcp=True).answer  # TCP too


def answering_region(where: tuple[str, int], name: str) -> Callable[[], str | None]:
    def region() -> str | None:
        found = addresses(query(where, name))
        by_address = {fake_ipv4(r, ""): r for r in (EAST, WEST, EU)}
        return by_address.get(found[0]) if len(found) == 1 else None

    return region


def replicated_table(home: str, *replicas: str) -> str:
    """A global table in `home` with a replica in each of `replicas`, all ACTIVE."""
    name = unique("east-down")
    table = client("dynamodb", home)
    table.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for replica in replicas:  # one replica change at a time, as DynamoDB allows

        def active(replica: str = replica) -> bool:
            found = table.describe_table(TableName=name)["Table"]
            replicas = found.get("Replicas", [])
            return found["TableStatus"] == "ACTIVE" and any(
                r["RegionName"] == replica and r["ReplicaStatus"] == "ACTIVE" for r in replicas
            )

        table.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": replica}}])
        eventually(active, f"the replica in {replica} to become ACTIVE")
    return name
