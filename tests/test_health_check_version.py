"""UpdateHealthCheck with HealthCheckVersion: a concurrent edit costs one re-read, not a failure."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from failover_cli.aws.clients import ClientFactory
from failover_cli.config.loader import load_config
from failover_cli.engine.context import Context
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.resources.region_check import RegionCheckHandler, RegionCheckProps
from failover_cli.services.health_check_swap import repoint_parents
from failover_cli.services.health_checks import update_versioned
from tests.e2e_helpers import write_config
from tests.faults import Fault, FaultInjector, Rule


class Route53:
    """UpdateHealthCheck that refuses a stale version, as Route 53 does."""

    def __init__(self, version: int, races: int = 0):
        self.version = version
        self.races = races  # concurrent edits that land just before our update
        self.updates: list[dict[str, Any]] = []

    def update_health_check(self, **update: Any) -> dict[str, Any]:
        if self.races:
            self.races -= 1
            self.version += 1
        if update.get("HealthCheckVersion") != self.version:
            raise ClientError(
                {"Error": {"Code": "HealthCheckVersionMismatch", "Message": "stale"}},
                "UpdateHealthCheck",
            )
        self.version += 1
        self.updates.append(update)
        return {}

    def get_health_check(self, HealthCheckId: str) -> dict[str, Any]:
        return {"HealthCheck": {"Id": HealthCheckId, "HealthCheckVersion": self.version}}


def test_a_version_mismatch_is_read_again_and_retried_once() -> None:
    r53 = Route53(version=3, races=1)
    update_versioned(r53, "c1", 3, SearchString="hello")
    assert r53.updates == [
        {"HealthCheckId": "c1", "HealthCheckVersion": 4, "SearchString": "hello"}
    ]


def test_a_second_mismatch_is_the_callers_to_see() -> None:
    r53 = Route53(version=3, races=2)
    with pytest.raises(ClientError) as raised:
        update_versioned(r53, "c1", 3, SearchString="hello")
    assert raised.value.response["Error"]["Code"] == "HealthCheckVersionMismatch"
    assert not r53.updates


# The stack's own writers of calculated checks, on moto, with Route 53 refusing their first
# UpdateHealthCheck as stale (a concurrent edit): each reads the check again and succeeds.
STACK = "hcv"


@pytest.fixture
def route53_ctx() -> Iterator[tuple[Any, Any, FaultInjector]]:
    with mock_aws():
        config = load_config(write_config(Path(tempfile.mkdtemp()), STACK))
        factory = ClientFactory()
        stale = Rule(
            Fault.FAIL, operations=("route53:UpdateHealthCheck",), nth=1,
            code="HealthCheckVersionMismatch",
        )  # fmt: skip
        injector = FaultInjector([stale])
        injector.attach(factory)
        yield Context(config=config, clients=factory), boto3.client("route53"), injector


def _check(ctx: Context, r53: Any, name: str, children: list[str] | None = None) -> str:
    settings: dict[str, Any] = (
        {"Type": "CALCULATED", "ChildHealthChecks": children, "HealthThreshold": 1}
        if children is not None
        else {"Type": "HTTPS", "FullyQualifiedDomainName": "example.com", "Port": 443}
    )
    made = r53.create_health_check(CallerReference=uuid.uuid4().hex, HealthCheckConfig=settings)
    check_id = str(made["HealthCheck"]["Id"])
    tags = [
        {"Key": k, "Value": v} for k, v in {**ctx.config.ownership_tags(), "Name": name}.items()
    ]
    r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id, AddTags=tags)
    return check_id


def test_repointing_a_parent_reads_it_again_after_a_concurrent_edit(
    route53_ctx: tuple[Any, Any, FaultInjector],
) -> None:
    ctx, r53, injector = route53_ctx
    old, kept, new = (_check(ctx, r53, f"{STACK}-{n}") for n in ("old", "kept", "new"))
    parent = _check(ctx, r53, f"{STACK}-us-east-1-switched", [old, kept])
    repoint_parents(ctx, [old], new)
    assert injector.injected
    config = r53.get_health_check(HealthCheckId=parent)["HealthCheck"]["HealthCheckConfig"]
    assert config["ChildHealthChecks"] == [kept, new]


def test_a_region_check_update_reads_the_version_again_after_a_concurrent_edit(
    route53_ctx: tuple[Any, Any, FaultInjector],
) -> None:
    ctx, r53, injector = route53_ctx
    child = _check(ctx, r53, f"{STACK}-us-east-1")
    parent = _check(ctx, r53, f"{STACK}-us-east-1-switched", [child])
    ctx.outputs["health_check_id:us-east-1"] = child
    props = RegionCheckProps(
        "CALCULATED", (f"<health check {STACK}-us-east-1>",), 1, True, False, ()
    )
    spec = Spec("region_check", "us-east-1", f"{STACK}-us-east-1-switched", props)
    observed = Observed(exists=True, raw={"id": parent, "version": 1})
    RegionCheckHandler().update(ctx, spec, observed, [FieldChange("inverted", False, True)])
    assert injector.injected
    assert r53.get_health_check(HealthCheckId=parent)["HealthCheck"]["HealthCheckConfig"][
        "Inverted"
    ]
