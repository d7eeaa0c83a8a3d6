"""CALCULATED health checks and `Inverted` in the sandbox, as Route 53 has them.

A calculated check is healthy while at least HealthThreshold of its children
are (each child with its own Inverted); Disabled counts as healthy and Inverted
flips the result. Records, and so TestDNSAnswer, follow it; GetHealthCheckStatus
refuses it (its status is the CloudWatch metric). Route 53's input rules apply.

Children here are endpoint checks that are never probed: Disabled (healthy), or
Disabled and Inverted (unhealthy), so a status changes with one API call. The
last test probes for real: an Inverted string-match child, the switch-reader shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import SandboxProcess
from tests.sandbox_api_helpers import (
    SECRET,
    api_host,
    create_api,
    eventually,
    health_function,
    set_force_fail,
    unique,
)
from tests.test_sandbox_dns import alias_record, change, new_zone

pytestmark = pytest.mark.sandbox

EAST, WEST = "us-east-1", "us-west-2"


def route53(**config: Any) -> Any:
    return boto3.client("route53", region_name=EAST, config=Config(**config) if config else None)


def create(**config: Any) -> str:
    made = route53().create_health_check(CallerReference=uuid.uuid4().hex, HealthCheckConfig=config)
    return str(made["HealthCheck"]["Id"])


def endpoint_check(healthy: bool, **extra: Any) -> str:
    """A check that is never probed: disabled (healthy), or disabled and inverted (unhealthy)."""
    return create(
        Type="HTTP",
        FullyQualifiedDomainName="example.com",
        Disabled=True,
        Inverted=not healthy,
        **extra,
    )


def calculated(children: list[str], threshold: int) -> str:
    return create(Type="CALCULATED", ChildHealthChecks=children, HealthThreshold=threshold)


def failover_site(primary_check: str) -> Callable[[], str]:
    """A failover pair whose PRIMARY (us-east-1) uses `primary_check`; returns who answers."""
    zone_id, zone = new_zone()
    name = f"hello.{zone}"
    change(
        zone_id,
        alias_record(name, EAST, primary_check, {"Failover": "PRIMARY"}),
        alias_record(name, WEST, endpoint_check(True), {"Failover": "SECONDARY"}),
    )

    def answering() -> str:
        data = route53().test_dns_answer(HostedZoneId=zone_id, RecordName=name, RecordType="A")
        return next(r for r in (EAST, WEST) if any(r in entry for entry in data["RecordData"]))

    return answering


def invalid_input(call: Callable[[], object]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == "InvalidInput"
    return str(caught.value.response["Error"]["Message"])


# --- status from the children -------------------------------------------------------


def test_all_children_healthy_is_healthy_and_one_short_fails_over(sandbox_env: str) -> None:
    own, reader = endpoint_check(True), endpoint_check(True)
    parent = calculated([own, reader], threshold=2)  # own probe AND every reader
    answering = failover_site(parent)
    assert answering() == EAST
    route53().update_health_check(HealthCheckId=reader, Inverted=True)  # the reader objects
    assert answering() == WEST
    route53().update_health_check(HealthCheckId=reader, Inverted=False)
    assert answering() == EAST


def test_threshold_zero_is_always_healthy_and_above_the_children_never(sandbox_env: str) -> None:
    sick = endpoint_check(False)
    assert failover_site(calculated([sick], threshold=0))() == EAST
    assert failover_site(calculated([endpoint_check(True)], threshold=2))() == WEST


def test_inverted_disabled_and_both_on_a_calculated_check(sandbox_env: str) -> None:
    parent = calculated([endpoint_check(False)], threshold=1)  # unhealthy
    answering = failover_site(parent)
    assert answering() == WEST
    route53().update_health_check(HealthCheckId=parent, Inverted=True)
    assert answering() == EAST
    route53().update_health_check(HealthCheckId=parent, Inverted=False, Disabled=True)
    assert answering() == EAST  # disabled counts as healthy
    route53().update_health_check(HealthCheckId=parent, Inverted=True)
    assert answering() == WEST  # disabled and inverted: held unhealthy


def test_get_health_check_status_refuses_a_calculated_check(sandbox_env: str) -> None:
    parent = calculated([endpoint_check(True)], threshold=1)
    message = invalid_input(lambda: route53().get_health_check_status(HealthCheckId=parent))
    assert "HealthCheckStatus metric" in message
    with pytest.raises(ClientError) as caught:
        route53().get_health_check_status(HealthCheckId=str(uuid.uuid4()))
    assert caught.value.response["Error"]["Code"] == "NoSuchHealthCheck"


# --- Route 53's rules ----------------------------------------------------------------


def test_a_calculated_check_needs_a_threshold(sandbox_env: str) -> None:
    message = invalid_input(
        lambda: route53().create_health_check(
            CallerReference=uuid.uuid4().hex,
            HealthCheckConfig={"Type": "CALCULATED", "ChildHealthChecks": []},
        )
    )
    assert "must have a health threshold" in message


def test_threshold_and_children_limits_hold_for_any_client(sandbox_env: str) -> None:
    unchecked = route53(parameter_validation=False)  # what botocore would refuse itself
    child = endpoint_check(True)
    for config in (
        {"HealthThreshold": 257, "ChildHealthChecks": [child]},
        {"HealthThreshold": 1, "ChildHealthChecks": [child] * 257},
    ):
        invalid_input(
            lambda config=config: unchecked.create_health_check(
                CallerReference=uuid.uuid4().hex,
                HealthCheckConfig={"Type": "CALCULATED", **config},
            )
        )


def test_children_must_exist_and_not_include_the_check_itself(sandbox_env: str) -> None:
    missing = str(uuid.uuid4())
    assert missing in invalid_input(lambda: calculated([missing], threshold=1))
    parent = calculated([endpoint_check(True)], threshold=1)
    invalid_input(
        lambda: route53().update_health_check(HealthCheckId=parent, ChildHealthChecks=[parent])
    )
    before = route53().list_health_checks()["HealthChecks"]
    assert not any(c["HealthCheckConfig"].get("ChildHealthChecks") == [missing] for c in before)


def test_an_update_keeps_children_and_regions_it_leaves_out(sandbox_env: str) -> None:
    children = [endpoint_check(True), endpoint_check(True)]
    parent = calculated(children, threshold=2)
    route53().update_health_check(HealthCheckId=parent, Inverted=True)
    config = route53().get_health_check(HealthCheckId=parent)["HealthCheck"]["HealthCheckConfig"]
    assert config["ChildHealthChecks"] == children and config["Inverted"] is True

    regions = ["us-east-1", "us-west-2", "eu-west-1"]
    probed = endpoint_check(True, Regions=regions)
    route53().update_health_check(HealthCheckId=probed, FailureThreshold=2)
    config = route53().get_health_check(HealthCheckId=probed)["HealthCheck"]["HealthCheckConfig"]
    assert config["Regions"] == regions and config["FailureThreshold"] == 2


def test_reset_elements_clears_the_children(sandbox_env: str) -> None:
    parent = calculated([endpoint_check(False)], threshold=1)
    answering = failover_site(parent)
    assert answering() == WEST
    route53().update_health_check(
        HealthCheckId=parent, ResetElements=["ChildHealthChecks"], HealthThreshold=0
    )
    config = route53().get_health_check(HealthCheckId=parent)["HealthCheck"]["HealthCheckConfig"]
    assert not config.get("ChildHealthChecks")
    assert answering() == EAST


# --- probed for real: an Inverted string match (the switch reader's shape) ----------


@pytest.fixture
def scaled_sandbox(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    process = launch_sandbox("--time-scale", "10")
    process.wait_until_ready()
    monkeypatch.setenv("AWS_ENDPOINT_URL", process.endpoint)
    yield process.endpoint


def test_an_inverted_string_match_objects_only_while_the_string_is_found(
    scaled_sandbox: str,
) -> None:
    """runs code"""
    name = unique("reader")
    api = create_api(EAST, health_function(EAST, name))
    reader = create(
        Type="HTTPS_STR_MATCH",
        FullyQualifiedDomainName=api_host(api, EAST),
        Port=443,
        ResourcePath=f"/prod/health?healthCheckerId={SECRET}",
        SearchString="hello from",  # found while the function is healthy
        RequestInterval=10,
        FailureThreshold=1,
        Regions=["us-east-1", "us-west-2", "eu-west-1"],
        EnableSNI=True,
        Inverted=True,
    )
    answering = failover_site(calculated([endpoint_check(True), reader], threshold=2))

    def successes() -> int:
        found = route53().get_health_check_status(HealthCheckId=reader)
        reports = [o["StatusReport"]["Status"] for o in found["HealthCheckObservations"]]
        return sum(r.startswith("Success") for r in reports)

    # The string is found: each checker reports Success (raw, not inverted), the
    # inverted reader is unhealthy, and so is its calculated parent.
    eventually(lambda: successes() == 3 and answering() == WEST, "the reader to object")
    set_force_fail(EAST, name, "true")  # 503, no string: the reader has no objection
    eventually(lambda: successes() == 0 and answering() == EAST, "the objection to end")
