"""Functions, APIs, health checks, topic, subscription and alarms through the engine:
up, up again (nothing), a replacing interval change, down, down again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from failover_cli.bundle import build_bundle
from failover_cli.config.schema import AlarmsConfig, Config, HealthCheckConfig
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.engine.planner import observe_all, plan_down, plan_up
from failover_cli.engine.runner import apply_plan
from failover_cli.resources import HANDLERS
from tests.engine_helpers import context, make_config

KINDS = (
    "role", "log_group", "function", "alias", "api", "health_check", "switch_reader",
    "region_check", "topic", "subscription", "alarm",
)  # fmt: skip
SECRET = "5ecret5ecret5ecret5ecret"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _config(interval: int = 10) -> Config:
    return make_config(
        health_check=HealthCheckConfig(interval_s=interval),
        alarms=AlarmsConfig(email="ops@example.com"),
    )


def _specs(tmp_path: Path, config: Config) -> list[Spec]:
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    inputs = DesiredInputs(config, SECRET, build_bundle(tmp_path))
    return [s for kind in KINDS for s in HANDLERS[kind].desired(inputs)]


def _check_ids() -> set[str]:
    checks = boto3.client("route53", "us-east-1").list_health_checks()["HealthChecks"]
    return {c["Id"] for c in checks}


def test_up_twice_then_a_replacement_then_down_twice(aws: None, tmp_path: Path) -> None:
    config = _config()
    specs = _specs(tmp_path, config)
    with context(config) as (ctx, _):
        first = plan_up(specs, observe_all(ctx, specs), "hello")
        assert {c.action.value for c in first.changes} == {"create"}
        apply_plan(ctx, first)
        assert SECRET not in "\n".join(c.describe() for c in first.changes)

    with context(config) as (ctx, recorder):
        second = plan_up(specs, observe_all(ctx, specs), "hello")
        assert [c.describe() for c in second.pending] == []
        apply_plan(ctx, second)
        assert recorder.mutating == []
    old_ids = _check_ids()
    assert len(old_ids) == 6  # per region: its probe, one switch reader, the CALCULATED check

    slower = _config(interval=30)
    specs = _specs(tmp_path, slower)
    with context(slower) as (ctx, _):
        third = plan_up(specs, observe_all(ctx, specs), "hello")
        assert sorted((c.spec.kind, c.describe()) for c in third.pending) == [
            ("health_check", f"health_check hello-{r} (interval: 10 -> 30, replaces the check)")
            for r in ("us-east-1", "us-west-2")
        ]
        apply_plan(ctx, third)
    new_ids = _check_ids()
    probes = new_ids - old_ids
    assert len(new_ids) == 6 and len(probes) == 2  # the probes only: readers keep their interval
    with context(slower) as (ctx, _):  # the calculated checks followed in the same run
        assert plan_up(specs, observe_all(ctx, specs), "hello").pending == []
    alarms = boto3.client("cloudwatch", "us-east-1").describe_alarms()["MetricAlarms"]
    watched = {a["Dimensions"][0]["Value"] for a in alarms}
    r53 = boto3.client("route53", "us-east-1")
    children = {
        c for w in watched
        for c in r53.get_health_check(HealthCheckId=w)["HealthCheck"]["HealthCheckConfig"][
            "ChildHealthChecks"
        ]
    }  # fmt: skip
    assert watched <= old_ids and probes <= children

    with context(slower) as (ctx, _):
        down = plan_down(specs, observe_all(ctx, specs), "hello")
        # The aliases go with their functions (DeleteFunction), not on their own.
        assert len(down.pending) == len([s for s in specs if s.kind != "alias"])
        apply_plan(ctx, down)
        assert not any(o.exists for o in observe_all(ctx, specs).values())
    with context(slower) as (ctx, recorder):
        again = plan_down(specs, observe_all(ctx, specs), "hello")
        assert again.pending == []
        apply_plan(ctx, again)
        assert recorder.mutating == []
    assert _check_ids() == set()
    assert boto3.client("sns", "us-east-1").list_topics()["Topics"] == []
