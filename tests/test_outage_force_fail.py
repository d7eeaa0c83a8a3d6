"""force-fail of a region whose endpoints do not answer: the switch needs nothing from it.

With us-west-2's AWS endpoints hanging (faults injected between botocore and the
sandbox; the sandbox's own health checkers still reach the region, as Route 53's
do during a control-plane outage), `force-fail --region us-west-2` writes the switch
in us-east-1's replica and asks nothing of us-west-2; neither the function's
environment nor the region's probe is touched. With a custom domain the DNS answer
moves away once the switch readers see it, and back after `--restore`.
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


def test_force_fail_needs_nothing_from_the_hanging_region_and_says_what_it_could_not_do(
    sandbox_env: str, deployed: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, stack = deployed
    table = f"{stack}.Hello"
    failed = _hanging(monkeypatch, config, WEST, "force-fail", "--region", WEST, "--json")
    assert failed.exit_code == 0, failed.stderr
    record = json.loads(failed.stdout)
    assert record["via"] == "switch" and record["written_in"] == EAST
    assert failed.mutating == ["dynamodb:UpdateItem"]
    assert {c["region"] for c in failed.calls} == {EAST}  # nothing asked of us-west-2
    assert WEST in _forced_in(sandbox_env, EAST, table)
    # Never the old levers: the function and its probe are as `up` left them.
    settings, _ = _check(sandbox_env, stack, WEST)
    assert settings["SearchString"] == SEARCH and not settings.get("Inverted")
    env = client("lambda", WEST, sandbox_env).get_function_configuration(
        FunctionName=f"{stack}-fn"
    )["Environment"]["Variables"]
    assert env.get("FORCE_FAIL", "false") == "false"

    # The one other replica hangs: forcing out us-east-1 cannot be written, and says so
    # within its bounds, naming the replica that did not answer (the guard never passes
    # on a switch it could not read).
    blocked = _hanging(monkeypatch, config, WEST, "force-fail", "--region", EAST)
    assert blocked.exit_code == 1 and blocked.mutating == []
    assert "No table replica answered the switch read (us-west-2)" in blocked.stderr
    assert "nothing was written" in blocked.stderr

    restored = _hanging(monkeypatch, config, WEST, "force-fail", "--region", WEST, "--restore")
    assert restored.exit_code == 0, restored.stderr
    assert WEST not in _forced_in(sandbox_env, EAST, table)
    again = failover(config, "force-fail", "--region", WEST, "--restore")
    assert again.exit_code == 0 and again.mutating == []


def _forced_in(endpoint: str, replica: str, table: str) -> set[str]:
    item = client("dynamodb", replica, endpoint).get_item(
        TableName=table, Key={"HelloKey": {"S": "failover:switch"}}, ConsistentRead=True
    )["Item"]
    return set(item["forced_out"]["M"])


TIME_SCALE = 20
INTERVAL, THRESHOLD = 10, 1  # the switch readers' too (switch: below)


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


def test_dns_moves_away_from_a_hanging_region_through_the_switch_and_back(
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
        f"health_check:\n  interval_s: {INTERVAL}\n  failure_threshold: {THRESHOLD}\n"
        f"switch:\n  interval_s: {INTERVAL}\n  failure_threshold: {THRESHOLD}\n",
        encoding="utf-8",
    )
    assert failover(config, "up").exit_code == 0
    try:
        poll_status(config, _serving(WEST), timeout=90, what="the primary us-west-2 serving")
        failed = _following(monkeypatch, config, "--json")
        assert failed.exit_code == 0, failed.stderr
        record = json.loads(failed.stdout)
        assert record["via"] == "switch"
        phases = {p["name"]: p for p in record["phases"]}
        assert phases["health_unhealthy"]["reached"] and phases["dns_moved"]["reached"]
        assert phases["request_moved"]["reached"]
        expected = INTERVAL * THRESHOLD / TIME_SCALE
        print(f"DNS moved {phases['dns_moved']['seconds']}s after the write (~{expected}s)")

        back = _following(monkeypatch, config, "--restore")
        assert back.exit_code == 0, back.stderr
        assert f"request answered by {WEST}" in back.stdout and "not reached" not in back.stdout
    finally:
        assert failover(config, "down", "--yes").exit_code == 0
