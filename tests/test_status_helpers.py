"""Helpers for the `failover status` tests against a sandbox (no tests here)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SandboxProcess
from tests.e2e_helpers import Run, client, failover

POLL_SECONDS = 0.5


def use_sandbox(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxProcess, *hosts: str) -> str:
    """Point boto3 and the tool's HTTP requests (plus any extra `hosts`) at `sandbox`."""
    sandbox.wait_until_ready()
    endpoint = sandbox.endpoint
    patterns = ["*.amazonaws.com", "*.localhost", *hosts]
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("FAILOVER_RESOLVE", ",".join(f"{p}={endpoint}" for p in patterns))
    return endpoint


def status_json(config: Path) -> tuple[Run, dict[str, Any]]:
    run = failover(config, "status", "--json")
    assert run.exit_code in (0, 3), (run.exit_code, run.stdout, run.stderr)
    return run, json.loads(run.stdout)


def poll_status(
    config: Path, wanted: Callable[[Run, dict[str, Any]], bool], *, timeout: float, what: str
) -> tuple[Run, dict[str, Any]]:
    """`status --json` until `wanted` holds (a bounded wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        run, data = status_json(config)
        if wanted(run, data):
            return run, data
        if time.monotonic() > deadline:
            summary = [(r["region"], r["healthy"], r["problems"]) for r in data["regions"]]
            pytest.fail(f"status never showed {what} within {timeout}s; last: {summary}")
        time.sleep(POLL_SECONDS)


def function_env(endpoint: str, region: str, name: str) -> dict[str, str]:
    cfg = client("lambda", region, endpoint).get_function_configuration(FunctionName=name)
    variables: dict[str, str] = cfg["Environment"]["Variables"]
    return variables


def set_force_fail(endpoint: str, region: str, name: str, value: bool) -> None:
    """FORCE_FAIL with plain boto3, merging the environment (Lambda replaces it whole)."""
    lam = client("lambda", region, endpoint)
    env = {**function_env(endpoint, region, name), "FORCE_FAIL": "true" if value else "false"}
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": env})
    lam.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    # The API serves the `live` alias: the edit serves once published and aliased.
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.get_waiter("published_version_active").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion=version)


def secret_of(endpoint: str, region: str, name: str) -> str:
    return function_env(endpoint, region, name)["HEALTH_CHECKER_ID"]


def assert_secret_hidden(run: Run, secret: str) -> None:
    assert len(secret) >= 16
    assert secret not in run.stdout and secret not in run.stderr
