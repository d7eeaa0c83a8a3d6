"""Table handler against moto: created as specified, converged field by field, deleted safely."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from failover_cli.config.schema import Autoscaling, TableConfig
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.errors import FailoverError
from failover_cli.resources.table import HANDLER, TableProps, desired
from tests.engine_helpers import context, is_mutating, make_config

NAME = "prod.Hello"
REGION = "us-east-1"
OWNERSHIP = (("failover:managed-by", "failover"), ("failover:stack", "hello"))


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _spec(**changes: Any) -> Spec:
    props = TableProps(
        partition_key="HelloKey",
        billing="PROVISIONED",
        stream="NEW_AND_OLD_IMAGES",
        status="ACTIVE",
        tags=OWNERSHIP,
        capacity=1,
    )
    return Spec("table", REGION, NAME, replace(props, **changes))


def _dynamo() -> Any:
    return boto3.client("dynamodb", REGION)


def _fail_on(operation: str, code: str, message: str) -> Any:
    """A call hook that makes one operation fail the way AWS would."""

    def hook(_service: str, _region: str, name: str, _params: dict[str, Any]) -> None:
        if name == operation:
            raise ClientError({"Error": {"Code": code, "Message": message}}, operation)

    return hook


def test_desired_follows_the_billing_choice() -> None:
    provisioned = make_config(tags={"team": "web"})
    on_demand = make_config(table=TableConfig(billing="on-demand"))
    [spec] = desired(DesiredInputs(provisioned, "s", None))  # type: ignore[arg-type]
    assert (spec.region, spec.name, spec.depends_on) == (REGION, NAME, ())
    assert (spec.props.billing, spec.props.capacity) == ("PROVISIONED", 1)
    assert ("team", "web") in spec.props.tags and OWNERSHIP[1] in spec.props.tags
    [spec] = desired(DesiredInputs(on_demand, "s", None))  # type: ignore[arg-type]
    assert (spec.props.billing, spec.props.capacity) == ("PAY_PER_REQUEST", None)
    bigger = make_config(table=TableConfig(autoscaling=Autoscaling(min=3, max=9)))
    [spec] = desired(DesiredInputs(bigger, "s", None))  # type: ignore[arg-type]
    assert spec.props.capacity == 3


def test_create_builds_the_specified_table_and_a_second_look_has_no_diff(aws: None) -> None:
    messages: list[str] = []
    with context() as (ctx, recorder):
        ctx.progress = lambda _region, message: messages.append(message)
        spec = _spec()
        assert not HANDLER.observe(ctx, spec).exists
        HANDLER.create(ctx, spec)
        calls_before = len(recorder.calls)
        seen = HANDLER.observe(ctx, spec)
        assert not [c for c in recorder.calls[calls_before:] if is_mutating(c[2])]
    assert seen.exists and seen.owned
    assert HANDLER.diff(spec, seen) == []
    table = _dynamo().describe_table(TableName=NAME)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "HelloKey", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "HelloKey", "AttributeType": "S"}]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 1
    assert "SSEDescription" not in table  # default encryption, never a KMS key
    assert any("creating table" in m for m in messages)


def test_create_is_find_or_create_after_an_interrupted_run(aws: None) -> None:
    with context() as (ctx, _):
        HANDLER.create(ctx, _spec())
        HANDLER.create(ctx, _spec())
        assert HANDLER.diff(_spec(), HANDLER.observe(ctx, _spec())) == []


def test_billing_change_is_an_update_that_converges(aws: None) -> None:
    with context() as (ctx, _):
        HANDLER.create(ctx, _spec())
        wanted = _spec(billing="PAY_PER_REQUEST", capacity=None)
        seen = HANDLER.observe(ctx, wanted)
        changes = HANDLER.diff(wanted, seen)
        assert [c.field for c in changes] == ["billing"]
        HANDLER.update(ctx, wanted, seen, changes)
        assert HANDLER.diff(wanted, HANDLER.observe(ctx, wanted)) == []


def test_a_table_without_its_stream_gets_one(aws: None) -> None:
    # (moto cannot re-enable a stream once disabled, so the table starts without one.)
    _dynamo().create_table(
        TableName=NAME,
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        Tags=[{"Key": k, "Value": v} for k, v in OWNERSHIP],
    )
    with context() as (ctx, _):
        spec = _spec()
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert [(c.field, c.old) for c in changes] == [("stream", "off")]
        HANDLER.update(ctx, spec, seen, changes)
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    table = _dynamo().describe_table(TableName=NAME)["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_missing_ownership_tags_are_restored_and_hand_added_tags_survive(aws: None) -> None:
    dynamo = _dynamo()
    with context() as (ctx, _):
        HANDLER.create(ctx, _spec())
        arn = dynamo.describe_table(TableName=NAME)["Table"]["TableArn"]
        dynamo.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "ops"}])
        spec = _spec(tags=tuple(sorted((*OWNERSHIP, ("cost-centre", "42")))))
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert [c.field for c in changes] == ["tags"]
        HANDLER.update(ctx, spec, seen, changes)
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    tags = {t["Key"]: t["Value"] for t in dynamo.list_tags_of_resource(ResourceArn=arn)["Tags"]}
    assert tags["team"] == "ops" and tags["cost-centre"] == "42"


def test_a_new_partition_key_is_reported_and_refused_without_touching_the_table(
    aws: None,
) -> None:
    with context() as (ctx, recorder):
        HANDLER.create(ctx, _spec())
        wanted = _spec(partition_key="OtherKey")
        seen = HANDLER.observe(ctx, wanted)
        changes = HANDLER.diff(wanted, seen)
        assert [(c.field, c.old, c.new) for c in changes] == [
            ("partition_key", "HelloKey", "OtherKey")
        ]
        before = len(recorder.mutating)
        with pytest.raises(FailoverError) as raised:
            HANDLER.update(ctx, wanted, seen, changes)
        assert len(recorder.mutating) == before
    assert "cannot change" in raised.value.message and raised.value.hint
    assert "HelloKey" in raised.value.hint


def test_a_number_key_or_sort_key_is_a_different_key(aws: None) -> None:
    _dynamo().create_table(
        TableName=NAME,
        AttributeDefinitions=[
            {"AttributeName": "HelloKey", "AttributeType": "N"},
            {"AttributeName": "At", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "HelloKey", "KeyType": "HASH"},
            {"AttributeName": "At", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, _spec())
    assert seen.props["partition_key"] == "HelloKey (type N) + sort key At"


def test_untagged_look_alike_is_not_owned(aws: None) -> None:
    _dynamo().create_table(
        TableName=NAME,
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "failover:stack", "Value": "hello"}],  # one tag is not enough
    )
    with context() as (ctx, _):
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


def test_deletion_protection_is_refused_with_a_way_out(aws: None) -> None:
    with context() as (ctx, _):
        spec = _spec()
        HANDLER.create(ctx, spec)
        _dynamo().update_table(TableName=NAME, DeletionProtectionEnabled=True)
        with pytest.raises(FailoverError) as raised:
            HANDLER.delete(ctx, spec, HANDLER.observe(ctx, spec))
    assert "deletion protection" in raised.value.message
    assert "--keep-table" in (raised.value.hint or "")
    assert _dynamo().describe_table(TableName=NAME)["Table"]["TableStatus"] == "ACTIVE"


def test_a_table_that_seeded_a_replica_says_to_come_back_tomorrow(aws: None) -> None:
    message = (
        "Replica cannot be deleted because it has acted as a source region for new "
        "replica(s) being added to the table in the last 24 hours."
    )
    with context() as (ctx, _):
        spec = _spec()
        HANDLER.create(ctx, spec)
        ctx.clients.add_hook(_fail_on("DeleteTable", "ValidationException", message))
        with pytest.raises(FailoverError) as raised:
            HANDLER.delete(ctx, spec, HANDLER.observe(ctx, spec))
    assert "24 hours" in raised.value.message
    assert "down" in (raised.value.hint or "")


def test_a_busy_table_is_retried_until_it_can_be_deleted(aws: None) -> None:
    failures = iter([True, True])

    def busy_twice(_s: str, _r: str, operation: str, _p: dict[str, Any]) -> None:
        if operation == "DeleteTable" and next(failures, False):
            raise ClientError(
                {"Error": {"Code": "ResourceInUseException", "Message": "in use"}}, operation
            )

    with context() as (ctx, _):
        spec = _spec()
        HANDLER.create(ctx, spec)
        ctx.clients.add_hook(busy_twice)
        HANDLER.delete(ctx, spec, HANDLER.observe(ctx, spec))
        assert not HANDLER.observe(ctx, spec).exists


def test_making_a_replicated_table_provisioned_is_refused_with_a_way_out(aws: None) -> None:
    message = "Table write capacity should either be Pay-Per-Request or AutoScaled."
    with context() as (ctx, _):
        HANDLER.create(ctx, _spec(billing="PAY_PER_REQUEST", capacity=None))
        ctx.clients.add_hook(_fail_on("UpdateTable", "ValidationException", message))
        wanted = _spec()
        seen = HANDLER.observe(ctx, wanted)
        with pytest.raises(FailoverError) as raised:
            HANDLER.update(ctx, wanted, seen, HANDLER.diff(wanted, seen))
    assert "replicas" in raised.value.message and "on-demand" in (raised.value.hint or "")
