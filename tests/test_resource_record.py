"""Routing records against moto: one alias per region to its custom domain, with its health
check; latency or failover; a routing switch in one batch; foreign records left alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import moto.settings
import pytest
from moto import mock_aws
from moto.route53.models import Route53Backend

from failover_cli.config.schema import Config, DomainConfig
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.errors import FailoverError
from failover_cli.resources import certificate, domain_name, record
from failover_cli.sandbox.route53.changes import forget_deleted_records
from tests.engine_helpers import context, make_config
from tests.test_resource_domain import moto_domains_list_empty_mappings

EAST, WEST = "us-east-1", "us-west-2"
REGIONS = (EAST, WEST)
NAME = "hello.example.com"
OWNERSHIP = {"failover:stack": "hello", "failover:managed-by": "failover"}


def moto_forgets_deleted_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2.5 refuses to re-create a record it once created and has since deleted; the
    sandbox fixes that in front of moto (sandbox/route53/changes.py), here we patch it."""
    change = Route53Backend.change_resource_record_sets

    def change_resource_record_sets(self: Any, zoneid: str, change_list: Any) -> None:
        forget_deleted_records(self.get_hosted_zone(zoneid))
        change(self, zoneid, change_list)

    monkeypatch.setattr(Route53Backend, "change_resource_record_sets", change_resource_record_sets)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 0)
    moto_domains_list_empty_mappings(monkeypatch)
    moto_forgets_deleted_records(monkeypatch)
    with mock_aws():
        yield


def _config(routing: str = "latency") -> Config:
    return make_config(
        domain=DomainConfig(name=NAME, hosted_zone="example.com", routing=routing)  # type: ignore[arg-type]
    )


def _specs(config: Config | None = None) -> dict[str, Spec]:
    inputs = DesiredInputs(config or _config(), "s", None)  # type: ignore[arg-type]
    return {s.region: s for s in record.desired(inputs)}


def _health_check(region: str, tags: dict[str, str] | None = None) -> str:
    r53 = boto3.client("route53", EAST)
    check_id: str = r53.create_health_check(
        CallerReference=uuid.uuid4().hex,
        HealthCheckConfig={
            "Type": "HTTPS_STR_MATCH",
            "FullyQualifiedDomainName": f"abc.execute-api.{region}.amazonaws.com",
            "ResourcePath": "/prod/health",
            "SearchString": "hello from",
        },
    )["HealthCheck"]["Id"]
    wanted = tags if tags is not None else {**OWNERSHIP, "Name": f"hello-{region}"}
    r53.change_tags_for_resource(
        ResourceType="healthcheck",
        ResourceId=check_id,
        AddTags=[{"Key": k, "Value": v} for k, v in wanted.items()],
    )
    return check_id


@pytest.fixture
def world(aws: None) -> dict[str, Any]:
    """Zone, certificates, domain names and health checks: everything records point at."""
    zone = boto3.client("route53", EAST).create_hosted_zone(
        Name="example.com", CallerReference="z"
    )["HostedZone"]["Id"]
    inputs = DesiredInputs(_config(), "s", None)  # type: ignore[arg-type]
    with context(_config()) as (ctx, _):
        for module in (certificate, domain_name):
            for spec in module.desired(inputs):
                module.HANDLER.create(ctx, spec)
        targets = {r: ctx.outputs[f"domain_target:{r}"] for r in REGIONS}
    # Records use each region's CALCULATED check (`<stack>-<R>-switched`); its own probe
    # (what they used before the switch) exists too.
    probes = {r: _health_check(r) for r in REGIONS}
    checks = {r: _health_check(r, {**OWNERSHIP, "Name": f"hello-{r}-switched"}) for r in REGIONS}
    return {"zone": zone, "targets": targets, "checks": checks, "probes": probes}


def _records(zone: str) -> dict[str, dict[str, Any]]:
    sets = boto3.client("route53", EAST).list_resource_record_sets(HostedZoneId=zone)
    return {
        r.get("SetIdentifier", ""): r
        for r in sets["ResourceRecordSets"]
        if r["Type"] == "A" and r["Name"] == f"{NAME}."
    }


def _apply(config: Config, *, regions: tuple[str, ...] = REGIONS) -> list[tuple[str, str, str]]:
    """Observe and converge, like `up`; the mutating calls made."""
    specs = _specs(config)
    with context(config) as (ctx, recorder):
        for region in regions:
            spec = specs[region]
            seen = record.HANDLER.observe(ctx, spec)
            assert seen.owned or not seen.exists
            if not seen.exists:
                record.HANDLER.create(ctx, spec)
            elif changes := record.HANDLER.diff(spec, seen):
                record.HANDLER.update(ctx, spec, seen, changes)
        return recorder.mutating


def _foreign(zone: str, identifier: str = "someone-else", **routing: str) -> dict[str, Any]:
    foreign = {
        "Name": f"{NAME}.",
        "Type": "A",
        "SetIdentifier": identifier,
        "AliasTarget": {
            "HostedZoneId": "Z2FDTNDATAQYW2",
            "DNSName": "d-foreign.execute-api.eu-west-1.amazonaws.com",
            "EvaluateTargetHealth": False,
        },
        **(routing or {"Region": "eu-west-1"}),
    }
    boto3.client("route53", EAST).change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": foreign}]},
    )
    return foreign


def test_desired_depends_on_the_domain_and_every_regions_calculated_check() -> None:
    assert _specs(make_config()) == {}
    specs = _specs()
    # Every region's CALCULATED check: an older stack's records move onto them in one batch.
    assert specs[WEST].depends_on == (
        f"domain_name:{WEST}:{NAME}",
        *(f"region_check:{r}:hello-{r}-switched" for r in REGIONS),
    )
    assert specs[WEST].props.set_identifier == "hello-us-west-2"
    assert [s.props.routing for s in _specs(_config("failover")).values()] == [
        "failover PRIMARY",
        "failover SECONDARY",
    ]


def test_latency_records_alias_each_region_with_its_health_check(world: dict[str, Any]) -> None:
    _apply(_config())
    records = _records(world["zone"])
    assert sorted(records) == ["hello-us-east-1", "hello-us-west-2"]
    for region in REGIONS:
        found = records[f"hello-{region}"]
        target = world["targets"][region]
        assert found["Region"] == region
        assert found["HealthCheckId"] == world["checks"][region]
        assert found["AliasTarget"]["DNSName"].rstrip(".") == target["regionalDomainName"]
        assert found["AliasTarget"]["HostedZoneId"] == target["regionalHostedZoneId"]
        assert found["AliasTarget"]["EvaluateTargetHealth"] is False
        assert "TTL" not in found  # alias records take the target's TTL

    assert _apply(_config()) == []  # converged: nothing to write


def test_switching_routing_moves_every_record_in_one_batch(world: dict[str, Any]) -> None:
    _apply(_config())
    calls = _apply(_config("failover"))
    # The first region's update moves both records at once; the second finds nothing to do.
    assert [op for _, _, op in calls] == ["ChangeResourceRecordSets"]
    records = _records(world["zone"])
    assert {k: r.get("Failover") for k, r in records.items()} == {
        "hello-us-east-1": "PRIMARY",
        "hello-us-west-2": "SECONDARY",
    }
    assert not any("Region" in r for r in records.values())
    assert _apply(_config("failover")) == []

    _apply(_config())  # and back
    assert {k: r.get("Region") for k, r in _records(world["zone"]).items()} == {
        "hello-us-east-1": EAST,
        "hello-us-west-2": WEST,
    }


def test_a_new_health_check_is_followed(world: dict[str, Any]) -> None:
    _apply(_config())
    boto3.client("route53", EAST).delete_health_check(HealthCheckId=world["checks"][WEST])
    replacement = _health_check(WEST, {**OWNERSHIP, "Name": f"hello-{WEST}-switched"})
    spec = _specs()[WEST]
    with context(_config()) as (ctx, _):
        seen = record.HANDLER.observe(ctx, spec)
        assert [c.field for c in record.HANDLER.diff(spec, seen)] == ["health_check"]
    _apply(_config())
    assert _records(world["zone"])["hello-us-west-2"]["HealthCheckId"] == replacement


def test_records_of_others_are_never_touched(world: dict[str, Any]) -> None:
    foreign = _foreign(world["zone"])
    _apply(_config())
    with context(_config()) as (ctx, _):
        for spec in _specs().values():
            record.HANDLER.delete(ctx, spec, record.HANDLER.observe(ctx, spec))
    records = _records(world["zone"])
    assert list(records) == ["someone-else"]
    assert records["someone-else"]["AliasTarget"] == foreign["AliasTarget"]


def test_our_set_identifier_on_an_unprovable_record_is_not_ours(world: dict[str, Any]) -> None:
    stranger = _health_check(EAST, tags={"Name": "hello-us-east-1"})  # no ownership tags
    r53 = boto3.client("route53", EAST)
    _foreign(world["zone"], identifier="hello-us-east-1", Region=EAST)
    r53.change_resource_record_sets(
        HostedZoneId=world["zone"],
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        **_records(world["zone"])["hello-us-east-1"],
                        "HealthCheckId": stranger,
                    },
                }
            ]
        },
    )
    spec = _specs()[EAST]
    with context(_config()) as (ctx, _):
        seen = record.HANDLER.observe(ctx, spec)
        assert seen.exists and not seen.owned  # `up` refuses it, `down` leaves it
        record.HANDLER.delete(ctx, spec, seen)
    assert "hello-us-east-1" in _records(world["zone"])


def test_down_removes_the_stack_records(world: dict[str, Any]) -> None:
    _apply(_config("failover"))
    with context(_config("failover")) as (ctx, _):
        for spec in _specs(_config("failover")).values():
            seen = record.HANDLER.observe(ctx, spec)
            assert seen.exists and seen.owned
            record.HANDLER.delete(ctx, spec, seen)
            record.HANDLER.delete(ctx, spec, seen)  # already gone: fine
    assert _records(world["zone"]) == {}


def test_a_missing_health_check_is_a_clear_error(world: dict[str, Any]) -> None:
    boto3.client("route53", EAST).delete_health_check(HealthCheckId=world["checks"][EAST])
    with context(_config()) as (ctx, recorder), pytest.raises(FailoverError) as raised:
        record.HANDLER.create(ctx, _specs()[EAST])
    assert "health check hello-us-east-1-switched does not exist" in raised.value.render()
    assert recorder.mutating == []
