"""Alarm handler against moto: one alarm per region's health check, in us-east-1, to the topic."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.bundle import CodeBundle
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Action, Spec
from failover_cli.engine.planner import plan_down
from failover_cli.errors import ConflictError
from failover_cli.resources import health_check, topic
from failover_cli.resources.alarm import HANDLER, desired
from tests.engine_helpers import context, make_config

REGIONS = ("eu-west-1", "us-west-2")
OWNERSHIP = {"failover:stack": "hello", "failover:managed-by": "failover"}
TOPIC = "arn:aws:sns:us-east-1:123456789012:hello-alarms"
CONFIG = make_config(regions=REGIONS)
INPUTS = DesiredInputs(CONFIG, "s3cret-s3cret", CodeBundle(b"", ""))


@pytest.fixture
def built() -> Iterator[dict[str, str]]:
    """APIs, health checks and the topic: what the alarms depend on. Yields the check ids."""
    with mock_aws():
        for region in REGIONS:
            boto3.client("apigateway", region).create_rest_api(name="hello", tags=OWNERSHIP)
        with context(CONFIG) as (ctx, _):
            for spec in health_check.desired(INPUTS):
                health_check.HANDLER.create(ctx, spec)
            for spec in topic.desired(INPUTS):
                topic.HANDLER.create(ctx, spec)
            # Alarms watch each region's CALCULATED check (`hello-<R>-switched`), stood in
            # for by a probe-like check under that name (moto has no CALCULATED checks).
            for spec in health_check.desired(INPUTS):
                name = f"{spec.name}-switched"
                tags = tuple(sorted({**dict(spec.props.tags), "Name": name}.items()))
                stand_in = replace(spec, name=name, props=replace(spec.props, tags=tags))
                health_check.HANDLER.create(ctx, stand_in)
            yield {r: ctx.outputs[f"health_check_id:{r}-switched"] for r in REGIONS}


def _specs() -> dict[str, Spec]:
    return {s.props.stack_region: s for s in desired(INPUTS)}


def _alarm(region: str) -> dict[str, Any]:
    cw = boto3.client("cloudwatch", "us-east-1")
    found: dict[str, Any] = cw.describe_alarms(AlarmNames=[f"hello-{region}-health"])[
        "MetricAlarms"
    ][0]
    return found


def test_alarms_live_in_us_east_1_after_the_topic_and_their_check() -> None:
    specs = _specs()
    assert {r: (s.key, s.depends_on) for r, s in specs.items()} == {
        region: (
            f"alarm:us-east-1:hello-{region}-health",
            # The region's CALCULATED check: its probe AND its switch readers.
            ("topic:us-east-1:hello-alarms", f"region_check:{region}:hello-{region}-switched"),
        )
        for region in REGIONS
    }


def test_create_builds_the_documented_alarm_and_observe_sees_no_diff(
    built: dict[str, str],
) -> None:
    specs = _specs()
    with context(CONFIG) as (ctx, _):
        for spec in specs.values():
            HANDLER.create(ctx, spec)
    with context(CONFIG) as (ctx, recorder):
        for spec in specs.values():
            seen = HANDLER.observe(ctx, spec)
            assert seen.exists and seen.owned and HANDLER.diff(spec, seen) == []
        assert recorder.mutating == []
    for region in REGIONS:
        alarm = _alarm(region)
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Route53", "HealthCheckStatus")
        assert alarm["Dimensions"] == [{"Name": "HealthCheckId", "Value": built[region]}]
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == (
            "Minimum",
            60,
            1,
        )
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1.0, "LessThanThreshold")
        # Silence from a brand-new check is not an outage (no ALARM e-mail on first up).
        assert alarm["TreatMissingData"] == "missing"
        assert alarm["AlarmActions"] == alarm["OKActions"] == [TOPIC]
        tags = boto3.client("cloudwatch", "us-east-1").list_tags_for_resource(
            ResourceARN=alarm["AlarmArn"]
        )["Tags"]
        assert {t["Key"]: t["Value"] for t in tags} == OWNERSHIP


def test_drift_and_a_new_health_check_id_converge(built: dict[str, str]) -> None:
    spec = _specs()["us-west-2"]
    with context(CONFIG) as (ctx, _):
        HANDLER.create(ctx, spec)
    cw = boto3.client("cloudwatch", "us-east-1")
    cw.put_metric_alarm(  # edited by hand: no OK action, and watching some other check
        AlarmName="hello-us-west-2-health",
        Namespace="AWS/Route53",
        MetricName="HealthCheckStatus",
        Dimensions=[{"Name": "HealthCheckId", "Value": "stale-id"}],
        Statistic="Minimum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData="missing",
        AlarmActions=[TOPIC],
        AlarmDescription=spec.props.description,
    )
    with context(CONFIG) as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert {c.field for c in changes} == {"health_check_id", "ok_actions"}
        HANDLER.update(ctx, spec, seen, changes)
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    assert _alarm("us-west-2")["Dimensions"][0]["Value"] == built["us-west-2"]
    assert _alarm("us-west-2")["OKActions"] == [TOPIC]


def test_an_untagged_alarm_of_that_name_is_never_overwritten_or_deleted(
    built: dict[str, str],
) -> None:
    cw = boto3.client("cloudwatch", "us-east-1")
    cw.put_metric_alarm(
        AlarmName="hello-eu-west-1-health",
        Namespace="Custom",
        MetricName="Other",
        Statistic="Average",
        Period=300,
        EvaluationPeriods=2,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
    )
    spec = _specs()["eu-west-1"]
    with context(CONFIG) as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        assert seen.exists and not seen.owned
        with pytest.raises(ConflictError):
            HANDLER.create(ctx, spec)
        down = plan_down([spec], {spec.key: seen}, "hello")
        assert [c.action for c in down.changes] == [Action.SKIP]
    assert _alarm("eu-west-1")["MetricName"] == "Other"


def test_delete_twice_is_fine(built: dict[str, str]) -> None:
    spec = _specs()["eu-west-1"]
    with context(CONFIG) as (ctx, _):
        HANDLER.create(ctx, spec)
        seen = HANDLER.observe(ctx, spec)
        HANDLER.delete(ctx, spec, seen)
        HANDLER.delete(ctx, spec, seen)
        assert not HANDLER.observe(ctx, spec).exists
