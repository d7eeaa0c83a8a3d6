"""`failover status` during a regional outage (faults injected between botocore and the sandbox).

One region's endpoints hang (accept, never answer), refuse connections, or answer
only 5xx: status still answers, marks that region `reachable: false` with an error
sentence, leaves what it could not read null, reports the other region in full and
exits 3. With us-east-1 out, Route 53, CloudWatch and SNS (which answer there) go
unread too, yet us-west-2, its function's own answers and the serving region are
still reported. The generous time bound only guards against a hang (botocore's
defaults took minutes); the real figure is in the benchmarks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e_helpers import Run, failover, unique_stack, write_config
from tests.faults import Fault, FaultInjector, Rule, shorten_botocore_backoff

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"
NO_HANG = 60.0  # seconds; botocore's defaults would hold one hung call for ten minutes
REGION_FACTS = ("table", "function", "api")  # read from the region's own endpoints


@pytest.fixture
def deployed(sandbox_env: str, tmp_path: Path) -> Iterator[Path]:
    config = write_config(tmp_path, unique_stack("outage"))
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    yield config
    assert failover(config, "down", "--yes").exit_code == 0


def _status(config: Path, monkeypatch: pytest.MonkeyPatch, rule: Rule, *args: str) -> Run:
    with monkeypatch.context() as patched:
        shorten_botocore_backoff(patched)  # 5xx and refusals retry quickly; hangs still wait
        FaultInjector([rule]).install(patched)
        started = time.monotonic()
        run = failover(config, "status", *args)
        assert time.monotonic() - started < NO_HANG
    assert "Traceback" not in run.stderr
    return run


def _regions(run: Run) -> dict[str, dict[str, Any]]:
    return {r["region"]: r for r in json.loads(run.stdout)["regions"]}


@pytest.mark.parametrize("fault", [Fault.HANG, Fault.UNREACHABLE, Fault.SERVER_ERROR])
def test_one_region_out_is_marked_unreachable_and_the_other_fully_reported(
    deployed: Path, monkeypatch: pytest.MonkeyPatch, fault: Fault
) -> None:
    run = _status(deployed, monkeypatch, Rule(fault, regions=(WEST,)), "--json")
    assert run.exit_code == 3, run.stderr
    regions = _regions(run)
    west, east = regions[WEST], regions[EAST]
    assert west["reachable"] is False and west["healthy"] is False
    assert west["error"] and west["problems"][0].startswith("unreachable")
    assert all(west[fact] is None for fact in REGION_FACTS)
    assert set(REGION_FACTS) <= set(west["unread"])
    assert west["switch"]["seen_by"][WEST] is None  # its own replica did not answer either
    # Route 53 and CloudWatch answer from us-east-1: us-west-2's check and alarm are known.
    assert west["health_check"]["id"] and west["alarm"]["state"]
    assert east["reachable"] is True and east["error"] is None and east["unread"] == []
    assert east["function"]["state"] == "Active" and east["table"]["status"] == "ACTIVE"
    assert east["force_fail"] is False and east["probe"]["shallow"]["ok"] is True


def test_the_table_says_unreachable_and_timeout_sets_the_wait(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _status(deployed, monkeypatch, Rule(Fault.HANG, regions=(WEST,)), "--timeout", "3s")
    assert run.exit_code == 3, run.stderr
    assert "unreachable (no answer in 3 s)" in run.stdout
    assert "not read" in run.stdout


def test_with_us_east_1_out_the_other_region_and_its_answers_are_still_reported(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _status(deployed, monkeypatch, Rule(Fault.HANG, regions=(EAST,)), "--json")
    assert run.exit_code == 3, run.stderr
    data = json.loads(run.stdout)
    regions = _regions(run)
    east, west = regions[EAST], regions[WEST]
    assert east["reachable"] is False
    assert west["reachable"] is True
    assert west["function"]["state"] == "Active" and west["api"]["id"]
    assert west["probe"]["shallow"]["ok"] is True  # the function's own answer
    # What lives behind us-east-1's endpoints is said to be unread, not guessed.
    assert west["health_check"] is None and west["alarm"] is None
    assert {"health_check", "alarm"} <= set(west["unread"])
    assert "alarm topic" in data["unread"]
    assert west["force_fail"] is False  # FORCE_FAIL and us-west-2's copy of the switch were read
    assert west["switch"]["seen_by"] == {EAST: None, WEST: False}
