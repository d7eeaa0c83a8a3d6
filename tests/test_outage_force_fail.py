"""force-fail of a region whose endpoints do not answer: the health-check override.

With us-west-2's AWS endpoints hanging (faults injected between botocore and the
sandbox; the sandbox's own health checkers still reach the region, as Route 53's
do during a control-plane outage), `force-fail --region us-west-2` falls back to
the region's Route 53 health check: a search string no answer contains, never
`Inverted`. `status` shows which override is on, `up` keeps it and says so,
`--restore` puts the original search string back, and `--via` picks explicitly.
With a custom domain the DNS answer moves away within interval x threshold.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from failover_cli.services.health_check_override import MARKER, TAG
from tests.conftest import SandboxProcess
from tests.e2e_helpers import Run, client, failover, unique_stack, write_config
from tests.faults import Fault, FaultInjector, Rule
from tests.test_status_helpers import poll_status, use_sandbox

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"
SEARCH = "hello from"
NO_HANG = 120.0  # seconds: a guard against hanging, not a speed test (see the benchmarks)


def _check(endpoint: str, stack: str, region: str) -> tuple[dict[str, Any], dict[str, str]]:
    r53 = client("route53", EAST, endpoint)
    for check in r53.list_health_checks()["HealthChecks"]:
        tags = r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"])
        found = {t["Key"]: t["Value"] for t in tags["ResourceTagSet"]["Tags"]}
        if found.get("Name") == f"{stack}-{region}":
            return check["HealthCheckConfig"], found
    raise AssertionError(f"no health check for {stack} in {region}")


def _hanging(monkeypatch: pytest.MonkeyPatch, config: Path, region: str, *args: str) -> Run:
    with monkeypatch.context() as patched:
        FaultInjector([Rule(Fault.HANG, regions=(region,))]).install(patched)
        started = time.monotonic()
        run = failover(config, *args)
        assert time.monotonic() - started < NO_HANG, run.stderr
    assert "Traceback" not in run.stderr
    return run


@pytest.fixture
def deployed(sandbox_env: str, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    stack = unique_stack("ffo")
    config = write_config(tmp_path, stack)
    assert failover(config, "up").exit_code == 0
    yield config, stack
    assert failover(config, "down", "--yes").exit_code == 0


def test_force_fail_falls_back_to_the_health_check_and_restore_undoes_it(
    sandbox_env: str, deployed: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, stack = deployed
    refused = _hanging(
        monkeypatch, config, WEST, "force-fail", "--region", WEST, "--via", "function"
    )
    assert refused.exit_code == 1 and refused.mutating == []
    assert "us-west-2 is unreachable" in refused.stderr and "--via health-check" in refused.stderr

    failed = _hanging(monkeypatch, config, WEST, "force-fail", "--region", WEST, "--json")
    assert failed.exit_code == 0, failed.stderr
    assert json.loads(failed.stdout)["via"] == "health-check"
    assert "Falling back to its Route 53 health check" in " ".join(failed.stderr.split())
    assert failed.mutating == ["route53:UpdateHealthCheck", "route53:ChangeTagsForResource"]
    settings, tags = _check(sandbox_env, stack, WEST)
    assert settings["SearchString"] == MARKER + SEARCH and TAG in tags
    assert not settings.get("Inverted") and not settings.get("Disabled")

    status = _hanging(monkeypatch, config, WEST, "status", "--json")
    west = {r["region"]: r for r in json.loads(status.stdout)["regions"]}[WEST]
    assert west["reachable"] is False and west["force_fail"] is True
    assert west["overrides"] == {"function": None, "health_check": True}

    # Once the region answers again, `up` keeps the override (operator state) and says so.
    up = failover(config, "up")
    assert up.exit_code == 0 and up.mutating == []
    assert "carries force-fail's override" in up.stderr
    assert _check(sandbox_env, stack, WEST)[0]["SearchString"] == MARKER + SEARCH
    # The last healthy region is still guarded: us-east-1 may not be failed now.
    last = failover(config, "force-fail", "--region", EAST, "--via", "health-check")
    assert last.exit_code == 2 and last.mutating == []
    assert "last healthy region" in last.stderr

    restored = _hanging(monkeypatch, config, WEST, "force-fail", "--region", WEST, "--restore")
    assert restored.exit_code == 0, restored.stderr
    assert "could not be read" in restored.stderr  # FORCE_FAIL itself is unknown: said
    settings, tags = _check(sandbox_env, stack, WEST)
    assert settings["SearchString"] == SEARCH and TAG not in tags
    again = failover(config, "force-fail", "--region", WEST, "--restore")
    assert again.exit_code == 0 and again.mutating == []


def test_restore_undoes_both_overrides_and_via_chooses(
    sandbox_env: str, deployed: tuple[Path, str]
) -> None:
    config, stack = deployed
    assert failover(config, "force-fail", "--region", WEST).exit_code == 0
    via_check = failover(config, "force-fail", "--region", WEST, "--via", "health-check")
    assert via_check.exit_code == 0, via_check.stderr
    status = failover(config, "status", "--json")
    west = {r["region"]: r for r in json.loads(status.stdout)["regions"]}[WEST]
    assert west["overrides"] == {"function": True, "health_check": True}
    assert west["force_fail"] is True and "health-check override is on" in west["problems"]
    restored = failover(config, "force-fail", "--region", WEST, "--restore", "--json")
    assert restored.exit_code == 0, restored.stderr
    assert json.loads(restored.stdout)["via"] == "function+health-check"
    env = client("lambda", WEST, sandbox_env).get_function_configuration(
        FunctionName=f"{stack}-fn"
    )["Environment"]["Variables"]
    assert env["FORCE_FAIL"] == "false"
    assert _check(sandbox_env, stack, WEST)[0]["SearchString"] == SEARCH


TIME_SCALE = 20
INTERVAL, THRESHOLD = 10, 1


def _following(monkeypatch: pytest.MonkeyPatch, config: Path, *args: str) -> Run:
    """`force-fail --region us-west-2 --wait` with us-west-2's endpoints hanging."""
    wait = ("--wait", "--timeout", "40s")
    return _hanging(monkeypatch, config, WEST, "force-fail", "--region", WEST, *wait, *args)


def _serving(region: str) -> Any:
    def wanted(run: Run, data: dict[str, Any]) -> bool:
        return data["serving_region"] == region and all(
            r["healthy"] for r in data["regions"] if r["region"] == region
        )

    return wanted


def test_dns_moves_away_from_a_hanging_region_through_the_override_and_back(
    launch_sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = f"oo{uuid.uuid4().hex[:8]}"
    zone, domain = f"{name}.test", f"app.{name}.test"
    sandbox: SandboxProcess = launch_sandbox("--time-scale", str(TIME_SCALE))
    use_sandbox(monkeypatch, sandbox, domain)
    boto3.client("route53", EAST).create_hosted_zone(Name=zone, CallerReference=uuid.uuid4().hex)
    # us-west-2 first: the PRIMARY of failover routing, so the DNS answer has to move.
    config = tmp_path / "failover.yaml"
    config.write_text(
        f"stack: {name}\nregions: [{WEST}, {EAST}]\n"
        f"table: {{name: {name}.Hello}}\nfunction: {{name: {name}-fn}}\n"
        f"domain:\n  name: {domain}\n  hosted_zone: {zone}\n  routing: failover\n"
        f"health_check:\n  interval_s: {INTERVAL}\n  failure_threshold: {THRESHOLD}\n",
        encoding="utf-8",
    )
    assert failover(config, "up").exit_code == 0
    try:
        poll_status(config, _serving(WEST), timeout=90, what="the primary us-west-2 serving")
        failed = _following(monkeypatch, config, "--json")
        assert failed.exit_code == 0, failed.stderr
        record = json.loads(failed.stdout)
        assert record["via"] == "health-check"
        phases = {p["name"]: p for p in record["phases"]}
        assert phases["health_unhealthy"]["reached"] and phases["dns_moved"]["reached"]
        assert phases["request_moved"]["reached"]
        expected = INTERVAL * THRESHOLD / TIME_SCALE
        print(f"DNS moved {phases['dns_moved']['seconds']}s after the override (~{expected}s)")

        back = _following(monkeypatch, config, "--restore")
        assert back.exit_code == 0, back.stderr
        assert f"request answered by {WEST}" in back.stdout and "not reached" not in back.stdout
    finally:
        assert failover(config, "down", "--yes").exit_code == 0
