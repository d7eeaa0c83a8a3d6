"""Helpers for end-to-end CLI tests: configs, running `failover` in-process, reading call logs."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from click.testing import CliRunner, Result

from failover_cli.bundle import shipped_bundle_path
from failover_cli.cli.main import cli
from failover_cli.sandbox.outage_regions import INTERNAL_AGENT
from tests.engine_helpers import is_mutating


def unique_stack(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# A release's bake watches the health check for 2 minutes per region (deploy.bake) on the
# session sandbox's real-time clock: 4 minutes of every `up` that changes the function.
# Tests of the bake itself (test_e2e_release*.py, test_release_waves.py) set their own.
NO_BAKE = "deploy:\n  bake: 0s\n"  # the gates' requests still run; no waiting on the check


def write_config(folder: Path, stack: str, extra: str = "") -> Path:
    """A config whose table and function names are unique to the stack (the sandbox is shared);
    releases are not baked unless `extra` has a `deploy:` section of its own."""
    path = folder / "failover.yaml"
    path.write_text(
        f"stack: {stack}\n"
        "regions: [us-east-1, us-west-2]\n"
        f"table:\n  name: {stack}.Hello\n"
        f"function:\n  name: {stack}-fn\n"
        + extra
        + ("" if not extra or extra.endswith("\n") else "\n")
        + ("" if re.search(r"^deploy:", extra, re.MULTILINE) else NO_BAKE),
        encoding="utf-8",
    )
    return path


def write_release(source: Path, marker: str) -> None:
    """A release of the shipped bundle in `source`: its code, with a comment naming `marker`
    (a new code hash)."""
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(shipped_bundle_path(), source, ignore=shutil.ignore_patterns("__pycache__"))
    routes = source / "app_routes.py"
    routes.write_text(routes.read_text() + f"\n# release {marker}\n")


STDERR_TAIL = 3000  # characters: the plan, the failing step and its hint


@dataclass(repr=False)
class Run:
    result: Result
    calls: list[dict[str, Any]]

    @property
    def exit_code(self) -> int:
        return int(self.result.exit_code)

    @property
    def stdout(self) -> str:
        return self.result.stdout

    @property
    def stderr(self) -> str:
        return self.result.stderr

    @property
    def mutating(self) -> list[str]:
        return [f"{c['service']}:{c['op']}" for c in self.calls if is_mutating(c["op"])]

    def __repr__(self) -> str:
        # What a failed `assert run.exit_code == 0` prints: the command's own words (its
        # error and hint end stderr) and its last calls, not a dump of every call it made.
        last = [f"{c['service']}:{c['region']}:{c['op']}" for c in self.calls[-5:]]
        crash = self.result.exception
        raised = "" if crash is None or isinstance(crash, SystemExit) else f" raised {crash!r},"
        return (
            f"Run(exit_code={self.result.exit_code},{raised} {len(self.calls)} calls, the last"
            f" {last}, stderr ends:\n{self.stderr[-STDERR_TAIL:]})"
        )


def failover(config: Path, *args: str, input: str | None = None) -> Run:
    """Run `failover --config <config> <args>` in-process; record every AWS call it makes."""
    log = config.parent / f"calls-{uuid.uuid4().hex[:6]}.jsonl"
    os.environ["FAILOVER_CALL_LOG"] = str(log)
    try:
        result = CliRunner().invoke(cli, ["--config", str(config), *args], input=input)
    finally:
        os.environ.pop("FAILOVER_CALL_LOG", None)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return Run(result, calls)


def offline_aws(patch: Any, home: Path) -> None:
    """conftest's per-test safety net, for a module-wide stack (set up before it runs);
    `patch` is a pytest.MonkeyPatch."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "FAILOVER_")):
            patch.delenv(name)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost,.localhost",
        "no_proxy": "127.0.0.1,localhost,.localhost",
    }.items():
        patch.setenv(name, value)


_CREDENTIALS = ("ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN", "PROFILE")  # AWS_*
_clients: dict[tuple[str, ...], Any] = {}
_clients_lock = threading.Lock()


def client(service: str, region: str, endpoint: str) -> Any:
    """A plain boto3 client, one per service, region, endpoint and credentials in the
    process: tests read the sandbox through thousands of them (inventories after every
    cut of a sweep), and each new one costs about 10 ms of CPU. boto3 clients are
    thread-safe; these carry no hooks of a test's."""
    key = (service, region, endpoint, *(os.environ.get(f"AWS_{name}", "") for name in _CREDENTIALS))
    with _clients_lock:
        made = _clients.get(key)
        if made is None:
            made = _clients[key] = boto3.client(service, region_name=region, endpoint_url=endpoint)
        return made


def internal_client(service: str, region: str, endpoint: str | None = None) -> Any:
    """A client that reads as the sandbox itself does (its watch page): AWS's own traffic,
    which spends none of the account's API quotas (GetHealthCheckStatus: 1 a second) and
    passes any outage. Test threads that watch use it, so they never take the tool's
    quota nor die of Throttling on a busy machine."""
    config = Config(user_agent_extra=INTERNAL_AGENT)
    return boto3.client(service, region_name=region, endpoint_url=endpoint, config=config)


def short_hang_deadlines(patch: Any) -> None:
    """For tests of what a command does when a region hangs, not of how long it waits
    (the benchmarks time that): the observe and mutating deadlines (30 s and 60 s a read,
    60 s and 120 s a call) shortened, so an injected hang (tests/faults.py HANG waits one
    read time-out per attempt) costs seconds, not minutes. Still ample for the sandbox's
    real answers on a busy machine. `patch` is a pytest.MonkeyPatch."""
    from dataclasses import replace

    from failover_cli.aws import deadlines

    patch.setattr(deadlines, "OBSERVE", replace(deadlines.OBSERVE, read_timeout=10, call_budget=20))
    patch.setattr(
        deadlines, "MUTATING", replace(deadlines.MUTATING, read_timeout=15, call_budget=30)
    )
