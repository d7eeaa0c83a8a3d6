"""`failover status` end to end against the sandbox (no custom domain), checked with boto3.

`status --json` must agree with an independent read of the same stack; a
region whose function is forced to fail is reported unhealthy (exit 3) and
recovers to 0 once restored; a stack that does not exist, or exists only in
part, is shown as such rather than crashing. The health-checker secret never
appears in any output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from failover_cli.aws.clients import ClientFactory
from failover_cli.cli import cmd_status
from failover_cli.cli.state import AppState
from tests.conftest import SandboxProcess
from tests.e2e_helpers import Run, client, failover, unique_stack, write_config
from tests.test_status_helpers import (
    assert_secret_hidden,
    poll_status,
    secret_of,
    set_force_fail,
    status_json,
    use_sandbox,
)

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"
REGIONS = (EAST, WEST)
EMAIL = "ops@example.com"


def _healthy(run: Run, data: dict[str, Any]) -> bool:
    # The checkers' first reports (or a read the shared sandbox's Route 53 quota throttled)
    # leave a check "unknown" or partly read for a moment: wait for all three checkers' reports.
    checks = [r.get("health_check") or {} for r in data["regions"]]
    seen = all(c.get("status") == "healthy" and c.get("checkers") == 3 for c in checks)
    return run.exit_code == 0 and data["healthy"] and seen


def _independent_read(endpoint: str, stack: str) -> dict[str, Any]:
    """What boto3 alone says about the stack: ids, FORCE_FAIL, alarm and table states."""
    r53 = client("route53", EAST, endpoint)
    checks = r53.list_health_checks()["HealthChecks"]
    tags = {
        t["ResourceId"]: {x["Key"]: x["Value"] for x in t["Tags"]}
        for start in range(0, len(checks), 10)
        for t in r53.list_tags_for_resources(
            ResourceType="healthcheck", ResourceIds=[c["Id"] for c in checks[start : start + 10]]
        )["ResourceTagSets"]
    }
    alarms = client("cloudwatch", EAST, endpoint).describe_alarms(
        AlarmNames=[f"{stack}-{r}-health" for r in REGIONS]
    )["MetricAlarms"]
    primary = client("dynamodb", EAST, endpoint).describe_table(TableName=f"{stack}.Hello")
    read: dict[str, Any] = {
        "replicas": {r["RegionName"]: r["ReplicaStatus"] for r in primary["Table"]["Replicas"]},
        "alarms": {a["AlarmName"]: a["StateValue"] for a in alarms},
    }
    for region in REGIONS:
        apis = client("apigateway", region, endpoint).get_rest_apis()["items"]
        fn = client("lambda", region, endpoint).get_function_configuration(
            FunctionName=f"{stack}-fn"
        )
        table = client("dynamodb", region, endpoint).describe_table(TableName=f"{stack}.Hello")
        read[region] = {
            "api": [a["id"] for a in apis if a["name"] == stack],
            "check": [c for c, t in tags.items() if t.get("Name") == f"{stack}-{region}"],
            "force_fail": fn["Environment"]["Variables"]["FORCE_FAIL"] == "true",
            "state": fn["State"],
            "table": table["Table"]["TableStatus"],
        }
    return read


def test_status_agrees_with_an_independent_read(sandbox_env: str, tmp_path: Path) -> None:
    stack = unique_stack("st")
    config = write_config(tmp_path, stack, f"alarms:\n  email: {EMAIL}\n")
    assert failover(config, "up").exit_code == 0
    secret = secret_of(sandbox_env, EAST, f"{stack}-fn")

    before = _independent_read(sandbox_env, stack)
    run, data = poll_status(config, _healthy, timeout=90, what="a healthy stack")
    after = _independent_read(sandbox_env, stack)

    assert (data["stack"], data["deployed"], data["serving_region"]) == (stack, True, None)
    assert [r["region"] for r in data["regions"]] == list(REGIONS)
    for shown in data["regions"]:
        region = shown["region"]
        mine = after[region]
        assert [shown["api"]["id"]] == mine["api"]
        assert shown["api"]["url"] == (
            f"https://{mine['api'][0]}.execute-api.{region}.amazonaws.com/prod"
        )
        assert [shown["health_check"]["id"]] == mine["check"]
        assert shown["health_check"]["status"] == "healthy"
        assert shown["health_check"]["checkers"] == 3  # the default checker regions
        assert shown["force_fail"] is mine["force_fail"] is False
        assert shown["function"]["state"] == mine["state"] == "Active"
        assert shown["table"]["status"] == mine["table"] == "ACTIVE"
        # Alarms change state on their own: the shown one is what boto3 saw around it.
        name = f"{stack}-{region}-health"
        assert shown["alarm"]["state"] in {before["alarms"][name], after["alarms"][name]}
        assert shown["probe"]["shallow"]["ok"] and shown["probe"]["deep"]["ok"]
        assert shown["probe"]["deep"]["url"].endswith("&deep=true")
    assert data["regions"][1]["table"]["replica_status"] == after["replicas"][WEST]
    assert [s["endpoint"] for s in data["alarms"]["subscriptions"]] == [EMAIL]
    assert_secret_hidden(run, secret)
    shallow_url = data["regions"][0]["probe"]["shallow"]["url"]
    assert shallow_url.endswith(f"/prod/health?healthCheckerId=****({len(secret)})")

    human = failover(config, "status")
    assert human.exit_code == 0, human.stderr
    assert "healthy" in human.stdout and EAST in human.stdout and WEST in human.stdout
    assert_secret_hidden(human, secret)

    assert failover(config, "down", "--yes").exit_code == 0
    gone = failover(config, "status")
    assert gone.exit_code == 3 and "not deployed" in gone.stdout


def test_a_forced_failure_degrades_its_region_until_restored(
    launch_sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sandbox: SandboxProcess = launch_sandbox("--time-scale", "10")
    endpoint = use_sandbox(monkeypatch, sandbox)
    stack = unique_stack("ff")
    config = write_config(tmp_path, stack)
    assert failover(config, "up").exit_code == 0
    fn = f"{stack}-fn"
    secret = secret_of(endpoint, EAST, fn)
    poll_status(config, _healthy, timeout=60, what="a healthy stack")

    set_force_fail(endpoint, EAST, fn, True)
    run, data = poll_status(
        config,
        lambda r, d: r.exit_code == 3 and d["regions"][0]["force_fail"],
        timeout=60,
        what="FORCE_FAIL in the primary",
    )
    east, west = data["regions"]
    assert east["healthy"] is False and "FORCE_FAIL is on" in east["problems"]
    assert east["probe"]["shallow"]["status"] == 503
    assert west["healthy"] is True and west["force_fail"] is False
    assert data["healthy"] is False
    assert_secret_hidden(run, secret)
    human = failover(config, "status")
    assert human.exit_code == 3 and "FORCE_FAIL is on" in human.stdout
    assert_secret_hidden(human, secret)

    set_force_fail(endpoint, EAST, fn, False)
    run, data = poll_status(config, _healthy, timeout=60, what="recovery after the restore")
    assert data["regions"][0]["force_fail"] is False
    assert_secret_hidden(run, secret)
    assert failover(config, "down", "--yes").exit_code == 0


def test_a_stack_never_deployed_says_so_and_exits_3(sandbox_env: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, unique_stack("none"))
    human = failover(config, "status")
    assert human.exit_code == 3 and "not deployed" in human.stdout
    assert "Traceback" not in human.stdout + human.stderr
    as_json = failover(config, "status", "--json")
    assert as_json.exit_code == 3 and "not deployed" in as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["deployed"] is False and data["healthy"] is False
    assert all(r["function"]["state"] == "missing" for r in data["regions"])
    assert human.mutating == [] and as_json.mutating == []


def test_a_half_deleted_stack_shows_the_missing_pieces(sandbox_env: str, tmp_path: Path) -> None:
    stack = unique_stack("half")
    config = write_config(tmp_path, stack)
    assert failover(config, "up").exit_code == 0
    ag = client("apigateway", WEST, sandbox_env)
    for api in ag.get_rest_apis()["items"]:
        if api["name"] == stack:
            ag.delete_rest_api(restApiId=api["id"])
    west_check = _independent_read(sandbox_env, stack)[WEST]["check"][0]
    client("route53", EAST, sandbox_env).delete_health_check(HealthCheckId=west_check)

    run, data = status_json(config)
    assert run.exit_code == 3 and data["deployed"] is True
    west = data["regions"][1]
    assert west["api"] == {"id": None, "url": None} and west["probe"] is None
    assert west["health_check"]["id"] is None and west["health_check"]["status"] == "missing"
    assert "API missing" in west["problems"] and west["healthy"] is False
    human = failover(config, "status")
    assert human.exit_code == 3 and "missing" in human.stdout
    assert "Traceback" not in human.stdout + human.stderr
    assert failover(config, "down", "--yes").exit_code == 0


def test_watch_refreshes_until_interrupted_and_exits_with_the_last_code(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, unique_stack("watch"))
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 2:
            raise KeyboardInterrupt  # Ctrl-C during the second wait

    monkeypatch.setattr(cmd_status, "sleep", sleep)
    lines = failover(config, "status", "--watch", "--interval", "2s", "--json")
    assert lines.exit_code == 3, lines.stderr
    refreshes = [json.loads(line) for line in lines.stdout.splitlines()]
    assert len(refreshes) == 2 and all(r["deployed"] is False for r in refreshes)
    assert naps == [2.0, 2.0]

    naps.clear()
    human = failover(config, "status", "--watch", "--interval", "1s")
    assert human.exit_code == 3 and "not deployed" in human.stdout

    assert failover(config, "status", "--watch", "--interval", "0s").exit_code == 2


def test_an_aws_error_is_exit_1_with_one_readable_paragraph(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = AppState.clients

    def clients(self: AppState) -> ClientFactory:
        factory = original(self)

        def hook(_service: str, _region: str, operation: str, _params: dict[str, Any]) -> None:
            if operation == "DescribeAlarms":
                # An answer, not an outage (5xx and InternalFailure mean the region is out).
                raise ClientError(
                    {"Error": {"Code": "ValidationError", "Message": "boom"}}, operation
                )

        factory.add_hook(hook)
        return factory

    monkeypatch.setattr(AppState, "clients", clients)
    run = failover(write_config(tmp_path, unique_stack("err")), "status", "--json")
    assert run.exit_code == 1 and run.stdout == ""
    assert "DescribeAlarms" in run.stderr and "Traceback" not in run.stderr
