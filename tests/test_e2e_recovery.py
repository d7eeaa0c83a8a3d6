"""Partial failure is recoverable by re-running the same command.

An error injected in the middle of `up` (or the process killed outright)
leaves a half-built stack; the next `up` converges it, and `down` removes
whatever a partial `up` created.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from failover_cli.aws.clients import ClientFactory
from failover_cli.cli.state import AppState
from tests.e2e_helpers import failover, unique_stack, write_config
from tests.engine_helpers import is_mutating

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parent.parent


def _fail_on_mutating_call(
    monkeypatch: pytest.MonkeyPatch, nth: int, error: Callable[[str], Exception]
) -> None:
    """Make the nth mutating AWS call of each command raise `error(operation)`."""
    original = AppState.clients

    def clients(self: AppState) -> ClientFactory:
        factory = original(self)
        seen = {"count": 0}

        def hook(_service: str, _region: str, operation: str, _params: dict[str, Any]) -> None:
            if is_mutating(operation):
                seen["count"] += 1
                if seen["count"] == nth:
                    raise error(operation)

        factory.add_hook(hook)
        return factory

    monkeypatch.setattr(AppState, "clients", clients)


def _server_error(operation: str) -> Exception:
    return ClientError({"Error": {"Code": "InternalFailure", "Message": "injected"}}, operation)


@pytest.mark.parametrize("nth", [1, 4, 9, 14])
def test_up_interrupted_by_an_error_converges_on_rerun(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nth: int
) -> None:
    config = write_config(tmp_path, unique_stack("cut"))
    with monkeypatch.context() as patched:
        _fail_on_mutating_call(patched, nth, _server_error)
        broken = failover(config, "up")
    assert broken.exit_code == 1
    assert "injected" in broken.stderr and "Traceback" not in broken.stderr
    assert "re-run" in broken.stderr.lower()

    assert failover(config, "up").exit_code == 0
    assert failover(config, "plan").exit_code == 0
    assert failover(config, "down", "--yes").exit_code == 0


def test_down_after_a_partial_up_removes_what_it_created(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, unique_stack("half"))
    with monkeypatch.context() as patched:
        _fail_on_mutating_call(patched, 6, _server_error)
        assert failover(config, "up").exit_code == 1
    down = failover(config, "down", "--yes")
    assert down.exit_code == 0, down.stderr
    plan = failover(config, "--json", "plan", "--detailed-exitcode")
    assert plan.exit_code == 3  # nothing left: all to create
    assert failover(config, "down", "--yes").mutating == []


def test_up_killed_midway_converges_on_rerun(sandbox_env: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, unique_stack("kill"))
    log = tmp_path / "killed-calls.jsonl"
    env = {**os.environ, "FAILOVER_CALL_LOG": str(log), "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "failover_cli", "--config", str(config), "up"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            lines = log.read_text().splitlines() if log.exists() else []
            if sum(1 for line in lines if is_mutating(json.loads(line)["op"])) >= 5:
                break
            time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert failover(config, "up").exit_code == 0
    assert failover(config, "plan").exit_code == 0
    assert failover(config, "down", "--yes").exit_code == 0


def test_access_denied_names_the_region_operation_and_iam_action(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(operation: str) -> Exception:
        return ClientError(
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": "User: arn:aws:iam::123456789012:user/ops is not authorized to "
                    f"perform: lambda:{operation} on resource: thelambda",
                }
            },
            operation,
        )

    config = write_config(tmp_path, unique_stack("deny"))
    original = AppState.clients

    def clients(self: AppState) -> ClientFactory:
        factory = original(self)

        def hook(service: str, _region: str, operation: str, _params: dict[str, Any]) -> None:
            if service == "lambda" and operation == "CreateFunction":
                raise denied(operation)

        factory.add_hook(hook)
        return factory

    with monkeypatch.context() as patched:
        patched.setattr(AppState, "clients", clients)
        run = failover(config, "up")
    assert run.exit_code == 1
    assert "lambda:CreateFunction" in run.stderr
    assert "us-east-1" in run.stderr or "us-west-2" in run.stderr
    assert "Traceback" not in run.stderr
    assert failover(config, "down", "--yes").exit_code == 0


def test_missing_credentials_exit_2_with_one_paragraph(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    run = failover(write_config(tmp_path, unique_stack("nocreds")), "up")
    assert run.exit_code == 2
    assert "No AWS credentials" in run.stderr and "AWS_PROFILE" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.mutating == []
