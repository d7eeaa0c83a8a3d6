"""Seed item handler against moto: written into the stack's table only, restored when edited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.config.schema import TableConfig
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.resources.seed import HANDLER, SeedProps, desired
from tests.engine_helpers import context, make_config

NAME = "prod.Hello"
REGION = "us-east-1"
ITEM = (("Hello", "Deep hello from "), ("HelloKey", "Hello"))
OWNERSHIP: list[Any] = [
    {"Key": "failover:managed-by", "Value": "failover"},
    {"Key": "failover:stack", "Value": "hello"},
]


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _spec(item: tuple[tuple[str, str], ...] = ITEM) -> Spec:
    return Spec("seed_item", REGION, NAME, SeedProps(item))


def _table(tags: list[Any] = OWNERSHIP) -> None:
    boto3.client("dynamodb", REGION).create_table(
        TableName=NAME,
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=tags,
    )


def _stored() -> dict[str, object]:
    got = boto3.client("dynamodb", REGION).get_item(
        TableName=NAME, Key={"HelloKey": {"S": "Hello"}}, ConsistentRead=True
    )
    return dict(got.get("Item", {}))


def test_desired_is_the_configured_item_after_the_table() -> None:
    config = make_config(table=TableConfig(seed_item={"HelloKey": "Hi", "Hello": "x"}))
    [spec] = desired(DesiredInputs(config, "s", None))  # type: ignore[arg-type]
    assert (spec.kind, spec.region, spec.name) == ("seed_item", REGION, NAME)
    assert spec.depends_on == ("table:us-east-1:prod.Hello",)
    assert spec.props.item == (("Hello", "x"), ("HelloKey", "Hi"))


def test_no_table_means_no_item(aws: None) -> None:
    with context() as (ctx, _):
        assert not HANDLER.observe(ctx, _spec()).exists


def test_create_writes_the_item_and_a_second_look_has_no_diff(aws: None) -> None:
    _table()
    with context() as (ctx, recorder):
        spec = _spec()
        assert not HANDLER.observe(ctx, spec).exists
        HANDLER.create(ctx, spec)
        before = len(recorder.mutating)
        seen = HANDLER.observe(ctx, spec)
        assert len(recorder.mutating) == before  # observing writes nothing
    assert seen.exists and seen.owned
    assert HANDLER.diff(spec, seen) == []
    assert _stored() == {"HelloKey": {"S": "Hello"}, "Hello": {"S": "Deep hello from "}}


def test_an_item_edited_by_hand_is_put_back(aws: None) -> None:
    _table()
    dynamo = boto3.client("dynamodb", REGION)
    dynamo.put_item(
        TableName=NAME,
        Item={"HelloKey": {"S": "Hello"}, "Hello": {"S": "hacked"}, "Count": {"N": "3"}},
    )
    with context() as (ctx, _):
        spec = _spec()
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert [c.field for c in changes] == ["item"]
        HANDLER.update(ctx, spec, seen, changes)
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    assert _stored() == {"HelloKey": {"S": "Hello"}, "Hello": {"S": "Deep hello from "}}


def test_an_item_in_a_table_the_stack_does_not_own_is_not_ours(aws: None) -> None:
    _table(tags=[])
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, _spec())
    assert seen.exists and not seen.owned  # so `up` refuses instead of writing into it
    assert _stored() == {}


def test_the_item_goes_with_its_table(aws: None) -> None:
    _table()
    with context() as (ctx, _):
        HANDLER.create(ctx, _spec())
        assert not HANDLER.deletes_separately(HANDLER.observe(ctx, _spec()))
