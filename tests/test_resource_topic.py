"""SNS topic handler against moto: us-east-1 always, tagged, look-alikes left alone."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from failover_cli.bundle import CodeBundle
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Action, Spec
from failover_cli.engine.planner import plan_down, plan_up, refuse_conflicts
from failover_cli.errors import ConflictError
from failover_cli.resources.topic import HANDLER, desired, owned_topic_arn
from tests.engine_helpers import context, make_config

ARN = "arn:aws:sns:us-east-1:123456789012:hello-alarms"
OWNERSHIP = {"failover:stack": "hello", "failover:managed-by": "failover"}


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _spec(regions: tuple[str, ...] = ("eu-west-1", "eu-central-1")) -> Spec:
    config = make_config(regions=regions, tags={"team": "ops"})
    (spec,) = desired(DesiredInputs(config, "s", CodeBundle(b"", "")))
    return spec


def _tags() -> dict[str, str]:
    answer = boto3.client("sns", "us-east-1").list_tags_for_resource(ResourceArn=ARN)
    return {t["Key"]: t["Value"] for t in answer["Tags"]}


def test_the_topic_lives_in_us_east_1_whatever_the_stack_regions() -> None:
    spec = _spec()
    assert (spec.key, spec.depends_on) == ("topic:us-east-1:hello-alarms", ())


def test_create_then_observe_shows_no_diff(aws: None) -> None:
    spec = _spec()
    with context(make_config(regions=("eu-west-1", "eu-central-1"))) as (ctx, _):
        HANDLER.create(ctx, spec)
    with context() as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
        assert seen.exists and seen.owned and HANDLER.diff(spec, seen) == []
        assert owned_topic_arn(ctx) == ARN
        assert recorder.mutating == []
    assert _tags() == {**OWNERSHIP, "team": "ops"}


def test_lost_tags_are_put_back(aws: None) -> None:
    spec = _spec()
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
    boto3.client("sns", "us-east-1").untag_resource(ResourceArn=ARN, TagKeys=["team"])
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert [c.field for c in changes] == ["tags"]
        HANDLER.update(ctx, spec, seen, changes)
    assert _tags()["team"] == "ops"


def test_an_untagged_topic_of_that_name_is_refused_and_never_deleted(aws: None) -> None:
    boto3.client("sns", "us-east-1").create_topic(Name="hello-alarms")
    spec = _spec()
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        assert seen.exists and not seen.owned
        assert owned_topic_arn(ctx) is None
        up = plan_up([spec], {spec.key: seen}, "hello")
        with pytest.raises(ConflictError):
            refuse_conflicts(up, "hello")
        with pytest.raises(ConflictError):  # even if the plan raced with its creation
            HANDLER.create(ctx, spec)
        down = plan_down([spec], {spec.key: seen}, "hello")
        assert [c.action for c in down.changes] == [Action.SKIP]
    assert boto3.client("sns", "us-east-1").list_topics()["Topics"] == [{"TopicArn": ARN}]


def test_delete_twice_is_fine(aws: None) -> None:
    spec = _spec()
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
        seen = HANDLER.observe(ctx, spec)
        HANDLER.delete(ctx, spec, seen)
        HANDLER.delete(ctx, spec, seen)
        assert not HANDLER.observe(ctx, spec).exists
