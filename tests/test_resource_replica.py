"""Replica specs and what can be checked without replicas (moto ignores ReplicaUpdates).

The replica lifecycle itself runs against the sandbox: test_resource_replica_sandbox.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from failover_cli.config.schema import TableConfig
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.errors import FailoverError
from failover_cli.resources.replica import HANDLER, ReplicaProps, desired, stale_replicas
from tests.engine_helpers import context, make_config

NAME = "prod.Hello"
THREE = ("us-east-1", "us-west-2", "eu-west-1")
OWNERSHIP = (("failover:managed-by", "failover"), ("failover:stack", "hello"))


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _spec(region: str = "us-west-2") -> Spec:
    return Spec("replica", region, NAME, ReplicaProps("us-east-1", "ACTIVE", OWNERSHIP))


def _inputs(**overrides: object) -> DesiredInputs:
    return DesiredInputs(make_config(**overrides), "s", None)  # type: ignore[arg-type]


def test_one_replica_per_other_region_added_one_after_the_other() -> None:
    specs = desired(_inputs(regions=THREE))
    assert [(s.region, s.name, s.props.primary_region) for s in specs] == [
        ("us-west-2", NAME, "us-east-1"),
        ("eu-west-1", NAME, "us-east-1"),
    ]
    # Provisioned: the primary's auto scaling first (AWS requires it), then one at a time.
    assert specs[0].depends_on == ("table:us-east-1:prod.Hello", "scaling:us-east-1:prod.Hello")
    assert specs[1].depends_on == (
        "table:us-east-1:prod.Hello",
        "scaling:us-east-1:prod.Hello",
        "replica:us-west-2:prod.Hello",
    )


def test_on_demand_replicas_do_not_wait_for_scaling() -> None:
    specs = desired(_inputs(regions=THREE, table=TableConfig(billing="on-demand")))
    assert specs[0].depends_on == ("table:us-east-1:prod.Hello",)
    assert specs[1].depends_on == ("table:us-east-1:prod.Hello", "replica:us-west-2:prod.Hello")


def test_replicas_carry_the_ownership_tags() -> None:
    [spec] = desired(_inputs(tags={"team": "web"}))
    assert dict(spec.props.tags) == {
        "team": "web",
        "failover:stack": "hello",
        "failover:managed-by": "failover",
    }


def test_no_table_means_no_replica_and_nothing_stale(aws: None) -> None:
    with context() as (ctx, recorder):
        assert not HANDLER.observe(ctx, _spec()).exists
        assert stale_replicas(ctx) == []
        assert recorder.mutating == []


def test_deleting_a_replica_of_a_table_that_is_gone_is_fine(aws: None) -> None:
    with context() as (ctx, recorder):
        HANDLER.delete(ctx, _spec(), HANDLER.observe(ctx, _spec()))
        assert recorder.mutating == []


def test_creating_a_replica_without_its_table_says_what_to_do(aws: None) -> None:
    with context() as (ctx, _), pytest.raises(FailoverError) as raised:
        HANDLER.create(ctx, _spec())
    assert "does not exist" in raised.value.message and "up" in (raised.value.hint or "")


def test_a_table_in_the_replica_region_that_is_not_a_replica_is_reported(aws: None) -> None:
    boto3.client("dynamodb", "us-east-1").create_table(
        TableName=NAME,
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("dynamodb", "us-west-2").create_table(
        TableName=NAME,
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, _spec())
    # Not the stack's, so `up` refuses before AWS would fail to add the replica.
    assert seen.exists and not seen.owned
    assert seen.props["status"] == "not a replica"
