"""`failover force-fail` end to end against the session sandbox, checked with boto3.

The promises: every other environment variable survives (including one added by
hand), FORCE_FAIL really bites (the region answers 503), an unknown region and
the last healthy region are refused with exit 2 and nothing changed, and
`--restore` undoes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from failover_cli.net.http import HttpClient
from tests.e2e_helpers import client, failover, unique_stack, write_config

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"


def _environment(endpoint: str, region: str, name: str) -> dict[str, str]:
    answer = client("lambda", region, endpoint).get_function_configuration(FunctionName=name)
    variables: dict[str, str] = answer["Environment"]["Variables"]
    return variables


def _add_by_hand(endpoint: str, region: str, name: str, **extra: str) -> None:
    lam = client("lambda", region, endpoint)
    merged = {**_environment(endpoint, region, name), **extra}
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": merged})
    lam.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )


def _hello_status(endpoint: str, region: str, stack: str, secret: str) -> int:
    apis = client("apigateway", region, endpoint).get_rest_apis()["items"]
    api = next(a["id"] for a in apis if a["name"] == stack)
    url = f"https://{api}.execute-api.{region}.amazonaws.com/prod/hello?healthCheckerId={secret}"
    return HttpClient().get(url).status


def test_force_fail_merges_refuses_and_restores(sandbox_env: str, tmp_path: Path) -> None:
    stack = unique_stack("ff")
    config = write_config(tmp_path, stack)
    fn = f"{stack}-fn"
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    try:
        for region in (EAST, WEST):
            _add_by_hand(sandbox_env, region, fn, OPERATOR_NOTE="added by hand")
        before = {r: _environment(sandbox_env, r, fn) for r in (EAST, WEST)}
        secret = before[EAST]["HEALTH_CHECKER_ID"]

        failed = failover(config, "force-fail", "--region", EAST, "--json")
        assert failed.exit_code == 0, failed.stderr
        assert json.loads(failed.stdout)["changed"] is True
        assert _environment(sandbox_env, EAST, fn) == {**before[EAST], "FORCE_FAIL": "true"}
        assert _environment(sandbox_env, WEST, fn) == before[WEST]
        assert failed.mutating == ["lambda:UpdateFunctionConfiguration"]
        assert _hello_status(sandbox_env, EAST, stack, secret) == 503  # the function obeys
        assert _hello_status(sandbox_env, WEST, stack, secret) == 200

        again = failover(config, "force-fail", "--region", EAST)
        assert again.exit_code == 0 and again.mutating == []
        assert "already true" in again.stdout

        unknown = failover(config, "force-fail", "--region", "eu-west-1")
        assert unknown.exit_code == 2 and unknown.mutating == []
        assert "eu-west-1 is not one of" in unknown.stderr

        last = failover(config, "force-fail", "--region", WEST)
        assert last.exit_code == 2 and last.mutating == []
        assert "last healthy region" in last.stderr and "--allow-total-outage" in last.stderr
        assert _environment(sandbox_env, WEST, fn) == before[WEST]
        assert _environment(sandbox_env, EAST, fn)["FORCE_FAIL"] == "true"

        restored = failover(config, "force-fail", "--region", EAST, "--restore")
        assert restored.exit_code == 0, restored.stderr
        assert _environment(sandbox_env, EAST, fn) == {**before[EAST], "FORCE_FAIL": "false"}
        assert _hello_status(sandbox_env, EAST, stack, secret) == 200
        for run in (failed, again, unknown, last, restored):
            assert secret not in run.stdout + run.stderr
    finally:
        assert failover(config, "down", "--yes").exit_code == 0
