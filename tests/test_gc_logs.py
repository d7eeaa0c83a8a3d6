"""`failover gc-logs` against moto in-process: exactly the empty, old-enough streams go.

Old streams are made old by moving their creationTime back in moto's backend (moto
stamps every stream with "now"); `--min-age 0s` and a large `--min-age` cover the
rest. Both regions, pagination (more than one page of streams), dry runs, another
log group, an untagged look-alike group and throttled calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.botocore_stubber import MockRawResponse
from moto.core.utils import utcnow

from failover_cli.aws.clients import ClientFactory
from failover_cli.cli.state import AppState
from failover_cli.ops.gc_logs import Verdict, classify
from tests.e2e_helpers import Run, failover, unique_stack, write_config

EAST, WEST = "us-east-1", "us-west-2"
OWNED = {"failover:stack": "", "failover:managed-by": "failover"}  # stack filled in per test
OLD_COUNT = 6
BUSY_COUNT = 50  # streams with events that push the listing past one page (50)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _group(region: str, name: str, tags: dict[str, str] | None) -> None:
    logs = boto3.client("logs", region)
    if tags:
        logs.create_log_group(logGroupName=name, tags=tags)
    else:
        logs.create_log_group(logGroupName=name)


def _stream(region: str, group: str, name: str, *, events: bool = False, age_h: float = 0) -> None:
    logs = boto3.client("logs", region)
    logs.create_log_stream(logGroupName=group, logStreamName=name)
    if events:
        logs.put_log_events(
            logGroupName=group,
            logStreamName=name,
            logEvents=[{"timestamp": int(utcnow().timestamp() * 1000), "message": "START"}],
        )
    if age_h:  # moto stamps creationTime with "now": move it back
        from moto.logs.models import logs_backends

        stream = logs_backends[DEFAULT_ACCOUNT_ID][region].groups[group].streams[name]
        stream.creation_time = utcnow() - timedelta(hours=age_h)


def _streams(region: str, group: str) -> set[str]:
    pages = (
        boto3.client("logs", region)
        .get_paginator("describe_log_streams")
        .paginate(logGroupName=group)
    )
    return {s["logStreamName"] for p in pages for s in p["logStreams"]}


def _stack(tmp_path: Path) -> tuple[Path, str, dict[str, set[str]]]:
    """A stack whose groups hold, per region: old empty streams, a young empty one, streams
    with events (old and young); plus another group beside it. Returns the expected deletions."""
    stack = unique_stack("gc")
    config = write_config(tmp_path, stack)
    group = f"/aws/lambda/{stack}-fn"
    doomed: dict[str, set[str]] = {}
    for region in (EAST, WEST):
        _group(region, group, {**OWNED, "failover:stack": stack})
        count = OLD_COUNT if region == EAST else 2
        doomed[region] = {f"2024/01/01/[$LATEST]old{i:03d}" for i in range(count)}
        for name in doomed[region]:
            _stream(region, group, name, age_h=3)
        _stream(region, group, "young-empty")
        _stream(region, group, "old-with-events", events=True, age_h=3)
        _stream(region, group, "young-with-events", events=True)
        if region == EAST:  # a listing of more than one page, with doomed streams on each
            for i in range(BUSY_COUNT):
                _stream(region, group, f"2024/01/01/[$LATEST]busy{i:03d}", events=True, age_h=3)
        # Another group, even one tagged for the stack, is never looked into.
        _group(region, f"{group}-other", {**OWNED, "failover:stack": stack})
        _stream(region, f"{group}-other", "old-empty", age_h=3)
    return config, group, doomed


def _json(run: Run) -> dict[str, Any]:
    assert run.exit_code == 0, run.stderr
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def test_classify_uses_event_fields_and_creation_time_never_stored_bytes() -> None:
    cutoff = 1_000
    assert classify({"creationTime": 999, "storedBytes": 0}, cutoff) is Verdict.DELETE
    assert classify({"creationTime": 1_000}, cutoff) is Verdict.DELETE
    assert classify({"creationTime": 1_001}, cutoff) is Verdict.YOUNG
    assert classify({}, cutoff) is Verdict.YOUNG  # no creation time: not provably old
    for field in ("firstEventTimestamp", "lastEventTimestamp", "lastIngestionTime"):
        assert classify({"creationTime": 1, field: 5}, cutoff) is Verdict.EVENTS
    # storedBytes is always 0 on AWS: it decides nothing either way
    assert classify({"creationTime": 1, "storedBytes": 10}, cutoff) is Verdict.DELETE


def test_deletes_exactly_the_empty_old_streams_of_the_stack_groups(
    aws: None, tmp_path: Path
) -> None:
    config, group, doomed = _stack(tmp_path)
    kept = {"young-empty", "old-with-events", "young-with-events"}
    busy = {f"2024/01/01/[$LATEST]busy{i:03d}" for i in range(BUSY_COUNT)}

    preview = _json(failover(config, "gc-logs", "--dry-run", "--json"))
    assert preview["dry_run"] is True and preview["min_age_seconds"] == 3600
    for region in (EAST, WEST):
        extra = busy if region == EAST else set()
        assert _streams(region, group) == doomed[region] | kept | extra  # nothing deleted
    by_region = {r["region"]: r for r in preview["regions"]}
    assert set(by_region[EAST]["streams"]["deleted"]) == doomed[EAST]

    run = failover(config, "gc-logs", "--json")
    report = _json(run)
    by_region = {r["region"]: r for r in report["regions"]}
    for region in (EAST, WEST):
        entry = by_region[region]
        assert entry["log_group"] == group and entry["skipped"] is None
        assert set(entry["streams"]["deleted"]) == doomed[region]
        assert entry["streams"]["kept_young"] == ["young-empty"]
        extra = busy if region == EAST else set()
        assert set(entry["streams"]["kept_with_events"]) == kept - {"young-empty"} | extra
        assert _streams(region, group) == kept | extra
        assert _streams(region, f"{group}-other") == {"old-empty"}
    assert report["total"] == {
        "deleted": OLD_COUNT + 2,
        "kept_young": 2,
        "kept_with_events": 4 + BUSY_COUNT,
    }
    deletes = [c for c in run.calls if c["op"] == "DeleteLogStream"]
    assert len(deletes) == OLD_COUNT + 2

    again = _json(failover(config, "gc-logs", "--json"))
    assert again["total"]["deleted"] == 0


def test_min_age_zero_takes_young_empty_streams_and_a_large_one_keeps_all(
    aws: None, tmp_path: Path
) -> None:
    config, group, doomed = _stack(tmp_path)
    patient = _json(failover(config, "gc-logs", "--min-age", "2d", "--json"))
    assert patient["total"]["deleted"] == 0
    assert patient["total"]["kept_young"] == OLD_COUNT + 2 + 2
    assert _streams(EAST, group) >= doomed[EAST]

    eager = _json(failover(config, "gc-logs", "--min-age", "0s", "--json"))
    assert eager["total"]["deleted"] == OLD_COUNT + 2 + 2  # the young empty ones too
    for region in (EAST, WEST):
        with_events = {s for s in _streams(region, group) if "busy" not in s}
        assert with_events == {"old-with-events", "young-with-events"}


def test_human_output_counts_per_region_and_total(aws: None, tmp_path: Path) -> None:
    config, _group_name, _ = _stack(tmp_path)
    dry = failover(config, "gc-logs", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "would delete" in dry.stdout and "Dry run: nothing was deleted" in dry.stdout
    assert "old000" in dry.stdout  # a dry run lists the streams
    run = failover(config, "gc-logs")
    assert run.exit_code == 0, run.stderr
    rows = [line.replace("│", " ").split() for line in run.stdout.splitlines()]
    east = next(row for row in rows if row and row[0] == EAST)
    assert east[-3:] == [str(OLD_COUNT), "1", str(2 + BUSY_COUNT)]
    total = next(row for row in rows if row and row[0] == "total")
    assert total[-3:] == [str(OLD_COUNT + 2), "2", str(4 + BUSY_COUNT)]


def test_untagged_look_alike_group_is_skipped_and_said(aws: None, tmp_path: Path) -> None:
    stack = unique_stack("gc")
    config = write_config(tmp_path, stack)
    group = f"/aws/lambda/{stack}-fn"
    _group(EAST, group, {**OWNED, "failover:stack": stack})
    _stream(EAST, group, "old-empty", age_h=3)
    _group(WEST, group, None)  # same name, not the stack's
    _stream(WEST, group, "old-empty", age_h=3)
    _group(WEST, f"{group}x", {**OWNED, "failover:stack": stack})  # prefix look-alike

    report = _json(failover(config, "gc-logs", "--json"))
    by_region = {r["region"]: r for r in report["regions"]}
    assert by_region[EAST]["deleted"] == 1
    assert "not this stack's" in by_region[WEST]["skipped"] and by_region[WEST]["deleted"] == 0
    assert _streams(WEST, group) == {"old-empty"}

    human = failover(config, "gc-logs")
    assert human.exit_code == 0 and "skipped: not this stack's" in human.stdout


def test_no_log_group_is_reported_not_an_error(aws: None, tmp_path: Path) -> None:
    config = write_config(tmp_path, unique_stack("gc"))
    report = _json(failover(config, "gc-logs", "--json"))
    assert [r["skipped"] for r in report["regions"]] == ["no such log group"] * 2


def _throttle(monkeypatch: pytest.MonkeyPatch, operation: str, times: int) -> list[str]:
    """The first `times` calls of `operation` (per region) answer ThrottlingException, before
    moto sees them: botocore's retries must carry the command through."""
    original = AppState.clients
    seen: list[str] = []

    def clients(self: AppState) -> ClientFactory:
        factory = original(self)
        for region in (EAST, WEST):
            left = {"n": times}

            def throttled(request: Any, left: dict[str, int] = left, **_: Any) -> Any:
                if left["n"] <= 0:
                    return None
                left["n"] -= 1
                seen.append(operation)
                from botocore.awsrequest import AWSResponse

                body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
                return AWSResponse(request.url, 400, {}, MockRawResponse(body.encode()))

            factory.client("logs", region).meta.events.register_first(
                f"before-send.cloudwatch-logs.{operation}", throttled
            )
        return factory

    monkeypatch.setattr(AppState, "clients", clients)
    return seen


@pytest.mark.parametrize("operation", ["DescribeLogStreams", "DeleteLogStream"])
def test_throttled_calls_are_retried(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    config, group, _ = _stack(tmp_path)
    throttled = _throttle(monkeypatch, operation, times=1)
    report = _json(failover(config, "gc-logs", "--json"))
    assert throttled == [operation] * 2  # one per region really answered "throttled"
    assert report["total"]["deleted"] == OLD_COUNT + 2
    for region in (EAST, WEST):
        left = {s for s in _streams(region, group) if "busy" not in s}
        assert left == {"young-empty", "old-with-events", "young-with-events"}
