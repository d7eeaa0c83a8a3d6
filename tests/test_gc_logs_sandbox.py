"""`failover gc-logs` on a deployed stack in the session sandbox, whose functions really log.

The health checkers and a few requests make the functions write their own streams
(with events); empty streams are added by hand. The default --min-age keeps the
fresh empty ones, a dry run deletes nothing, and --min-age 0s deletes exactly the
empty ones — never a stream the functions wrote to, never another group's — also
when a first sweep is cut by an error after its first deletion.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from failover_cli.net.http import HttpClient
from tests.e2e_helpers import Run, client, failover, unique_stack, write_config
from tests.faults import INJECTED_CODE, Fault, Rule, Step
from tests.step_faults import interrupted
from tests.test_status_helpers import secret_of

pytestmark = pytest.mark.sandbox
REGIONS = ("us-east-1", "us-west-2")
EMPTY = ("empty-a", "empty-b")


def _json(run: Run) -> dict[str, Any]:
    assert run.exit_code == 0, run.stderr
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def _streams(endpoint: str, region: str, group: str) -> dict[str, dict[str, Any]]:
    pages = (
        client("logs", region, endpoint)
        .get_paginator("describe_log_streams")
        .paginate(logGroupName=group)
    )
    return {s["logStreamName"]: s for p in pages for s in p["logStreams"]}


def _hello(endpoint: str, region: str, stack: str, secret: str) -> None:
    apis = client("apigateway", region, endpoint).get_rest_apis()["items"]
    api = next(a["id"] for a in apis if a["name"] == stack)
    url = f"https://{api}.execute-api.{region}.amazonaws.com/prod/hello?healthCheckerId={secret}"
    assert HttpClient().get(url).status == 200


def test_gc_logs_keeps_what_the_functions_wrote(sandbox_env: str, tmp_path: Path) -> None:
    stack = unique_stack("gcs")
    config = write_config(tmp_path, stack)
    group = f"/aws/lambda/{stack}-fn"
    assert failover(config, "up").exit_code == 0
    try:
        secret = secret_of(sandbox_env, "us-east-1", f"{stack}-fn")
        for region in REGIONS:
            _hello(sandbox_env, region, stack, secret)  # the function writes its own stream
            logs = client("logs", region, sandbox_env)
            for name in EMPTY:
                logs.create_log_stream(logGroupName=group, logStreamName=name)
            logs.create_log_group(logGroupName=f"{group}-other")
            logs.create_log_stream(logGroupName=f"{group}-other", logStreamName="empty")

        patient = _json(failover(config, "gc-logs", "--json"))
        for entry in patient["regions"]:
            assert entry["deleted"] == 0 and set(EMPTY) <= set(entry["streams"]["kept_young"])
            assert entry["kept_with_events"] >= 1

        dry = _json(failover(config, "gc-logs", "--dry-run", "--min-age", "0s", "--json"))
        for entry in dry["regions"]:
            assert set(EMPTY) <= set(entry["streams"]["deleted"])
        for region in REGIONS:
            assert set(EMPTY) <= set(_streams(sandbox_env, region, group))

        # Cut once: the answer to the first deletion is lost (it took effect). The run
        # fails naming it and deletes nothing that has events; the re-run sweeps the rest.
        written = {
            region: {
                n
                for n, s in _streams(sandbox_env, region, group).items()
                if s.get("lastEventTimestamp")
            }
            for region in REGIONS
        }
        assert all(written.values()), written
        lost = Rule.at_step(Step("logs", REGIONS[0], "DeleteLogStream", 1), Fault.FAIL, after=True)
        cut, injector = interrupted(config, ("gc-logs", "--min-age", "0s"), lost)
        assert injector.total() == 1 and cut.exit_code == 1, cut.stderr
        assert INJECTED_CODE in cut.stderr and "Traceback" not in cut.stderr
        for region in REGIONS:
            assert written[region] <= set(_streams(sandbox_env, region, group)), region
            assert set(_streams(sandbox_env, region, f"{group}-other")) == {"empty"}

        run = failover(config, "gc-logs", "--min-age", "0s", "--json")
        swept = _json(run)
        assert secret not in run.stdout + run.stderr
        for entry in swept["regions"]:
            region = entry["region"]
            left = _streams(sandbox_env, region, group)
            assert not set(EMPTY) & set(left)
            # Every stream left has events; every deleted one was empty when listed.
            assert all(s.get("lastEventTimestamp") for s in left.values())
            assert set(entry["streams"]["kept_with_events"]) <= set(left)
            assert set(_streams(sandbox_env, region, f"{group}-other")) == {"empty"}
    finally:
        for region in REGIONS:
            logs = client("logs", region, sandbox_env)
            with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
                logs.delete_log_group(logGroupName=f"{group}-other")
        assert failover(config, "down", "--yes").exit_code == 0
