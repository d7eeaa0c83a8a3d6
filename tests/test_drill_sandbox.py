"""`failover drill` end to end against a time-scaled sandbox, with a custom domain.

Failover routing with the first region as PRIMARY, health checks and switch readers every 10 s
with a threshold of 1, and the sandbox running 20 times faster: Route 53 should
notice in about interval x threshold / time scale = 0.5 s of real time. The test
checks what a drill must report — every phase reached, in causal order, the region
back in the switch afterwards — and prints the timings next to that figure; it asserts no
duration (a loaded machine must not fail it).

Causal order uses each phase's bounds: the change happened after the last reading
that missed it (`last_miss_seconds`) and before the first that saw it (`seconds`).
"A before B" is contradicted only when B was seen before A's last miss.

Needs the sandbox's running functions, health checkers, TestDNSAnswer and
custom-domain routing.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import SandboxProcess
from tests.e2e_helpers import Run, client, failover, write_config
from tests.sandbox_api_helpers import eventually
from tests.test_status_helpers import function_env, poll_status, secret_of, use_sandbox

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"
TIME_SCALE = 20
INTERVAL, THRESHOLD = 10, 1


def _serving_primary(run: Run, data: dict[str, Any]) -> bool:
    return run.exit_code == 0 and data["serving_region"] == EAST


def _assert_causal(phases: list[dict[str, Any]]) -> None:
    for phase in phases:
        assert phase["reached"] and phase["skipped"] is None, phase
    for earlier, later in itertools.pairwise(phases):
        assert (earlier["last_miss_seconds"] or 0.0) <= later["seconds"], (earlier, later)


def test_drill_reports_each_phase_and_restores(
    launch_sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = f"dr{uuid.uuid4().hex[:8]}"
    zone, domain = f"{name}.test", f"app.{name}.test"
    sandbox: SandboxProcess = launch_sandbox("--time-scale", str(TIME_SCALE))
    endpoint = use_sandbox(monkeypatch, sandbox, domain)
    # What `failover sandbox` prints to export: the drill then reports emulated seconds.
    exported = re.search(r"FAILOVER_TIME_SCALE=(\S+)", sandbox.stdout_path.read_text())
    assert exported and float(exported.group(1)) == TIME_SCALE
    monkeypatch.setenv("FAILOVER_TIME_SCALE", exported.group(1))
    boto3.client("route53", EAST).create_hosted_zone(Name=zone, CallerReference=uuid.uuid4().hex)
    config = write_config(
        tmp_path,
        name,
        f"domain:\n  name: {domain}\n  hosted_zone: {zone}\n  routing: failover\n"
        f"health_check:\n  interval_s: {INTERVAL}\n  failure_threshold: {THRESHOLD}\n"
        f"switch:\n  interval_s: {INTERVAL}\n  failure_threshold: {THRESHOLD}\n",
    )
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    fn = f"{name}-fn"
    try:
        secret = secret_of(endpoint, EAST, fn)
        poll_status(config, _serving_primary, timeout=90, what="the primary serving, all healthy")

        run = failover(config, "drill", "--region", EAST, "--json", "--timeout", "2m")
        assert run.exit_code == 0, run.stderr
        record = json.loads(run.stdout)
        assert record["region"] == EAST and record["restored"] is True
        assert record["domain"] == domain and record["routing"] == "failover"
        assert record["health_check"]["interval_s"] == INTERVAL
        assert record["health_check"]["failure_threshold"] == THRESHOLD
        failover_phases = record["failover"]["phases"]
        failback_phases = record["failback"]["phases"]
        assert [p["name"] for p in failover_phases] == [
            "health_unhealthy",
            "dns_moved",
            "request_moved",
        ]
        assert [p["name"] for p in failback_phases] == [
            "health_healthy",
            "dns_back",
            "request_back",
        ]
        _assert_causal(failover_phases)
        _assert_causal(failback_phases)
        # On an accelerated clock every figure is also given in emulated seconds.
        assert record["time_scale"] == TIME_SCALE
        for phase in failover_phases + failback_phases:
            assert phase["emulated_seconds"] == round(phase["seconds"] * TIME_SCALE, 1), phase
        assert "Restored" in run.stderr
        assert secret not in run.stdout + run.stderr
        assert _forced_out(endpoint, name) == set()
        assert function_env(endpoint, EAST, fn).get("FORCE_FAIL", "false") == "false"
        expected = INTERVAL * THRESHOLD / TIME_SCALE
        print(f"expected detection ~{expected:.2f}s (interval x threshold / time scale)")
        for half in ("failover", "failback"):
            print(half, [(p["name"], p["seconds"]) for p in record[half]["phases"]])

        # `logs --platform` after the drill: both regions' events (the checkers called both,
        # and Lambda's own START/END/REPORT lines say so), merged by time, secret masked.
        logs = failover(config, "logs", "--since", "5m", "--json", "--platform")
        assert logs.exit_code == 0, logs.stderr
        events = [json.loads(line) for line in logs.stdout.splitlines()]
        assert {e["region"] for e in events} == {EAST, WEST}
        assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
        assert any(e["message"].startswith("START RequestId:") for e in events)
        text = failover(config, "logs", "--since", "5m", "--region", WEST, "--platform")
        assert text.exit_code == 0 and WEST in text.stdout and EAST not in text.stdout
        assert secret not in logs.stdout + logs.stderr + text.stdout + text.stderr

        # A drill that runs out of time still restores, and says the phases it missed.
        poll_status(config, _serving_primary, timeout=90, what="the primary serving again")
        short = failover(config, "drill", "--region", EAST, "--timeout", "0.1s")
        assert short.exit_code == 1, short.stderr
        assert "not reached" in short.stdout
        assert "was put back in the switch" in " ".join(short.stderr.split())
        assert _forced_out(endpoint, name) == set()

        # force-fail --wait follows the same phases, each way.
        poll_status(config, _serving_primary, timeout=90, what="the primary serving again")
        failed = failover(config, "force-fail", "--region", EAST, "--wait", "--json")
        assert failed.exit_code == 0, failed.stderr
        waited = json.loads(failed.stdout)
        assert waited["action"] == "fail" and waited["changed"] is True
        _assert_causal(waited["phases"])
        back = failover(config, "force-fail", "--region", EAST, "--restore", "--wait")
        assert back.exit_code == 0, back.stderr
        assert "request answered by us-east-1" in back.stdout and "not reached" not in back.stdout
        assert secret not in failed.stdout + failed.stderr + back.stdout + back.stderr

        # The secondary is not the last healthy region while the primary is fine, but
        # the primary is once the secondary is failed: refused, exit 2, nothing changed.
        assert failover(config, "force-fail", "--region", WEST).exit_code == 0
        eventually(lambda: _forced_out(endpoint, name, WEST) == {WEST}, "replication")
        refused = failover(config, "drill", "--region", EAST)
        assert refused.exit_code == 2 and refused.mutating == []
        assert "last healthy region" in refused.stderr
        assert failover(config, "force-fail", "--region", WEST, "--restore").exit_code == 0
    finally:
        _down(config)


def _forced_out(endpoint: str, stack: str, replica: str = WEST) -> set[str]:
    item = client("dynamodb", replica, endpoint).get_item(
        TableName=f"{stack}.Hello", Key={"HelloKey": {"S": "failover:switch"}}, ConsistentRead=True
    )["Item"]
    return set(item["forced_out"]["M"])


def _down(config: Path) -> None:
    down = failover(config, "down", "--yes")
    assert down.exit_code == 0, down.stderr
