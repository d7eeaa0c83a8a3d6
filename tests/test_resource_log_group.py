"""Log group handler against moto: created with retention and tags, converged, deleted."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from failover_cli.engine.model import Spec
from failover_cli.resources.log_group import HANDLER, LogGroupProps, desired
from tests.engine_helpers import context, make_config

NAME = "/aws/lambda/thelambda"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _spec(retention: int = 1) -> Spec:
    tags = (("failover:managed-by", "failover"), ("failover:stack", "hello"))
    return Spec("log_group", "us-east-1", NAME, LogGroupProps(retention, tags))


def test_desired_has_one_group_per_region_with_the_configured_retention() -> None:
    from failover_cli.engine.desired import DesiredInputs

    config = make_config()
    specs = desired(DesiredInputs(config, "s", None))  # type: ignore[arg-type]
    assert [(s.region, s.name, s.props.retention_days) for s in specs] == [
        ("us-east-1", NAME, 1),
        ("us-west-2", NAME, 1),
    ]


def test_create_then_observe_shows_no_diff(aws: None) -> None:
    with context() as (ctx, _):
        spec = _spec()
        assert not HANDLER.observe(ctx, spec).exists
        HANDLER.create(ctx, spec)
        seen = HANDLER.observe(ctx, spec)
    assert seen.exists and seen.owned
    assert HANDLER.diff(spec, seen) == []
    group = boto3.client("logs", "us-east-1").describe_log_groups(logGroupNamePrefix=NAME)
    assert group["logGroups"][0]["retentionInDays"] == 1


def test_retention_change_is_an_update_and_hand_added_tags_survive(aws: None) -> None:
    logs = boto3.client("logs", "us-east-1")
    with context() as (ctx, _):
        HANDLER.create(ctx, _spec(1))
        arn = logs.describe_log_groups(logGroupNamePrefix=NAME)["logGroups"][0]["arn"]
        logs.tag_resource(resourceArn=arn.removesuffix(":*"), tags={"team": "ops"})
        spec = _spec(7)
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert [c.field for c in changes] == ["retention_days"]
        HANDLER.update(ctx, spec, seen, changes)
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    tags = logs.list_tags_for_resource(resourceArn=arn.removesuffix(":*"))["tags"]
    assert tags["team"] == "ops"


def test_untagged_look_alike_is_not_owned_and_a_longer_name_is_not_it(aws: None) -> None:
    logs = boto3.client("logs", "us-east-1")
    logs.create_log_group(logGroupName=NAME + "-other", tags={"failover:stack": "hello"})
    with context() as (ctx, _):
        assert not HANDLER.observe(ctx, _spec()).exists
        logs.create_log_group(logGroupName=NAME)
        seen = HANDLER.observe(ctx, _spec())
    assert seen.exists and not seen.owned


def test_delete_twice_is_fine(aws: None) -> None:
    with context() as (ctx, _):
        spec = _spec()
        HANDLER.create(ctx, spec)
        seen = HANDLER.observe(ctx, spec)
        HANDLER.delete(ctx, spec, seen)
        HANDLER.delete(ctx, spec, seen)
        assert not HANDLER.observe(ctx, spec).exists
