"""Partial failure is recoverable by re-running the same command.

The process killed outright (SIGKILL: no handler runs) in the middle of `up`
leaves a half-built stack; the next `up` converges it to exactly one of
everything (a boto3 inventory), and `down` removes it all. Errors and Ctrl-C at
each step of `up` and `down` are test_faults_steps*.py and
test_faults_interrupts.py; here also what a denied call and missing credentials
say.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e_helpers import failover, unique_stack, write_config
from tests.engine_helpers import is_mutating
from tests.faults import Fault, FaultInjector, Rule
from tests.stack_inventory import CONVERGED_NO_DOMAIN, fingerprints, inventory

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parent.parent


def _mutating_logged(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [op for op in (json.loads(line)["op"] for line in lines) if is_mutating(op)]


def test_up_killed_midway_converges_on_rerun(sandbox_env: str, tmp_path: Path) -> None:
    """SIGKILL (no handler runs, nothing is cleaned up) after `up`'s fifth mutating call;
    the re-run and `down` are checked against a boto3 inventory, not only exit codes."""
    stack = unique_stack("kill")
    config = write_config(tmp_path, stack)
    log = tmp_path / "killed-calls.jsonl"
    env = {**os.environ, "FAILOVER_CALL_LOG": str(log), "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "failover_cli", "--config", str(config), "up"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if len(_mutating_logged(log)) >= 5:
                break
            time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    # The kill landed mid-run: the process did not end by itself, after five changes.
    assert process.returncode == -signal.SIGKILL, f"up ended first ({process.returncode})"
    before_kill = _mutating_logged(log)
    assert len(before_kill) >= 5, before_kill
    names: dict[str, Any] = {"table": f"{stack}.Hello", "function": f"{stack}-fn"}
    seen = fingerprints(sandbox_env, stack, names["function"])
    assert inventory(sandbox_env, stack, seen=seen, **names), "the killed up made nothing"

    rerun = failover(config, "up")
    assert rerun.exit_code == 0, rerun.stderr
    assert failover(config, "plan", "--detailed-exitcode").exit_code == 0
    seen.add(fingerprints(sandbox_env, stack, names["function"]))
    have = inventory(sandbox_env, stack, seen=seen, **names)
    assert {kind: len(found) for kind, found in have.items()} == CONVERGED_NO_DOMAIN, have
    assert failover(config, "down", "--yes").exit_code == 0
    assert inventory(sandbox_env, stack, seen=seen, **names) == {}


def test_access_denied_names_the_region_operation_and_iam_action(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    denied = Rule(
        Fault.FAIL,
        operations=("lambda:CreateFunction",),
        code="AccessDeniedException",
        message="User: arn:aws:iam::123456789012:user/ops is not authorized to perform: "
        "lambda:CreateFunction on resource: thelambda",
    )
    config = write_config(tmp_path, unique_stack("deny"))
    with monkeypatch.context() as patched:
        FaultInjector([denied]).install(patched)
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
