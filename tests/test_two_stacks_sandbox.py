"""Two stacks in one account, each with its default names: every read shows only its own.

Stack `hello` is deployed from a config that names no table or function, so it holds
the schema's defaults (`prod.Hello`, `thelambda`), as configs written before `init`
derived names from the stack do. A second stack made with `init --stack fresh` gets
names of its own and deploys next to it. A third config that also names no table or
function (the newcomer's case) finds hello's resources under its names: `status` and
`logs` say they are not this stack's and name stack hello, never reading hello's
function, table or log events as its own. A private sandbox: the default names must
not meet other tests' stacks.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SandboxProcess
from tests.e2e_helpers import Run, failover

pytestmark = pytest.mark.sandbox
REGIONS = ("us-east-1", "us-west-2")
DEFAULTS = "regions: [us-east-1, us-west-2]\ntable:\n  billing: on-demand\n"


def _status(config: Path) -> tuple[Run, dict[str, Any]]:
    run = failover(config, "status", "--json")
    return run, json.loads(run.stdout)


def _call_the_printed_public_route(printed: str, port: int) -> None:
    """`up` prints a curl command per region for GET /hi, in the form that reaches the
    sandbox (FAILOVER_RESOLVE sends every host to it); each answers from its region."""
    commands = [line.split() for line in printed.splitlines() if line.strip().startswith("curl")]
    assert len(commands) == len(REGIONS), printed
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for region, command in zip(REGIONS, commands, strict=True):
        url = urllib.parse.urlsplit(command[-1])
        assert command == ["curl", command[-1]] and url.path == "/prod/hi", command
        assert (url.hostname or "").endswith(".localhost") and url.port == port, command
        # *.localhost is loopback (RFC 6761); not every resolver says so, so connect there.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{url.path}", headers={"Host": url.netloc}
        )
        with opener.open(request, timeout=30) as answer:
            assert json.loads(answer.read()) == {"message": f"Hi from {region}", "region": region}


def _functions(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["function"]["name"], r["function"]["state"]) for r in data["regions"]}


def test_each_stack_sees_only_its_own_resources(
    launch_sandbox: Callable[..., SandboxProcess],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    sandbox = launch_sandbox()
    sandbox.wait_until_ready()
    rule = urllib.request.Request(  # as the session sandbox: no scaling-visibility delay
        f"{sandbox.endpoint}/_sandbox/rules", data=b'{"scaling_visible_after": 0}', method="POST"
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(rule, timeout=10):
        pass
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint)
    monkeypatch.setenv("FAILOVER_RESOLVE", f"*={sandbox.endpoint}")

    hello = tmp_path / "hello" / "failover.yaml"
    hello.parent.mkdir()
    hello.write_text("stack: hello\n" + DEFAULTS)
    up = failover(hello, "up", "--yes")
    assert up.exit_code == 0, up.stdout + up.stderr

    fresh = tmp_path / "fresh" / "failover.yaml"
    init = failover(fresh, "init", "--no-input", "--stack", "fresh", "--regions", ",".join(REGIONS))
    assert init.exit_code == 0, init.stdout + init.stderr
    assert "name: fresh-table" in fresh.read_text() and "name: fresh-function" in fresh.read_text()
    up = failover(fresh, "up", "--yes")
    assert up.exit_code == 0, up.stdout + up.stderr
    _call_the_printed_public_route(up.stdout, sandbox.port)

    # Each deployed stack's status is its own (the probes also write log events).
    run, data = _status(hello)
    assert data["deployed"] and data["not_ours"] == [], run.stdout
    assert _functions(data) == {("thelambda", "Active")}
    assert {r["table"]["name"] for r in data["regions"]} == {"prod.Hello"}
    run, data = _status(fresh)
    assert data["deployed"] and data["not_ours"] == [], run.stdout
    assert _functions(data) == {("fresh-function", "Active")}
    assert {r["table"]["name"] for r in data["regions"]} == {"fresh-table"}
    logs = failover(hello, "logs", "--since", "1h", "--json", "--platform")
    assert logs.exit_code == 0 and logs.stdout.strip(), logs.stdout + logs.stderr  # hello's events

    # A third stack that left the names at their defaults: hello's are not its own.
    other = tmp_path / "other" / "failover.yaml"
    other.parent.mkdir()
    other.write_text("stack: other\n" + DEFAULTS)
    run, data = _status(other)
    assert run.exit_code == 3 and not data["deployed"], run.stdout
    assert {(r["function"]["state"], r["table"]["status"]) for r in data["regions"]} == {
        ("not this stack's", "not this stack's")
    }
    assert len(data["not_ours"]) == 4  # table and function in both regions
    assert all("failover:stack=hello" in line for line in data["not_ours"]), data["not_ours"]
    assert all(r["probe"] is None for r in data["regions"])  # hello's function is not probed
    human = failover(other, "status")
    assert "not deployed" in human.stdout and "not this stack's" in human.stdout, human.stdout
    lines = human.stdout.splitlines()  # to a pipe: each sentence whole on its line
    assert all(any(line.strip() == said for line in lines) for said in data["not_ours"]), lines

    logs = failover(other, "logs", "--since", "1h", "--json", "--platform")
    assert logs.exit_code == 1 and logs.stdout.strip() == "", logs.stdout
    assert logs.stderr.count("not this stack's") == 2, logs.stderr
    assert "failover:stack=hello" in logs.stderr

    up = failover(other, "up", "--yes")
    assert up.exit_code == 1 and "stack hello's" in up.stderr, up.stderr  # refused, named

    for config in (fresh, hello):
        down = failover(config, "down", "--yes", "--keep-table")
        assert down.exit_code == 0, down.stdout + down.stderr
