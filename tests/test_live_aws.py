"""The whole life cycle against a real AWS account: opt-in, never part of the normal run.

    FAILOVER_TEST_PROFILE=sandbox-account python -m pytest -m aws -s
    FAILOVER_TEST_ZONE=test.example.com ...      # also a custom domain in that hosted zone
    FAILOVER_TEST_REGIONS=eu-west-1,eu-central-1 # default us-east-1,us-west-2

Skipped with the reason unless both `-m aws` is given and FAILOVER_TEST_PROFILE names a
profile (tests/conftest.py). The stack gets a random name; `down` runs in a finalizer
whatever happened, and a last re-scan (`plan` after `down`: every resource must be
back to "create") fails the test if anything the stack owned remains.

Every command runs as its own `failover` process with the starting environment (the
profile), not the suite's fake credentials and loopback endpoints. See the README
("Testing against a real account") for what it costs and how long it takes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LIVE_PROFILE, STARTING_ENVIRON
from tests.engine_helpers import is_mutating

pytestmark = [pytest.mark.aws, pytest.mark.timeout(3 * 3600)]
MINUTES = 60
# Whatever points a process at something other than the account, or overrides the profile.
_NOT_LIVE = ("AWS_ENDPOINT_URL", "FAILOVER_", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@dataclass(frozen=True)
class Live:
    config: Path
    stack: str
    regions: tuple[str, ...]
    domain: str | None
    env: dict[str, str]

    def run(self, *args: str, minutes: float = 10, env: dict[str, str] | None = None) -> Any:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "failover_cli", "--config", str(self.config), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=minutes * MINUTES,
        )
        print(
            f"failover {' '.join(args)}: exit {done.returncode}, {time.monotonic() - started:.0f}s"
        )
        return done


def _live_environment() -> dict[str, str]:
    env = {
        name: value
        for name, value in STARTING_ENVIRON.items()
        if not name.startswith(_NOT_LIVE) and name != "AWS_SESSION_TOKEN"
    }
    env["AWS_PROFILE"] = STARTING_ENVIRON[LIVE_PROFILE]
    return env


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    regions = tuple(STARTING_ENVIRON.get("FAILOVER_TEST_REGIONS", "us-east-1,us-west-2").split(","))
    zone = STARTING_ENVIRON.get("FAILOVER_TEST_ZONE")
    stack = f"fo-live-{uuid.uuid4().hex[:6]}"
    domain = f"{stack}.{zone}" if zone else None
    folder = tmp_path_factory.mktemp("live")
    config = folder / "failover.yaml"
    text = f"stack: {stack}\nregions: [{', '.join(regions)}]\n"
    if domain:
        text += f"domain:\n  name: {domain}\n  hosted_zone: {zone}\n  routing: failover\n"
    config.write_text(text, encoding="utf-8")
    here = Live(config, stack, regions, domain, _live_environment())
    planned = here.run("--json", "plan", "--detailed-exitcode")
    assert planned.returncode == 3, planned.stderr  # a new stack: everything to create
    before = _to_create(json.loads(planned.stdout))
    try:
        yield here
    finally:
        _down_and_rescan(here, before)


def _to_create(plan: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(c["kind"], c["region"], c["name"]) for c in plan["changes"] if c["action"] == "create"}


def _down_and_rescan(live: Live, created: set[tuple[str, str, str]]) -> None:
    down = live.run("down", "--yes", minutes=45)
    if down.returncode != 0:  # e.g. a certificate API Gateway still holds: once more
        time.sleep(2 * MINUTES)
        down = live.run("down", "--yes", minutes=45)
    assert down.returncode == 0, down.stderr
    rescan = live.run("--json", "plan")
    plan = json.loads(rescan.stdout)
    left = [c for c in plan["changes"] if c["action"] != "create"]
    assert not left, f"owned resources remain after down: {left}"
    assert _to_create(plan) == created


def test_the_whole_life_cycle(live: Live, tmp_path: Path) -> None:
    assert live.run("validate").returncode == 0
    up = live.run("up", minutes=45)
    assert up.returncode == 0, up.stderr

    calls = tmp_path / "calls.jsonl"
    again = live.run("up", env={"FAILOVER_CALL_LOG": str(calls)}, minutes=15)
    assert again.returncode == 0, again.stderr
    operations = [json.loads(line)["op"] for line in calls.read_text().splitlines()]
    assert operations and not [op for op in operations if is_mutating(op)]

    deadline = time.monotonic() + 15 * MINUTES  # health checks need a few intervals
    while True:
        status = live.run("--json", "status")
        if status.returncode == 0:
            break
        assert time.monotonic() < deadline, f"never healthy: {status.stdout[-2000:]}"
        time.sleep(30)
    seen = json.loads(status.stdout)
    assert [r["region"] for r in seen["regions"]] == list(live.regions)
    if live.domain:
        assert seen["serving_region"] == live.regions[0]

    drill = live.run("--json", "drill", "--region", live.regions[0], "--timeout", "15m", minutes=40)
    assert drill.returncode == 0, drill.stderr
    record = json.loads(drill.stdout)
    assert record["restored"] is True

    assert live.run("gc-logs", "--min-age", "0s").returncode == 0
    rotated = live.run("rotate-secret", minutes=30)
    assert rotated.returncode == 0, rotated.stderr

    logs = live.run("--json", "logs", "--since", "2h")
    assert logs.returncode == 0, logs.stderr
    assert {json.loads(line)["region"] for line in logs.stdout.splitlines()} == set(live.regions)
