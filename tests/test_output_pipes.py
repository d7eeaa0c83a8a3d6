"""Output that pipes: results on stdout, progress on stderr, exit codes as the ecosystem has them.

Run as a user runs them, through a shell, against the session sandbox (a stack
that is not deployed: plan lists everything to create, status says not deployed):
`failover plan > plan.txt` holds the plan, `failover plan 2>/dev/null | tail -1`
is the summary line with the monthly estimate, plain `plan` exits 0 with changes
pending and `--detailed-exitcode` 3; `status --watch` to a pipe prints every
refresh in full and flushes on SIGTERM; declining `down`'s prompt changes nothing
and exits 2.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from failover_cli.cli import cmd_down
from failover_cli.config.loader import load_config
from tests.conftest import REPO_ROOT
from tests.e2e_helpers import failover, unique_stack, write_config

FAILOVER = f"{sys.executable} -m failover_cli"


def _shell(command: str, folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        command, shell=True, cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.sandbox
def test_plan_to_a_file_and_its_last_line_through_a_pipe(sandbox_env: str, tmp_path: Path) -> None:
    write_config(tmp_path, unique_stack("pipe"))
    saved = _shell(f"{FAILOVER} plan > plan.txt", tmp_path)
    assert saved.returncode == 0, saved.stderr  # everything to create, and the plan ran
    plan = (tmp_path / "plan.txt").read_text()
    assert plan.startswith("Plan for stack pipe-") and "+ create" in plan, plan
    assert "Plan for stack" not in saved.stderr

    last = _shell(f"{FAILOVER} plan 2>/dev/null | tail -1", tmp_path)
    assert last.stdout.startswith("Plan: ") and " to create." in last.stdout, last.stdout
    assert "Monthly estimate: " in last.stdout
    assert " USD at list prices, no free tier counted" in last.stdout

    detailed = _shell(f"{FAILOVER} plan --detailed-exitcode > /dev/null", tmp_path)
    assert detailed.returncode == 3, detailed.stderr
    chained = _shell(f"{FAILOVER} plan >/dev/null && echo planned", tmp_path)
    assert chained.stdout.strip() == "planned"  # `failover plan && failover up` works


@pytest.mark.sandbox
def test_status_watch_to_a_pipe_prints_each_refresh_and_flushes_on_sigterm(
    sandbox_env: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, unique_stack("watch"))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "failover_cli", "--config", str(config)]
    errors_file = tmp_path / "watch.err"
    watcher = subprocess.Popen(
        [*command, "status", "--watch", "--interval", "1s"],
        stdout=subprocess.PIPE,
        stderr=errors_file.open("w"),
        env=env,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 120
        while sum("is not deployed" in line for line in seen) < 2:  # two refreshes, in full
            line = watcher.stdout.readline()
            assert line and time.monotonic() < deadline, "".join(seen) + errors_file.read_text()
            seen.append(line)
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=60)
        rest = watcher.stdout.read()  # through the same buffer readline used
        errors = errors_file.read_text()
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert watcher.returncode == 3, errors  # what the last refresh saw: not deployed
    assert "Traceback" not in errors
    text = "".join(seen) + rest
    assert text.count("(checked ") >= 2, text


@pytest.mark.parametrize("answer", ["n\n", ""], ids=["no", "end-of-input"])
def test_declining_downs_prompt_changes_nothing_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    with mock_aws():
        config = write_config(tmp_path, "decline")
        group = load_config(config).log_group_name
        tags = load_config(config).ownership_tags()
        boto3.client("logs", "us-east-1").create_log_group(logGroupName=group, tags=tags)
        # Someone at a terminal: the prompt is asked (CliRunner's stdin is not a terminal).
        terminal = SimpleNamespace(stdin=SimpleNamespace(isatty=lambda: True))
        monkeypatch.setattr(cmd_down, "sys", terminal)
        run = failover(config, "down", input=answer)
        assert run.exit_code == 2, run.stdout + run.stderr
        assert "Delete these 1 resources" in run.stderr and "Nothing was changed" in run.stderr
        assert run.mutating == []
        found = boto3.client("logs", "us-east-1").describe_log_groups(logGroupNamePrefix=group)
        assert [g["logGroupName"] for g in found["logGroups"]] == [group]
