"""`failover rotate-secret` end to end in a time-scaled sandbox with real health checkers.

While the command runs, a background thread samples GetHealthCheckStatus of every
check: no checker may report a failure at any point, and reports must really have
been made meanwhile. Afterwards boto3 finds the one new secret on every function
and check path (the old one gone), `plan` has nothing to change, and neither
secret ever appeared in the output. An error injected after step 1, or in step 4,
leaves a state the next run resumes from, converging to the same single secret.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from failover_cli.aws.clients import ClientFactory
from failover_cli.cli.state import AppState
from failover_cli.sandbox.route53.probe import RESPONSE_TIMED_OUT
from tests.conftest import SandboxProcess
from tests.e2e_helpers import (
    Run,
    client,
    failover,
    internal_client,
    unique_stack,
    write_config,
)
from tests.test_status_helpers import function_env, secret_of, use_sandbox

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"
REGIONS = (EAST, WEST)
TIME_SCALE = 20  # checkers every 10 emulated seconds: twice a real second
SETTLE_TIMEOUT = 60.0  # real seconds for fresh checks to report success everywhere
NEXT = "HEALTH_CHECKER_ID_NEXT"


def _check_ids(endpoint: str, stack: str) -> dict[str, str]:
    r53 = client("route53", EAST, endpoint)
    ids = [c["Id"] for c in r53.list_health_checks()["HealthChecks"]]
    found = {}
    for start in range(0, len(ids), 10):
        answer = r53.list_tags_for_resources(
            ResourceType="healthcheck", ResourceIds=ids[start : start + 10]
        )
        for tag_set in answer["ResourceTagSets"]:
            name = {t["Key"]: t["Value"] for t in tag_set["Tags"]}.get("Name", "")
            for region in REGIONS:
                if name == f"{stack}-{region}":
                    found[region] = tag_set["ResourceId"]
    assert set(found) == set(REGIONS), found
    return found


def _paths(endpoint: str, ids: dict[str, str]) -> dict[str, str]:
    r53 = client("route53", EAST, endpoint)
    return {
        r: r53.get_health_check(HealthCheckId=i)["HealthCheck"]["HealthCheckConfig"]["ResourcePath"]
        for r, i in ids.items()
    }


def _statuses(route53: Any, check_id: str) -> list[tuple[str, str, Any]]:
    answer = route53.get_health_check_status(HealthCheckId=check_id)
    return [
        (o["Region"], o["StatusReport"]["Status"], o["StatusReport"]["CheckedTime"])
        for o in answer["HealthCheckObservations"]
    ]


def _watcher(endpoint: str) -> Any:
    # Reads as the sandbox itself reads: the account's 1-a-second quota is the tool's.
    return internal_client("route53", EAST, endpoint)


def _settle(endpoint: str, ids: dict[str, str]) -> None:
    """Until every checker of every check has reported a success (a bounded wait)."""
    route53 = _watcher(endpoint)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        seen = [_statuses(route53, i) for i in ids.values()]
        if all(s and all(status.startswith("Success") for _, status, _ in s) for s in seen):
            return
        time.sleep(0.2)
    pytest.fail(f"the health checks never all reported success: {seen}")


@contextmanager
def _sampled(endpoint: str, ids: dict[str, str]) -> Iterator[list[tuple[str, str, Any]]]:
    """(check id, status, checked time) of every checker report sampled while the block runs.
    A failed reading ends the sampling and fails the test with its error."""
    reports: list[tuple[str, str, Any]] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    route53 = _watcher(endpoint)

    def sample() -> None:
        try:
            while not stop.is_set():
                for check_id in ids.values():
                    for _region, status, when in _statuses(route53, check_id):
                        reports.append((check_id, status, when))
                stop.wait(0.05)
        except Exception as error:  # reported by the test, not lost with the thread
            errors.append(error)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield reports
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not errors, f"the sampler stopped: {errors[0]!r}"


def _assert_never_failed(reports: list[tuple[str, str, Any]]) -> None:
    # A checker's 2-second answer limit is real time, and each new configuration starts
    # a fresh Python worker in the sandbox: on a loaded two-core machine that start can
    # outlast it. Such a timeout is the machine's, not the secret's; what a rotation
    # could break (a 403 for a secret the function refuses, a 5xx) is any other failure.
    failures = [
        r for r in reports if not r[1].startswith("Success") and r[1] != RESPONSE_TIMED_OUT
    ]
    assert failures == [], failures[:5]
    distinct = {(check_id, when) for check_id, _, when in reports}
    assert len(distinct) >= 2 * 3, "the checkers hardly reported during the rotation"


def _assert_hidden(runs: list[Run], *secrets: str) -> None:
    for run in runs:
        for secret in secrets:
            assert secret not in run.stdout and secret not in run.stderr


def _assert_converged(endpoint: str, stack: str, ids: dict[str, str], new: str, old: str) -> None:
    for region in REGIONS:
        variables = function_env(endpoint, region, f"{stack}-fn")
        assert variables["HEALTH_CHECKER_ID"] == new and NEXT not in variables
        assert old not in variables.values()
    for path in _paths(endpoint, ids).values():
        assert path == f"/prod/health?healthCheckerId={new}"


@pytest.fixture
def sandbox(
    launch_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SandboxProcess, str]]:
    process: SandboxProcess = launch_sandbox("--time-scale", str(TIME_SCALE))
    yield process, use_sandbox(monkeypatch, process)


def test_rotation_never_fails_a_check_and_leaves_up_converged(
    sandbox: tuple[SandboxProcess, str], tmp_path: Path
) -> None:
    _, endpoint = sandbox
    stack = unique_stack("rot")
    config = write_config(tmp_path, stack)
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    try:
        old = secret_of(endpoint, EAST, f"{stack}-fn")
        ids = _check_ids(endpoint, stack)
        _settle(endpoint, ids)
        with _sampled(endpoint, ids) as reports:
            run = failover(config, "rotate-secret", "--json")
        assert run.exit_code == 0, run.stderr
        _assert_never_failed(reports)

        new = secret_of(endpoint, EAST, f"{stack}-fn")
        assert new != old
        _assert_converged(endpoint, stack, ids, new, old)
        record = json.loads(run.stdout)
        assert record["resumed"] is False and record["new_secret"] == f"****({len(new)})"
        assert [f["promoted"] for f in record["functions"]] == [True, True]
        assert [c["switched"] for c in record["health_checks"]] == [True, True]

        plan = failover(config, "plan")
        assert plan.exit_code == 0, plan.stdout + plan.stderr
        human = failover(config, "rotate-secret")  # a second rotation, human output
        assert human.exit_code == 0, human.stderr
        assert "Rotated the health-checker secret" in human.stdout
        newer = secret_of(endpoint, EAST, f"{stack}-fn")
        assert newer not in (old, new)
        _assert_hidden([run, plan, human], old, new, newer)
    finally:
        assert failover(config, "down", "--yes").exit_code == 0


def _fail_once(monkeypatch: pytest.MonkeyPatch, operation: str, nth: int) -> None:
    """The nth call of `operation` in the next command raises an injected server error."""
    original = AppState.clients

    def clients(self: AppState) -> ClientFactory:
        factory = original(self)
        seen = {"count": 0}

        def hook(_service: str, _region: str, op: str, _params: dict[str, Any]) -> None:
            if op == operation:
                seen["count"] += 1
                if seen["count"] == nth:
                    error = {"Error": {"Code": "InternalFailure", "Message": "injected"}}
                    raise ClientError(error, op)  # type: ignore[arg-type]

        factory.add_hook(hook)
        return factory

    monkeypatch.setattr(AppState, "clients", clients)


@pytest.mark.parametrize(
    ("operation", "nth"),
    [
        ("UpdateHealthCheck", 1),  # right after step 1: both functions accept both secrets
        ("UpdateFunctionConfiguration", 3),  # in step 4: checks moved, a function not promoted
    ],
    ids=["after-step-1", "during-step-4"],
)
def test_an_interrupted_rotation_resumes_to_one_new_secret(
    sandbox: tuple[SandboxProcess, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    nth: int,
) -> None:
    _, endpoint = sandbox
    stack = f"rr{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path, stack)
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    fn = f"{stack}-fn"
    try:
        old = secret_of(endpoint, EAST, fn)
        ids = _check_ids(endpoint, stack)
        _settle(endpoint, ids)
        with _sampled(endpoint, ids) as reports:
            with monkeypatch.context() as patched:
                _fail_once(patched, operation, nth)
                broken = failover(config, "rotate-secret")
            assert broken.exit_code == 1
            assert "injected" in broken.stderr and "Traceback" not in broken.stderr
            pending = {function_env(endpoint, r, fn).get(NEXT) for r in REGIONS} - {None}
            assert len(pending) == 1, "the interrupted run left one pending secret"
            (new,) = pending
            paths = set(_paths(endpoint, ids).values())
            moved = f"/prod/health?healthCheckerId={new}"
            assert paths == (
                {moved}
                if operation == "UpdateFunctionConfiguration"
                else {f"/prod/health?healthCheckerId={old}"}
            )

            again = failover(config, "rotate-secret", "--json")
        assert again.exit_code == 0, again.stderr
        assert json.loads(again.stdout)["resumed"] is True
        _assert_never_failed(reports)
        _assert_converged(endpoint, stack, ids, new, old)
        plan = failover(config, "plan")
        assert plan.exit_code == 0, plan.stdout + plan.stderr
        _assert_hidden([broken, again, plan], old, new)
    finally:
        assert failover(config, "down", "--yes").exit_code == 0
