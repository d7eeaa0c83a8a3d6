"""The issue's "Must show", through the sandbox's outage switch (`/_sandbox/outage`).

A time-scaled sandbox, a stack whose PRIMARY (failover routing) is us-west-2:
- us-west-2's endpoints hang: `--json status` exits 3 with us-west-2 unreachable
  and us-east-1 fully reported; `force-fail --region us-west-2` exits 0 through the
  health-check override and the DNS answer moves to us-east-1; `--restore` undoes it.
- us-east-1's endpoints hang: `status` still answers and reports us-west-2.
Each mode of the switch: status marks the region unreachable (or, for `dataplane`,
sees its failing probes) and never hangs. The time guards only catch a hang; the
figures are in the benchmarks (section "outage").
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import SandboxProcess
from tests.e2e_helpers import Run, failover
from tests.test_status_helpers import poll_status, use_sandbox

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"
TIME_SCALE = 20
NO_HANG = 60.0  # seconds; the budget is 15 s for status, 30 s for force-fail (benchmarks)
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _switch(endpoint: str, method: str, body: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{endpoint}/_sandbox/outage", data=data, method=method)
    with _OPENER.open(request, timeout=10) as answer:
        assert answer.status < 300


@pytest.fixture
def stack(
    launch_sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[Path, str]]:
    name = f"sw{uuid.uuid4().hex[:8]}"
    zone, domain = f"{name}.test", f"app.{name}.test"
    sandbox: SandboxProcess = launch_sandbox("--time-scale", str(TIME_SCALE))
    endpoint = use_sandbox(monkeypatch, sandbox, domain)
    boto3.client("route53", EAST).create_hosted_zone(Name=zone, CallerReference=uuid.uuid4().hex)
    config = tmp_path / "failover.yaml"
    config.write_text(
        f"stack: {name}\nregions: [{WEST}, {EAST}]\n"
        f"table: {{name: {name}.Hello}}\nfunction: {{name: {name}-fn}}\n"
        f"domain:\n  name: {domain}\n  hosted_zone: {zone}\n  routing: failover\n"
        "health_check:\n  interval_s: 10\n  failure_threshold: 1\n",
        encoding="utf-8",
    )
    assert failover(config, "up").exit_code == 0
    poll_status(config, _all_healthy, timeout=90, what="every region healthy")
    try:
        yield config, endpoint
    finally:
        _switch(endpoint, "DELETE")
        failover(config, "down", "--yes")


def _all_healthy(run: Run, data: dict[str, Any]) -> bool:
    return run.exit_code == 0 and data["serving_region"] == WEST


def _timed(config: Path, *args: str) -> Run:
    started = time.monotonic()
    run = failover(config, *args)
    seconds = time.monotonic() - started
    print(f"failover {' '.join(args)}: exit {run.exit_code} after {seconds:.1f}s")
    assert seconds < NO_HANG, run.stderr
    assert "Traceback" not in run.stderr
    return run


def _regions(run: Run) -> dict[str, dict[str, Any]]:
    return {r["region"]: r for r in json.loads(run.stdout)["regions"]}


def test_must_show_with_us_west_2_hanging(stack: tuple[Path, str]) -> None:
    config, endpoint = stack
    _switch(endpoint, "POST", {"region": WEST, "mode": "hang"})
    status = _timed(config, "--json", "status")
    assert status.exit_code == 3
    west, east = _regions(status)[WEST], _regions(status)[EAST]
    assert west["reachable"] is False and west["error"]
    assert east["reachable"] is True and east["unread"] == []
    assert east["function"]["state"] == "Active" and east["health_check"]["id"]

    failed = _timed(config, "force-fail", "--region", WEST, "--wait", "--json")
    assert failed.exit_code == 0, failed.stderr
    record = json.loads(failed.stdout)
    assert record["via"] == "switch" and record["written_in"] == EAST
    moved = {p["name"]: p for p in record["phases"]}["dns_moved"]
    assert moved["reached"], record

    restored = _timed(config, "force-fail", "--region", WEST, "--restore")
    assert restored.exit_code == 0, restored.stderr
    _switch(endpoint, "DELETE")
    poll_status(config, _all_healthy, timeout=90, what="us-west-2 serving again")


def test_must_show_with_us_east_1_hanging(stack: tuple[Path, str]) -> None:
    config, endpoint = stack
    _switch(endpoint, "POST", {"region": EAST, "mode": "hang"})
    status = _timed(config, "--json", "status")
    assert status.exit_code == 3
    west = _regions(status)[WEST]
    assert west["reachable"] is True and west["function"]["state"] == "Active"
    assert west["probe"]["shallow"]["ok"] is True


@pytest.mark.parametrize("mode", ["refuse", "5xx"])
def test_status_marks_the_region_in_each_api_outage_mode(
    stack: tuple[Path, str], mode: str
) -> None:
    config, endpoint = stack
    _switch(endpoint, "POST", {"region": WEST, "mode": mode})
    status = _timed(config, "--json", "status")
    assert status.exit_code == 3
    assert _regions(status)[WEST]["reachable"] is False
    assert _regions(status)[EAST]["reachable"] is True


def test_a_dataplane_outage_moves_dns_away_with_no_operator_action_and_back_after(
    stack: tuple[Path, str],
) -> None:
    """The region's APIs answer but its app traffic does not: Route 53's checkers fail, the
    DNS answer moves to us-east-1 by itself, and comes back once the outage ends."""
    config, endpoint = stack
    _switch(endpoint, "POST", {"region": WEST, "mode": "dataplane"})
    run, _ = poll_status(config, _east_serving, timeout=120, what="DNS moved to us-east-1")
    west = _regions(run)[WEST]
    assert west["reachable"] is True  # its control plane still answers status's reads
    assert west["healthy"] is False and west["probe"]["shallow"]["ok"] is False
    assert west["force_fail"] is False  # nobody forced anything: the outage did it
    assert run.exit_code != 0  # a region down is not a healthy stack
    _switch(endpoint, "DELETE", {"region": WEST})
    poll_status(config, _all_healthy, timeout=120, what="us-west-2 serving again")


def _east_serving(run: Run, data: dict[str, Any]) -> bool:
    return data["serving_region"] == EAST
