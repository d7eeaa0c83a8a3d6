"""Auto scaling handler against moto: targets and target tracking per region, owned via tables."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.config.schema import Autoscaling, TableConfig
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.resources.scaling import HANDLER, ScalingProps, desired
from tests.engine_helpers import context, make_config

NAME = "prod.Hello"
REGION = "us-east-1"
RESOURCE = "table/prod.Hello"
OWNERSHIP = (("failover:managed-by", "failover"), ("failover:stack", "hello"))
READ = "dynamodb:table:ReadCapacityUnits"
WRITE = "dynamodb:table:WriteCapacityUnits"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _spec(**changes: Any) -> Spec:
    props = ScalingProps(1, 10, 50.0, 1, 10, 50.0, OWNERSHIP)
    return Spec("scaling", REGION, NAME, replace(props, **changes))


def _table(tagged: bool = True) -> None:
    boto3.client("dynamodb", REGION).create_table(
        TableName=NAME,
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        Tags=[{"Key": k, "Value": v} for k, v in OWNERSHIP] if tagged else [],
    )


def _aas() -> Any:
    return boto3.client("application-autoscaling", REGION)


def _policies() -> dict[str, tuple[str, float]]:
    found = _aas().describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=RESOURCE)
    return {
        p["PolicyName"]: (
            p["ScalableDimension"],
            p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
        )
        for p in found["ScalingPolicies"]
    }


def test_desired_scales_every_region_after_its_table_or_replica_only_when_provisioned() -> None:
    config = make_config(
        regions=("us-east-1", "us-west-2", "eu-west-1"),
        table=TableConfig(autoscaling=Autoscaling(min=2, max=20, target_percent=70)),
    )
    specs = desired(DesiredInputs(config, "s", None))  # type: ignore[arg-type]
    assert [(s.region, s.depends_on) for s in specs] == [
        ("us-east-1", ("table:us-east-1:prod.Hello",)),
        ("us-west-2", ("replica:us-west-2:prod.Hello",)),
        ("eu-west-1", ("replica:eu-west-1:prod.Hello",)),
    ]
    assert (specs[0].props.write_min, specs[0].props.write_max) == (2, 20)
    assert specs[0].props.read_target == 70.0
    on_demand = make_config(table=TableConfig(billing="on-demand"))
    assert desired(DesiredInputs(on_demand, "s", None)) == []  # type: ignore[arg-type]


def test_create_registers_both_dimensions_and_a_second_look_has_no_diff(aws: None) -> None:
    _table()
    with context() as (ctx, recorder):
        spec = _spec()
        assert not HANDLER.observe(ctx, spec).exists
        HANDLER.create(ctx, spec)
        before = len(recorder.mutating)
        seen = HANDLER.observe(ctx, spec)
        assert len(recorder.mutating) == before
    assert seen.exists and seen.owned
    assert HANDLER.diff(spec, seen) == []
    targets = _aas().describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert {(t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]) for t in targets} == {
        (READ, 1, 10),
        (WRITE, 1, 10),
    }
    assert _policies() == {"hello-read": (READ, 50.0), "hello-write": (WRITE, 50.0)}


def test_new_limits_update_only_what_changed(aws: None) -> None:
    _table()
    with context() as (ctx, recorder):
        HANDLER.create(ctx, _spec())
        wanted = _spec(write_max=25, write_target=60.0)
        seen = HANDLER.observe(ctx, wanted)
        changes = HANDLER.diff(wanted, seen)
        assert {c.field for c in changes} == {"write_max", "write_target"}
        before = len(recorder.calls)
        HANDLER.update(ctx, wanted, seen, changes)
        touched = {op for _s, _r, op in recorder.calls[before:]}
        assert touched == {"RegisterScalableTarget", "PutScalingPolicy"}
        assert HANDLER.diff(wanted, HANDLER.observe(ctx, wanted)) == []
    assert _policies() == {"hello-read": (READ, 50.0), "hello-write": (WRITE, 60.0)}


def test_a_policy_already_tracking_the_metric_is_adopted_not_duplicated(aws: None) -> None:
    # AWS can copy the source table's scaling to a new replica under its own policy names.
    _table()
    aas = _aas()
    for dimension, metric in ((READ, "Read"), (WRITE, "Write")):
        aas.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=RESOURCE,
            ScalableDimension=dimension,
            MinCapacity=1,
            MaxCapacity=10,
        )
        aas.put_scaling_policy(
            PolicyName=f"DynamoDB{metric}CapacityUtilization:{RESOURCE}",
            ServiceNamespace="dynamodb",
            ResourceId=RESOURCE,
            ScalableDimension=dimension,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 70.0,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": f"DynamoDB{metric}CapacityUtilization"
                },
            },
        )
    with context() as (ctx, _):
        spec = _spec()
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert {c.field for c in changes} == {"read_target", "write_target"}
        HANDLER.update(ctx, spec, seen, changes)
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    assert sorted(v for v in _policies().values()) == [(READ, 50.0), (WRITE, 50.0)]


def test_targets_on_a_table_the_stack_does_not_own_are_not_owned(aws: None) -> None:
    _table(tagged=False)
    _aas().register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=RESOURCE,
        ScalableDimension=WRITE,
        MinCapacity=1,
        MaxCapacity=5,
    )
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, _spec())
    assert seen.exists and not seen.owned
    assert seen.props["read_min"] is None and seen.props["write_max"] == 5


def test_delete_twice_is_fine(aws: None) -> None:
    _table()
    with context() as (ctx, _):
        spec = _spec()
        HANDLER.create(ctx, spec)
        seen = HANDLER.observe(ctx, spec)
        HANDLER.delete(ctx, spec, seen)
        HANDLER.delete(ctx, spec, seen)
        assert not HANDLER.observe(ctx, spec).exists


def test_an_inherited_policy_beside_ours_converges_to_one_per_dimension(aws: None) -> None:
    """DynamoDB copies the primary's write scaling to a new replica; a region that has both
    that copy and our own policy would have two target trackers fighting over one table."""
    _table()
    with context() as (ctx, _):
        HANDLER.create(ctx, _spec())
    _aas().put_scaling_policy(
        PolicyName=f"DynamoDBWriteCapacityUtilization:{RESOURCE}",
        ServiceNamespace="dynamodb",
        ResourceId=RESOURCE,
        ScalableDimension=WRITE,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "DynamoDBWriteCapacityUtilization"
            },
        },
    )
    with context() as (ctx, _):
        spec = _spec()
        seen = HANDLER.observe(ctx, spec)
        [change] = HANDLER.diff(spec, seen)
        assert (change.field, change.old, change.new) == ("write_policies", 2, 1)
        assert "duplicate" in change.note and "copies" in change.note
        HANDLER.update(ctx, spec, seen, [change])
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    assert _policies() == {"hello-read": (READ, 50.0), "hello-write": (WRITE, 50.0)}
