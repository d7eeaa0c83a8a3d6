"""Writing the switch through the replicas of the other regions, and reading it from all.

moto has no replication: one table of the same name per region stands for the replicas,
which is what makes "written in the first replica that answered" visible.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.errors import FailoverError
from failover_cli.services.switch_replicas import (
    SwitchRefused,
    read_switch,
    stamp,
    write_forced_out,
)
from tests.engine_helpers import context, make_config

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
CONFIG = make_config(regions=(EAST, WEST, EU))
KEY = {"HelloKey": {"S": "failover:switch"}}


@pytest.fixture
def replicas() -> Iterator[None]:
    with mock_aws():
        for region in (EAST, WEST, EU):
            dynamo = boto3.client("dynamodb", region)
            dynamo.create_table(
                TableName=CONFIG.table.name,
                KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            # As `up` seeds it (replication carries it everywhere).
            dynamo.put_item(
                TableName=CONFIG.table.name,
                Item={**KEY, "forced_out": {"M": {}}, "revision": {"N": "0"}},
            )
        yield


def _item(region: str) -> dict[str, Any]:
    found: dict[str, Any] = boto3.client("dynamodb", region).get_item(
        TableName=CONFIG.table.name, Key=KEY
    )["Item"]
    return found


def test_forcing_out_writes_another_regions_replica_and_never_calls_that_region(
    replicas: None,
) -> None:
    with context(CONFIG) as (ctx, recorder):
        written = write_forced_out(ctx, EAST, True, by="alice", why="drill")
        calls = list(recorder.calls)
    assert written.written_in in (WEST, EU) and written.changed
    assert not any(c[1] == EAST for c in calls), calls  # no call answered in us-east-1
    entry = _item(written.written_in)["forced_out"]["M"][EAST]["M"]
    assert set(entry) == {"at", "by", "why"} and entry["by"] == {"S": "alice"}
    assert EAST not in _item(EAST)["forced_out"]["M"]  # no replication in moto, no write there
    with context(CONFIG) as (ctx, _):
        seen = read_switch(ctx)
    found = seen[written.written_in]
    assert found is not None and found.forced_out == {EAST} and found.revision == 1


def test_restoring_removes_the_entry_and_a_repeat_changes_nothing(replicas: None) -> None:
    with context(CONFIG) as (ctx, _):
        for region in (WEST, EU):  # replicated everywhere but the region forced out
            boto3.client("dynamodb", region).update_item(
                TableName=CONFIG.table.name,
                Key=KEY,
                UpdateExpression="SET forced_out.#r = :e",
                ExpressionAttributeNames={"#r": EAST},
                ExpressionAttributeValues={":e": {"M": {"by": {"S": "x"}}}},
            )
        restored = write_forced_out(ctx, EAST, False, by="alice", why="done")
        assert restored.changed and EAST not in _item(restored.written_in)["forced_out"]["M"]
        assert int(_item(restored.written_in)["revision"]["N"]) == 1


def test_no_replica_answering_is_an_error_that_says_nothing_was_written(replicas: None) -> None:
    with context(CONFIG) as (ctx, _):

        def refuse(_s: str, region: str, operation: str, _p: dict[str, Any]) -> None:
            if operation == "UpdateItem":
                raise ConnectionError(f"{region} is down")

        ctx.clients.add_hook(refuse)
        with pytest.raises(FailoverError) as raised:
            write_forced_out(ctx, WEST, True, by="alice", why="drill", timeout=5)
    text = raised.value.render()
    assert "No table replica of another region took the switch write" in text
    assert "us-east-1" in text and "eu-west-1" in text and "us-west-2 " not in text
    assert all(not _item(r)["forced_out"]["M"] for r in (EAST, WEST, EU))


def test_a_write_late_to_a_replica_it_could_not_read_never_lands_over_a_newer_one(
    replicas: None,
) -> None:
    """A replica that did not answer the read (its region hung) has no revision to hold the
    write to, and botocore resends a hung write once the region answers again: after a
    restore written meanwhile, that resend must be refused there, not force the region out
    again (it then replicates everywhere and the region never comes back)."""
    forced_at = stamp()
    restored_at = stamp()
    boto3.client("dynamodb", WEST).update_item(  # the restore, written after the stamp
        TableName=CONFIG.table.name,
        Key=KEY,
        UpdateExpression="SET updated_at = :t, revision = :r",
        ExpressionAttributeValues={":t": {"S": restored_at}, ":r": {"N": "2"}},
    )
    with context(CONFIG) as (ctx, _):

        def eu_fails(_s: str, region: str, operation: str, _p: dict[str, Any]) -> None:
            if operation == "UpdateItem" and region == EU:
                raise ConnectionError(f"{region} is down")

        ctx.clients.add_hook(eu_fails)
        with pytest.raises(SwitchRefused) as refused:  # us-west-2 was not read: no revision
            write_forced_out(
                ctx, EAST, True, by="alice", why="drill", revisions={EU: 1}, at=forced_at
            )
        assert refused.value.refused == [WEST]
        assert EAST not in _item(WEST)["forced_out"]["M"]
        # A write newer than what the replica holds still lands there.
        written = write_forced_out(ctx, EAST, True, by="alice", why="drill", revisions={EU: 1})
    assert written.written_in == WEST and EAST in _item(WEST)["forced_out"]["M"]


def test_a_ctrl_c_while_the_writes_start_returns_only_once_the_write_sent_has_landed(
    replicas: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C can land while the write threads are still starting, before the wait for
    their answers: the interrupt must still wait for what was sent, or a drill's restore
    reads the switch before its own write lands, finds nothing to restore, and the write
    then forces the region out for good."""
    sent = threading.Event()
    start = threading.Thread.start

    def interrupted_start(thread: threading.Thread) -> None:
        start(thread)
        if thread.name == "switch":
            assert sent.wait(30), "the write was never sent"
            raise KeyboardInterrupt("Ctrl-C while the switch writes start")

    def slow_write(_s: str, _region: str, operation: str, _p: dict[str, Any]) -> None:
        if operation == "UpdateItem":
            sent.set()
            time.sleep(0.5)  # the interrupt is raised before the write reaches the table

    monkeypatch.setattr(threading.Thread, "start", interrupted_start)
    with context(CONFIG) as (ctx, _):
        ctx.clients.add_hook(slow_write)
        with pytest.raises(KeyboardInterrupt):
            write_forced_out(ctx, EAST, True, by="alice", why="drill")
        written = _item(WEST)["forced_out"]["M"]  # the first write thread: us-west-2's
    assert EAST in written
