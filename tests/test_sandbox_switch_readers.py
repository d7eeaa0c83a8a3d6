"""The data-plane switch built by hand from the sandbox's parts, as the tool will build it.

Per region R of three: its own probe, a "switch reader" check probing each
other region's function at /health/switch/<R> (Inverted, matching the
forced-out marker), and a CALCULATED check (own probe AND every reader) that
R's latency record uses.
The switch item lives in a global table. With every API in us-east-1 hanging,
a write to us-west-2's replica takes us-east-1 out of the authoritative DNS
answer, and removing it brings it back; a reader region whose data plane is
down never takes the other region out. One sandbox at --time-scale 10 (the
outage module's); nothing asserts how long anything took.
"""

# ruff: noqa: F811  (the sandbox fixture comes from test_sandbox_outage.py)

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from tests.sandbox_api_helpers import (
    SECRET,
    api_host,
    bundle_zip,
    create_api,
    create_function,
    eventually,
    unique,
)
from tests.test_sandbox_dns import alias_record, change, new_zone
from tests.test_sandbox_domains_failover import health_check
from tests.test_sandbox_nameserver import nameserver
from tests.test_sandbox_outage import (  # noqa: F401  (process, sandbox: the module's sandbox)
    all_say,
    outage,
    process,
    sandbox,
    switch,
)
from tests.test_sandbox_outage_us_east_1 import answering_region, replicated_table

pytestmark = pytest.mark.sandbox

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
REGIONS = (EAST, WEST, EU)
MARKER = "failover-switch:forced-out"
SWITCH_KEY = {"k": {"S": "failover:switch"}}


def route53() -> Any:
    return boto3.client("route53", region_name=EAST)


def reader_check(api_id: str, reader_region: str, region: str) -> str:
    made = route53().create_health_check(
        CallerReference=uuid.uuid4().hex,
        HealthCheckConfig={
            "Type": "HTTPS_STR_MATCH",
            "FullyQualifiedDomainName": api_host(api_id, reader_region),
            "Port": 443,
            "ResourcePath": f"/prod/health/switch/{region}?healthCheckerId={SECRET}",
            "SearchString": MARKER,
            "RequestInterval": 10,
            "FailureThreshold": 1,
            "Regions": ["us-east-1", "us-west-1", "us-west-2"],
            "EnableSNI": True,
            "Inverted": True,  # a reader that is down, slow or wrong: no objection
        },
    )
    return str(made["HealthCheck"]["Id"])


def calculated(children: list[str]) -> str:
    made = route53().create_health_check(
        CallerReference=uuid.uuid4().hex,
        HealthCheckConfig={
            "Type": "CALCULATED",
            "ChildHealthChecks": children,
            "HealthThreshold": len(children),
        },
    )
    return str(made["HealthCheck"]["Id"])


def force_out(table: str, replica: str, region: str | None) -> None:
    """Write the switch item in one replica: `region` forced out, or nobody."""
    forced = {region: {"M": {"by": {"S": "test"}, "why": {"S": "drill"}}}} if region else {}
    boto3.client("dynamodb", region_name=replica).put_item(
        TableName=table, Item={**SWITCH_KEY, "forced_out": {"M": forced}}
    )


def test_the_switch_moves_dns_with_us_east_1_hanging_and_a_dead_reader_objects_to_nothing(
    sandbox: str,
) -> None:
    """runs code"""
    table = replicated_table(EAST, WEST, EU)
    apis = {}
    for region in REGIONS:
        environment = {
            "HEALTH_CHECKER_ID": SECRET,
            "FORCE_FAIL": "false",
            "DEEP_PING_PERCENT": "0",
            "TABLE_NAME": table,
            "DEEP_PING_KEY": '{"k": "Hello"}',
        }
        function = create_function(region, unique("switch"), bundle_zip(), environment)
        apis[region] = create_api(region, function)
    # readers[(R, X)]: the check in region X's function reading whether R is forced out.
    readers = {(r, x): reader_check(apis[x], x, r) for r in REGIONS for x in REGIONS if x != r}
    checks = {
        r: calculated([health_check(apis[r], r), *(c for (of, _), c in readers.items() if of == r)])
        for r in REGIONS
    }
    zone_id, zone = new_zone()
    site = f"app.{zone}"
    change(zone_id, *(alias_record(site, r, checks[r], {"Region": r}) for r in REGIONS))
    answering = answering_region(nameserver(sandbox), site)
    eventually(lambda: answering() == EAST, "DNS to answer with us-east-1 (nearest)")

    outage(sandbox, EAST, "hang")  # every API answered in us-east-1 hangs
    force_out(table, WEST, EAST)  # the data-plane write, in us-west-2's replica only
    eventually(lambda: answering() not in (EAST, None), "a reader to take us-east-1 out")
    force_out(table, WEST, None)
    eventually(lambda: answering() == EAST, "us-east-1 to come back")

    # A reader region that is down never takes another region out: once us-east-1's
    # reader in eu-west-1 cannot be reached by any checker, us-east-1 still answers.
    switch(sandbox, "DELETE", {"region": EAST})
    outage(sandbox, EU, "dataplane")
    eventually(
        lambda: all_say(readers[(EAST, EU)], "Failure: Connection timed out"),
        "us-east-1's reader in eu-west-1 to be unreachable from every checker",
    )
    assert answering() == EAST
