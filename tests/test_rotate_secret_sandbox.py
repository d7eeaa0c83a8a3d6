"""`failover rotate-secret` end to end in a time-scaled sandbox with real health checkers.

While the command runs, a background thread samples GetHealthCheckStatus of every
check: no checker may report a failure at any point, and reports must really have
been made meanwhile. Afterwards boto3 finds the one new secret on every function
and check path (the old one gone), `plan` has nothing to change, and neither
secret ever appeared in the output. A rotation cut at each of its steps (an error,
a lost answer, Ctrl-C) leaves at most one pending secret, and the next run resumes
to it, converging to that single secret, with no checker failing meanwhile.
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

from failover_cli.errors import mask
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
from tests.faults import Fault, Rule, steps_of
from tests.step_faults import cut_problems, interrupted
from tests.sweep import failed_runs, todays_slice
from tests.test_status_helpers import function_env, secret_of, use_sandbox

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"
REGIONS = (EAST, WEST)
TIME_SCALE = 20  # checkers every 10 emulated seconds: twice a real second
SETTLE_TIMEOUT = 60.0  # real seconds for fresh checks to report success everywhere
NEXT = "HEALTH_CHECKER_ID_NEXT"
# A checker reports every 0.5 real s, and its report stays until its next one: sampling
# every 0.2 s still sees each report, without reading every check 20 times a second for
# the whole test on a two-core machine.
SAMPLE_SECONDS = 0.2


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
                stop.wait(SAMPLE_SECONDS)
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
    failures = [r for r in reports if not r[1].startswith("Success") and r[1] != RESPONSE_TIMED_OUT]
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
        # Each region's probe and the switch reader it hosts: every path carries the secret.
        assert [c["switched"] for c in record["health_checks"]] == [True, True, True, True]

        plan = failover(config, "plan", "--detailed-exitcode")
        assert plan.exit_code == 0, plan.stdout + plan.stderr
        human = failover(config, "rotate-secret")  # a second rotation, human output
        assert human.exit_code == 0, human.stderr
        assert "Rotated the health-checker secret" in human.stdout
        newer = secret_of(endpoint, EAST, f"{stack}-fn")
        assert newer not in (old, new)
        _assert_hidden([run, plan, human], old, new, newer)
    finally:
        assert failover(config, "down", "--yes").exit_code == 0


# How a rotation is cut at a step: an error before the call, the call's answer lost
# after it took effect, or Ctrl-C (a real SIGINT) just before it goes out. The value's
# last item shifts the fault's daily slice, so the three faults cut different steps.
CUTS = {
    "error": (Fault.FAIL, False, 0),
    "lost-answer": (Fault.FAIL, True, 1),
    "sigint": (Fault.SIGINT, False, 2),
}
# accept x2 and promote x2, each an operational edit the `live` alias must serve (issue 21):
# UpdateFunctionConfiguration, PublishVersion (of that $LATEST, by RevisionId, waited
# Active) and UpdateAlias (to that version only); switch x4 (UpdateHealthCheck: each
# region's probe and the switch reader it hosts).
ROTATION_STEPS = 2 * 3 + 4 + 2 * 3
SLICES = 4  # a run cuts a quarter of the steps per fault (tests/sweep.py), all in 4 days


def _cut_and_resume(
    config: Path, endpoint: str, stack: str, ids: dict[str, str], rule: Rule, label: str
) -> tuple[list[Run], set[str], str | None]:
    """The rotation cut by `rule`, then re-run: (both runs, the secrets seen, what went
    wrong or None). At most one secret is pending after the cut, only that one is resumed
    to, and the re-run converges on it."""
    fn = f"{stack}-fn"
    before = secret_of(endpoint, EAST, fn)
    broken, injector = interrupted(config, ("rotate-secret",), rule)
    if injector.total() != 1:
        return [broken], {before}, f"{label}: struck {injector.summary() or 'nothing'}"
    problems = cut_problems(broken, rule.fault, label)
    if problems:
        return [broken], {before}, "; ".join(problems)
    pending = {function_env(endpoint, r, fn).get(NEXT) for r in REGIONS} - {None}
    if len(pending) > 1:
        return [broken], {before}, f"{label}: {len(pending)} pending secrets"
    again = failover(config, "rotate-secret", "--json")
    if again.exit_code != 0:
        return [broken, again], {before}, f"{label}: the re-run failed: {again.stderr[-400:]}"
    resumed = json.loads(again.stdout)["resumed"]
    now = secret_of(endpoint, EAST, fn)
    if resumed is not bool(pending) or now == before or (pending and {now} != pending):
        said = f"pending {sorted(map(mask, pending))}, resumed {resumed}, now {mask(now)}"
        return [broken, again], {before, now}, f"{label}: {said}"
    _assert_converged(endpoint, stack, ids, now, before)  # a later cut needs it converged
    return [broken, again], {before, now}, None


@pytest.mark.timeout(900)  # a quarter of 16 steps cut (all 16 in a full sweep), each resumed
@pytest.mark.parametrize("cut", list(CUTS))
def test_a_rotation_cut_at_every_step_resumes_to_one_secret_and_no_check_fails(
    sandbox: tuple[SandboxProcess, str], tmp_path: Path, cut: str
) -> None:
    """Each step of a recorded clean rotation is cut in turn (tests/faults.py; a daily
    slice of them, tests/sweep.py). After each cut at most one secret is pending, and only
    the pending one is ever resumed to; the re-run converges (every function and check on
    one new secret, none pending). No checker reports a failure through all of it, and
    `plan` has nothing to change."""
    _, endpoint = sandbox
    fault, after, shift = CUTS[cut]
    stack = f"rc{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path, stack)
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    runs: list[Run] = []
    secrets: set[str] = set()
    failures: list[str] = []
    try:
        ids = _check_ids(endpoint, stack)
        _settle(endpoint, ids)
        with _sampled(endpoint, ids) as reports:
            clean = failover(config, "rotate-secret")
            assert clean.exit_code == 0, clean.stderr
            steps = steps_of(clean.calls)
            assert len(steps) == ROTATION_STEPS, [str(s) for s in steps]
            mine = todays_slice(list(enumerate(steps, start=1)), SLICES, shift=shift)
            for index, step in mine:
                rule = Rule.at_step(step, fault, after=after)
                made, seen, problem = _cut_and_resume(
                    config, endpoint, stack, ids, rule, f"{cut} at step {index} {step}"
                )
                runs += made
                secrets |= seen
                if problem is not None:  # converged again, so that the next cut means something
                    failures.append(problem)
                    runs.append(failover(config, "rotate-secret"))
        assert not failures, failed_runs(failures, len(mine))
        _assert_never_failed(reports)
        plan = failover(config, "plan", "--detailed-exitcode")
        assert plan.exit_code == 0, plan.stdout + plan.stderr
        _assert_hidden([clean, *runs, plan], *secrets)
    finally:
        assert failover(config, "down", "--yes").exit_code == 0


def test_a_rotation_keeps_a_forced_out_regions_reader_objecting_throughout(
    sandbox: tuple[SandboxProcess, str], tmp_path: Path
) -> None:
    """The readers' paths carry the secret too. With us-east-1 forced out, us-west-2's reader
    of it must see the marker at every report of the rotation: one answer refused for its
    secret (no marker) would count as "no objection" and bring us-east-1 back into DNS."""
    _, endpoint = sandbox
    stack = unique_stack("rotsw")
    config = write_config(tmp_path, stack)
    assert failover(config, "up").exit_code == 0
    try:
        probes = _check_ids(endpoint, stack)
        assert failover(config, "force-fail", "--region", EAST).exit_code == 0
        reader = _named(endpoint, f"{stack}-{EAST}-read-in-{WEST}")
        _settle(endpoint, {**probes, "reader": reader})  # the reader sees the marker
        old_path = _paths(endpoint, {"reader": reader})["reader"]
        with _sampled(endpoint, {**probes, "reader": reader}) as reports:
            run = failover(config, "rotate-secret")
        assert run.exit_code == 0, run.stderr
        _assert_never_failed(reports)  # probes: success; the reader: the marker, each time
        assert _paths(endpoint, {"reader": reader})["reader"] != old_path  # it moved
        assert failover(config, "force-fail", "--region", EAST, "--restore").exit_code == 0
    finally:
        assert failover(config, "down", "--yes").exit_code == 0


def _named(endpoint: str, name: str) -> str:
    r53 = client("route53", EAST, endpoint)
    for check in r53.list_health_checks()["HealthChecks"]:
        tags = r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"])
        if {"Key": "Name", "Value": name} in tags["ResourceTagSet"]["Tags"]:
            return str(check["Id"])
    raise AssertionError(f"no health check named {name}")
