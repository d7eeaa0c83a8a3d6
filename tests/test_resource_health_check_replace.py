"""Replacing a health check without a gap: records and the alarm move before the old check goes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from failover_cli.bundle import CodeBundle
from failover_cli.config.schema import Config, DomainConfig, HealthCheckConfig
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.errors import FailoverError
from failover_cli.resources import alarm, topic
from failover_cli.resources.health_check import HANDLER, desired
from tests.engine_helpers import context, make_config

SECRET = "0123456789abcdef0123456789abcdef"
REGIONS = ("us-east-1", "us-west-2")
OWNERSHIP = {"failover:stack": "hello", "failover:managed-by": "failover"}
DOMAIN = DomainConfig(name="hello.example.com", hosted_zone="example.com")


@pytest.fixture
def zone() -> Iterator[str]:
    with mock_aws():
        for region in REGIONS:
            boto3.client("apigateway", region).create_rest_api(name="hello", tags=OWNERSHIP)
        r53 = boto3.client("route53", "us-east-1")
        yield r53.create_hosted_zone(Name="example.com", CallerReference="zone")["HostedZone"]["Id"]


def _config(interval: int = 10) -> Config:
    return make_config(domain=DOMAIN, health_check=HealthCheckConfig(interval_s=interval))


def _specs(config: Config) -> dict[str, Spec]:
    return {s.region: s for s in desired(DesiredInputs(config, SECRET, CodeBundle(b"", "")))}


def _records(zone: str) -> dict[str, dict[str, Any]]:
    sets = boto3.client("route53", "us-east-1").list_resource_record_sets(HostedZoneId=zone)
    return {r["SetIdentifier"]: r for r in sets["ResourceRecordSets"] if "SetIdentifier" in r}


def _ids() -> set[str]:
    return {
        c["Id"] for c in boto3.client("route53", "us-east-1").list_health_checks()["HealthChecks"]
    }


def _alarm_dimension(region: str) -> str:
    found = boto3.client("cloudwatch", "us-east-1").describe_alarms(
        AlarmNames=[f"hello-{region}-health"]
    )
    return str(found["MetricAlarms"][0]["Dimensions"][0]["Value"])


def _calculated(probe: str, region: str) -> str:
    """The region's CALCULATED check (here with its probe as only child), tagged as `up` does."""
    r53 = boto3.client("route53", "us-east-1")
    made = r53.create_health_check(
        CallerReference=f"calc-{region}",
        HealthCheckConfig={
            "Type": "CALCULATED",
            "ChildHealthChecks": [probe],
            "HealthThreshold": 1,
        },
    )["HealthCheck"]["Id"]
    tags = {**OWNERSHIP, "Name": f"hello-{region}-switched"}
    r53.change_tags_for_resource(
        ResourceType="healthcheck",
        ResourceId=made,
        AddTags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    return str(made)


def _children(calculated: str) -> list[str]:
    check = boto3.client("route53", "us-east-1").get_health_check(HealthCheckId=calculated)
    return list(check["HealthCheck"]["HealthCheckConfig"]["ChildHealthChecks"])


CALCULATED: dict[str, str] = {}  # region -> the CALCULATED check _build made


def _build(zone: str, *, records_on_probes: bool = False) -> dict[str, str]:
    """Checks, topic and alarms as `up` makes them, and the latency records another kind owns
    (on the CALCULATED checks, or on the probes as before the switch)."""
    config = _config()
    with context(config) as (ctx, _):
        for spec in _specs(config).values():
            HANDLER.create(ctx, spec)
        for region in REGIONS:
            CALCULATED[region] = _calculated(ctx.outputs[f"health_check_id:{region}"], region)
        inputs = DesiredInputs(config, SECRET, CodeBundle(b"", ""))
        for spec in topic.desired(inputs):
            topic.HANDLER.create(ctx, spec)
        for spec in alarm.desired(inputs):
            alarm.HANDLER.create(ctx, spec)
        ids = {r: ctx.outputs[f"health_check_id:{r}"] for r in REGIONS}
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": "hello.example.com",
                "Type": "A",
                "SetIdentifier": f"hello-{region}",
                "Region": region,
                "HealthCheckId": ids[region] if records_on_probes else CALCULATED[region],
                "AliasTarget": {
                    "HostedZoneId": "Z1UJRXOUMOOFQ8",
                    "DNSName": f"d-{region}.execute-api.{region}.amazonaws.com",
                    "EvaluateTargetHealth": False,
                },
            },
        }
        for region in REGIONS
    ]
    boto3.client("route53", "us-east-1").change_resource_record_sets(
        HostedZoneId=zone, ChangeBatch={"Changes": changes}
    )
    return ids


def test_interval_change_replaces_the_check_without_a_gap(zone: str) -> None:
    """The probe is replaced; the region's CALCULATED check counts the new one before the old
    one goes, so the record and the alarm (which use the calculated check) never change."""
    old = _build(zone)
    before = _records(zone)
    spec = _specs(_config(interval=30))["us-east-1"]
    seen_at_delete: list[str | None] = []

    def on_call(service: str, _region: str, operation: str, params: dict[str, Any]) -> None:
        if operation == "DeleteHealthCheck":  # what the record says while the old check goes
            seen_at_delete.append(_children(CALCULATED["us-east-1"])[0])

    with context(_config(interval=30)) as (ctx, recorder):
        ctx.clients.add_hook(on_call)
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert [c.describe() for c in changes] == ["interval: 10 -> 30, replaces the check"]
        HANDLER.update(ctx, spec, seen, changes)
        new = ctx.outputs["health_check_id:us-east-1"]
        operations = [c[2] for c in recorder.mutating]
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    assert operations == [
        "CreateHealthCheck",
        "ChangeTagsForResource",
        "UpdateHealthCheck",  # the calculated check's children
        "DeleteHealthCheck",
    ]
    assert new != old["us-east-1"]
    assert seen_at_delete == [new]
    assert _records(zone) == before
    assert _children(CALCULATED["us-west-2"]) == [old["us-west-2"]]  # the other region untouched
    assert _ids() == {new, old["us-west-2"], *CALCULATED.values()}
    assert _alarm_dimension("us-east-1") == CALCULATED["us-east-1"]


def test_an_interrupted_replacement_is_finished_by_the_next_run(zone: str) -> None:
    old = _build(zone)
    config = _config(interval=30)
    spec = _specs(config)["us-west-2"]
    # The earlier run created the replacement (tagged) and stopped before moving anything.
    r53 = boto3.client("route53", "us-east-1")
    check = r53.get_health_check(HealthCheckId=old["us-west-2"])["HealthCheck"]
    settings = {**check["HealthCheckConfig"], "RequestInterval": 30}
    new = r53.create_health_check(CallerReference="retry", HealthCheckConfig=settings)
    new_id = new["HealthCheck"]["Id"]
    tags = [{"Key": k, "Value": v} for k, v in spec.props.tags]
    r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=new_id, AddTags=tags)
    with context(config) as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        assert seen.raw["id"] == new_id  # the one matching the config is kept
        changes = HANDLER.diff(spec, seen)
        assert [c.describe() for c in changes] == ["extra_checks: 1 -> 0"]
        HANDLER.update(ctx, spec, seen, changes)
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    assert _children(CALCULATED["us-west-2"]) == [new_id]
    assert _records(zone)["hello-us-west-2"]["HealthCheckId"] == CALCULATED["us-west-2"]
    assert _ids() == {old["us-east-1"], new_id, *CALCULATED.values()}


def test_delete_refuses_while_a_record_still_uses_the_check(zone: str) -> None:
    _build(zone, records_on_probes=True)  # a stack from before the switch
    config = _config()
    spec = _specs(config)["us-east-1"]
    with context(config) as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
        with pytest.raises(FailoverError) as raised:
            HANDLER.delete(ctx, spec, seen)
        assert "hello.example.com A (hello-us-east-1)" in raised.value.render()
        assert recorder.mutating == []


def test_health_check_in_use_becomes_a_clear_error(zone: str) -> None:
    config = make_config()  # no domain: nothing to pre-check, Route 53 itself refuses
    spec = _specs(config)["us-east-1"]
    with context(config) as (ctx, _):
        HANDLER.create(ctx, spec)
        r53 = ctx.client("route53", "us-east-1")

        def refuse(_s: str, _r: str, operation: str, _p: dict[str, Any]) -> None:
            if operation == "DeleteHealthCheck":
                error = {"Error": {"Code": "HealthCheckInUse", "Message": "in use"}}
                raise r53.exceptions.HealthCheckInUse(error, operation)

        ctx.clients.add_hook(refuse)
        with pytest.raises(FailoverError) as raised:
            HANDLER.delete(ctx, spec, HANDLER.observe(ctx, spec))
    assert "in use" in raised.value.render()
    assert not isinstance(raised.value, ClientError)
