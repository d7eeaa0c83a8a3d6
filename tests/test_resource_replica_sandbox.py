"""Replicas against the sandbox (global tables emulated): added, waited for, tagged, removed.

One sandbox serves the session, so every test uses its own table name. The
clock's sleep is short and real (replicas settle in the sandbox's real time)
while the budgets count emulated seconds, so waits are quick but genuine.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from failover_cli.aws.retry import Clock
from failover_cli.config.schema import Config, TableConfig
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.engine.planner import observe_all, plan_down, plan_up
from failover_cli.engine.runner import apply_plan
from failover_cli.errors import ConflictError, FailoverError
from failover_cli.resources import HANDLERS
from failover_cli.resources.replica import HANDLER, stale_replicas
from failover_cli.resources.table import HANDLER as TABLE
from tests.engine_helpers import context, make_config

pytestmark = pytest.mark.sandbox

PRIMARY, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
DYNAMO_KINDS = ("table", "seed_item", "scaling", "replica")
NOT_VISIBLE = "Table write capacity should either be Pay-Per-Request or AutoScaled."


def quick_clock() -> Clock:
    """Emulated time advances by each sleep; the real pause is a fraction of it."""
    state = {"now": 0.0}

    def sleep(seconds: float) -> None:
        state["now"] += seconds
        time.sleep(min(seconds, 0.1))

    return Clock(now=lambda: state["now"], sleep=sleep)


def _config(billing: str = "on-demand", regions: tuple[str, ...] = (PRIMARY, WEST)) -> Config:
    name = f"t{uuid.uuid4().hex[:12]}"
    return make_config(regions=regions, table=TableConfig(name=name, billing=billing))  # type: ignore[arg-type]


def _specs(config: Config, kinds: tuple[str, ...] = ("table", "replica")) -> dict[str, Spec]:
    inputs = DesiredInputs(config, "s", None)  # type: ignore[arg-type]
    return {s.key: s for kind in kinds for s in HANDLERS[kind].desired(inputs)}


def _replica(config: Config, region: str = WEST) -> Spec:
    return _specs(config)[f"replica:{region}:{config.table.name}"]


def _table(config: Config) -> Spec:
    return _specs(config)[f"table:{PRIMARY}:{config.table.name}"]


def _replicas(config: Config) -> dict[str, str]:
    table = boto3.client("dynamodb", PRIMARY).describe_table(TableName=config.table.name)
    return {r["RegionName"]: r["ReplicaStatus"] for r in table["Table"].get("Replicas", [])}


def _tags(config: Config, region: str) -> dict[str, str]:
    dynamo = boto3.client("dynamodb", region)
    arn = dynamo.describe_table(TableName=config.table.name)["Table"]["TableArn"]
    return {t["Key"]: t["Value"] for t in dynamo.list_tags_of_resource(ResourceArn=arn)["Tags"]}


def _with_table(config: Config) -> None:
    with context(config, clock=quick_clock()) as (ctx, _):
        TABLE.create(ctx, _table(config))


def test_a_replica_is_added_waited_for_tagged_and_then_converged(sandbox_env: str) -> None:
    config = _config()
    _with_table(config)
    spec = _replica(config)
    messages: list[tuple[str, str]] = []
    with context(config, clock=quick_clock()) as (ctx, _):
        ctx.progress = lambda region, message: messages.append((region, message))
        assert not HANDLER.observe(ctx, spec).exists
        HANDLER.create(ctx, spec)
    assert _replicas(config) == {WEST: "ACTIVE"}
    assert _tags(config, WEST)["failover:stack"] == "hello"
    assert any(
        region == WEST and m.startswith(f"waiting for replica in {WEST} to become ACTIVE (")
        for region, m in messages
    )
    with context(config, clock=quick_clock()) as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
        assert seen.exists and seen.owned and HANDLER.diff(spec, seen) == []
        assert recorder.mutating == []
    # The item written in the primary is readable in the replica's region.
    boto3.client("dynamodb", PRIMARY).put_item(
        TableName=config.table.name, Item={"HelloKey": {"S": "Hello"}}
    )
    got = boto3.client("dynamodb", WEST).get_item(
        TableName=config.table.name, Key={"HelloKey": {"S": "Hello"}}
    )
    assert "Item" in got


def test_an_interrupted_run_resumes_by_waiting_and_tagging(sandbox_env: str) -> None:
    config = _config()
    _with_table(config)
    spec = _replica(config)
    # The previous run asked for the replica and stopped before it was ACTIVE and tagged.
    boto3.client("dynamodb", PRIMARY).update_table(
        TableName=config.table.name, ReplicaUpdates=[{"Create": {"RegionName": WEST}}]
    )
    with context(config, clock=quick_clock()) as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        assert seen.exists and seen.owned  # an untagged replica of our table is ours
        changes = HANDLER.diff(spec, seen)
        assert "tags" in {c.field for c in changes}
        HANDLER.update(ctx, spec, seen, changes)
    with context(config, clock=quick_clock()) as (ctx, _):
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
        HANDLER.create(ctx, spec)  # find-or-create: already there, nothing to add
    assert _replicas(config) == {WEST: "ACTIVE"}


def test_a_second_replica_waits_while_the_table_is_busy(sandbox_env: str) -> None:
    config = _config(regions=(PRIMARY, WEST, EU))
    _with_table(config)
    boto3.client("dynamodb", PRIMARY).update_table(
        TableName=config.table.name, ReplicaUpdates=[{"Create": {"RegionName": WEST}}]
    )
    messages: list[str] = []
    with context(config, clock=quick_clock()) as (ctx, _):
        ctx.progress = lambda _region, message: messages.append(message)
        HANDLER.create(ctx, _replica(config, EU))  # the table is UPDATING for us-west-2
    assert _replicas(config) == {WEST: "ACTIVE", EU: "ACTIVE"}
    assert any("busy" in m for m in messages)


def test_replica_of_a_table_the_stack_does_not_own_is_not_owned(sandbox_env: str) -> None:
    config = _config()
    dynamo = boto3.client("dynamodb", PRIMARY)
    dynamo.create_table(
        TableName=config.table.name,
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    dynamo.update_table(
        TableName=config.table.name, ReplicaUpdates=[{"Create": {"RegionName": WEST}}]
    )
    with context(config, clock=quick_clock()) as (ctx, _):
        seen = HANDLER.observe(ctx, _replica(config))
    assert seen.exists and not seen.owned


def test_a_look_alike_table_in_the_region_is_a_conflict_not_a_replica(sandbox_env: str) -> None:
    config = _config()
    _with_table(config)
    boto3.client("dynamodb", WEST).create_table(
        TableName=config.table.name,
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[
            {"Key": "failover:stack", "Value": "hello"},
            {"Key": "failover:managed-by", "Value": "failover"},
        ],
    )
    spec = _replica(config)
    with context(config, clock=quick_clock()) as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        assert seen.exists and seen.props["status"] == "not a replica"
        with pytest.raises(ConflictError):
            HANDLER.update(ctx, spec, seen, HANDLER.diff(spec, seen))


def test_delete_twice_is_fine_and_then_the_table_can_go(sandbox_env: str) -> None:
    config = _config()
    _with_table(config)
    spec = _replica(config)
    with context(config, clock=quick_clock()) as (ctx, _):
        HANDLER.create(ctx, spec)
        seen = HANDLER.observe(ctx, spec)
        HANDLER.delete(ctx, spec, seen)
        HANDLER.delete(ctx, spec, seen)
        assert not HANDLER.observe(ctx, spec).exists
        assert _replicas(config) == {}
        TABLE.delete(ctx, _table(config), TABLE.observe(ctx, _table(config)))
    with pytest.raises(boto3.client("dynamodb", WEST).exceptions.ResourceNotFoundException):
        boto3.client("dynamodb", WEST).describe_table(TableName=config.table.name)


def test_a_region_dropped_from_the_config_is_reported_and_blocks_deleting_the_table(
    sandbox_env: str,
) -> None:
    wide = _config(regions=(PRIMARY, WEST, EU))
    _with_table(wide)
    with context(wide, clock=quick_clock()) as (ctx, _):
        HANDLER.create(ctx, _replica(wide, WEST))
        HANDLER.create(ctx, _replica(wide, EU))
    narrow = make_config(regions=(PRIMARY, WEST), table=wide.table)
    with context(narrow, clock=quick_clock()) as (ctx, recorder):
        assert stale_replicas(ctx) == [EU]
        assert recorder.mutating == []
        spec = _replica(narrow, WEST)
        HANDLER.delete(ctx, spec, HANDLER.observe(ctx, spec))
        with pytest.raises(FailoverError) as raised:
            TABLE.delete(ctx, _table(narrow), TABLE.observe(ctx, _table(narrow)))
    assert EU in raised.value.message and "regions" in (raised.value.hint or "")
    assert _replicas(wide) == {EU: "ACTIVE"}


def _plan(config: Config, specs: list[Spec], down: bool = False) -> Any:
    with context(config, clock=quick_clock()) as (ctx, _):
        seen = observe_all(ctx, specs)
    return (plan_down if down else plan_up)(specs, seen, config.stack)


def test_provisioned_stack_up_up_down_down_through_the_engine(sandbox_env: str) -> None:
    config = _config(billing="provisioned", regions=(PRIMARY, WEST, EU))
    specs = list(_specs(config, DYNAMO_KINDS).values())
    first = _plan(config, specs)
    assert {c.action.value for c in first.changes} == {"create"}
    with context(config, clock=quick_clock()) as (ctx, _):
        apply_plan(ctx, first)
    second = _plan(config, specs)
    assert [c.describe() for c in second.pending] == []  # converged: no diff at all
    with context(config, clock=quick_clock()) as (ctx, _):
        apply_plan(ctx, _plan(config, specs, down=True))
    assert _plan(config, specs, down=True).pending == []
    aas = boto3.client("application-autoscaling", WEST)
    left = aas.describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=[f"table/{config.table.name}"]
    )["ScalableTargets"]
    assert left == []


def test_a_replica_refused_while_auto_scaling_is_not_visible_yet_is_retried(
    sandbox_env: str,
) -> None:
    """Application Auto Scaling is eventually consistent: DynamoDB may refuse the replica
    of a provisioned table as not auto-scaled for a moment after the targets exist."""
    config = _config()
    _with_table(config)
    refusals = {"left": 2}

    def not_yet(_service: str, _region: str, operation: str, params: dict[str, Any]) -> None:
        if operation == "UpdateTable" and "ReplicaUpdates" in str(params) and refusals["left"]:
            refusals["left"] -= 1
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": NOT_VISIBLE}}, operation
            )

    messages: list[str] = []
    with context(config, clock=quick_clock()) as (ctx, _):
        ctx.clients.add_hook(not_yet)
        ctx.progress = lambda _region, message: messages.append(message)
        HANDLER.create(ctx, _replica(config))
    assert refusals["left"] == 0
    assert _replicas(config) == {WEST: "ACTIVE"}
    assert any("auto scaling" in m for m in messages)


def test_a_replica_refusal_that_lasts_is_reported_not_retried_forever(sandbox_env: str) -> None:
    config = _config()
    _with_table(config)

    def never(_service: str, _region: str, operation: str, params: dict[str, Any]) -> None:
        if operation == "UpdateTable" and "ReplicaUpdates" in str(params):
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": NOT_VISIBLE}}, operation
            )

    with context(config, clock=quick_clock()) as (ctx, _), pytest.raises(ClientError):
        ctx.clients.add_hook(never)
        HANDLER.create(ctx, _replica(config))
    assert _replicas(config) == {}
