"""force-fail against moto in-process: the switch write, idempotence and the refusals.

moto has no replication: each region's table stands for its replica, so "written in the
first replica that answered" and "read in any answering replica" are both visible.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.errors import BadInput, FailoverError
from failover_cli.ops.force_fail import force_fail
from tests.e2e_helpers import failover
from tests.engine_helpers import context, make_config
from tests.ops_fakes import (
    FollowingObserver,
    deploy_switch,
    force_failed,
    forced_out_in,
    replicate,
)

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
THREE = make_config(regions=(EAST, WEST, EU))


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def deployed(aws: None) -> None:
    deploy_switch(make_config())


@pytest.fixture
def three(aws: None) -> None:
    deploy_switch(THREE)


def _regions_called(calls: list[tuple[str, str, str]]) -> set[str]:
    return {region for _, region, _ in calls}


def test_forcing_out_writes_only_other_regions_replicas_and_restore_removes_it(
    three: None,
) -> None:
    with context(THREE) as (ctx, recorder):
        report = force_fail(ctx, EAST)
        calls = list(recorder.calls)
    assert report.changed and report.written_in in (WEST, EU)
    assert EAST not in _regions_called(calls)  # nothing asked of the region forced out
    assert {c[0] for c in calls} == {"dynamodb"}  # no Route 53, Lambda, IAM or STS
    assert EAST in forced_out_in(report.written_in)
    entry = boto3.client("dynamodb", report.written_in).get_item(
        TableName=THREE.table.name, Key={"HelloKey": {"S": "failover:switch"}}
    )["Item"]
    assert set(entry["forced_out"]["M"][EAST]["M"]) == {"at", "by", "why"}
    assert entry["revision"] == {"N": "1"}

    with context(THREE) as (ctx, recorder):
        restored = force_fail(ctx, EAST, restore=True)
        calls = list(recorder.calls)
    assert restored.changed and not force_failed(EAST)
    assert EAST not in _regions_called(calls)


def test_already_as_wanted_writes_nothing(deployed: None) -> None:
    with context() as (ctx, _):
        force_fail(ctx, WEST, observer=FollowingObserver())
    with context() as (ctx, calls):
        again = force_fail(ctx, WEST, observer=FollowingObserver())
        restored_twice = force_fail(ctx, EAST, restore=True, observer=FollowingObserver())
    assert not again.changed and not restored_twice.changed
    assert calls.mutating == []
    assert again.to_json() == {
        "region": WEST,
        "action": "fail",
        "via": "switch",
        "changed": False,
        "written_in": None,
        "phases": [],
        "total_seconds": 0.0,
    }


def test_unknown_region_is_bad_input_and_changes_nothing(deployed: None) -> None:
    with context() as (ctx, calls), pytest.raises(BadInput, match="eu-west-1 is not one of"):
        force_fail(ctx, EU, observer=FollowingObserver())
    assert calls.mutating == []


def test_refuses_the_last_region_in_service(deployed: None) -> None:
    with context() as (ctx, _):
        replicate(force_fail(ctx, EAST).written_in or "")
    with context() as (ctx, calls), pytest.raises(BadInput) as refused:
        force_fail(ctx, WEST)
    assert calls.mutating == []
    assert "last region" in refused.value.message
    assert f"{EAST}: forced out" in refused.value.message
    assert "--allow-total-outage" in (refused.value.hint or "")
    assert not force_failed(WEST)
    # Restoring is never refused; forcing everything out is allowed when asked for.
    with context() as (ctx, _):
        force_fail(ctx, WEST, allow_total_outage=True)
        force_fail(ctx, WEST, restore=True)
    assert force_failed(EAST) and not force_failed(WEST)


def test_the_guard_reads_every_answering_replica(three: None) -> None:
    """us-west-2 forced out in eu-west-1's replica only (replication lag), eu-west-1 in
    us-west-2's only: forcing out us-east-1 is still the last region, and refused."""
    key = {"HelloKey": {"S": "failover:switch"}}
    for replica, region in ((EU, WEST), (WEST, EU)):
        boto3.client("dynamodb", replica).update_item(
            TableName=THREE.table.name,
            Key=key,
            UpdateExpression="SET forced_out.#r = :e",
            ExpressionAttributeNames={"#r": region},
            ExpressionAttributeValues={":e": {"M": {"by": {"S": "x"}, "at": {"S": "t"}}}},
        )
    with context(THREE) as (ctx, calls), pytest.raises(BadInput, match="last region"):
        force_fail(ctx, EAST)
    assert calls.mutating == []


def test_the_guard_is_the_writes_condition_too(three: None) -> None:
    """A concurrent force-fail that took the other regions out after this one read the
    switch: the replica refuses the write (revision moved), the switch is read again and
    the guard refuses; nothing written."""
    from failover_cli.services import switch_replicas

    real = switch_replicas.write_forced_out
    raced = {"done": False}

    def racing(*args: Any, **kwargs: Any) -> Any:
        if not raced["done"]:
            raced["done"] = True
            for replica in (WEST, EU):
                for region in (WEST, EU):
                    boto3.client("dynamodb", replica).update_item(
                        TableName=THREE.table.name,
                        Key={"HelloKey": {"S": "failover:switch"}},
                        UpdateExpression="SET forced_out.#r = :e ADD revision :one",
                        ExpressionAttributeNames={"#r": region},
                        ExpressionAttributeValues={
                            ":e": {"M": {"by": {"S": "other"}}},
                            ":one": {"N": "1"},
                        },
                    )
        return real(*args, **kwargs)

    from failover_cli.ops import force_fail as module

    with context(THREE) as (ctx, _), pytest.raises(BadInput, match="last region"):
        original = module.write_forced_out
        module.write_forced_out = racing
        try:
            force_fail(ctx, EAST)
        finally:
            module.write_forced_out = original
    assert not any(EAST in forced_out_in(r) for r in (WEST, EU))


def test_no_switch_item_says_to_run_up(aws: None) -> None:
    config = make_config()
    for region in config.regions:
        boto3.client("dynamodb", region).create_table(
            TableName=config.table.name,
            KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    with context() as (ctx, calls), pytest.raises(FailoverError) as missing:
        force_fail(ctx, EAST)
    assert "no switch item" in missing.value.message and "failover up" in str(missing.value.hint)
    assert calls.mutating == []


def _config_file(folder: Path) -> Path:
    path = folder / "failover.yaml"
    path.write_text("stack: hello\nregions: [us-east-1, us-west-2]\n", encoding="utf-8")
    return path


def test_cli_exit_codes_and_json(deployed: None, tmp_path: Path) -> None:
    config = _config_file(tmp_path)
    unknown = failover(config, "force-fail", "--region", EU)
    assert unknown.exit_code == 2 and unknown.mutating == []
    assert "eu-west-1 is not one of" in unknown.stderr

    failed = failover(config, "force-fail", "--region", EAST, "--json")
    assert failed.exit_code == 0, failed.stderr
    assert json.loads(failed.stdout) == {
        "region": EAST,
        "action": "fail",
        "via": "switch",
        "changed": True,
        "written_in": WEST,
        "phases": [],
        "total_seconds": 0.0,
    }
    assert failed.mutating == ["dynamodb:UpdateItem"]
    replicate(WEST)
    refused = failover(config, "force-fail", "--region", WEST)
    assert refused.exit_code == 2 and refused.mutating == []
    assert "--allow-total-outage" in refused.stderr

    restored = failover(config, "force-fail", "--region", EAST, "--restore")
    assert restored.exit_code == 0, restored.stderr
    assert f"{EAST} in service in the switch" in restored.stdout
    assert forced_out_in(WEST) == set()  # the replica of the other region, the one written


def test_restore_without_a_region_restores_whatever_is_forced(
    deployed: None, tmp_path: Path
) -> None:
    config = _config_file(tmp_path)
    with context() as (ctx, _):
        force_fail(ctx, WEST)
    run = failover(config, "force-fail", "--restore", "--json")
    assert run.exit_code == 0, run.stderr
    restored = json.loads(run.stdout)["restored"]
    assert [r["region"] for r in restored] == [WEST]
    assert not force_failed(WEST) and not force_failed(EAST)

    again = failover(config, "force-fail", "--restore")
    assert again.exit_code == 0 and "has no region of stack" in again.stderr
    assert again.mutating == []
    refused = failover(config, "force-fail")
    assert refused.exit_code == 2 and "--region" in refused.stderr


def test_a_restore_is_written_when_a_replica_did_not_answer_the_read(three: None) -> None:
    """us-east-1 forced out in eu-west-1's replica only (us-west-2's missed it while its
    region was out); us-west-2 answers the read, eu-west-1 does not in time: the restore
    is not judged done from us-west-2 alone, it is written, and eu-west-1 takes it."""
    from failover_cli.ops import force_fail as module

    boto3.client("dynamodb", EU).update_item(
        TableName=THREE.table.name,
        Key={"HelloKey": {"S": "failover:switch"}},
        UpdateExpression="SET forced_out.#r = :e",
        ExpressionAttributeNames={"#r": EAST},
        ExpressionAttributeValues={":e": {"M": {"by": {"S": "x"}, "at": {"S": "t"}}}},
    )
    real = module.read_switch

    def eu_late(ctx: Any, asked: Any, **kwargs: Any) -> Any:
        seen = real(ctx, asked, **kwargs)
        return {**seen, EU: None}  # no answer within the grace

    module.read_switch = eu_late  # type: ignore[assignment]
    try:
        with context(THREE) as (ctx, _):
            restored = force_fail(ctx, EAST, restore=True)
    finally:
        module.read_switch = real
    assert restored.changed and restored.written_in == EU
    assert EAST not in forced_out_in(EU)
