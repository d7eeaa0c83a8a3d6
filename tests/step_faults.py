"""A command cut at a given step, then re-run or torn down: the machinery of
test_faults_steps*.py and test_faults_interrupts.py (no tests here).

A step is one mutating call of a recorded clean `up` or `down` (tests/faults.py
`Step`). For each step, runs on stacks of their own: the command is cut there by the
fault of tests/faults.py asked for, by default an error right after the call took
effect (its answer is lost: AWS did work the tool never heard of), or a real SIGINT
(Ctrl-C). A `down` is cut on a converged stack.

The cut command exits 130 on SIGINT, 1 naming the error otherwise (or 0 where the
tool notices that the call took effect after all and carries on), saying to re-run
it, never with a traceback; then either

- "rerun" (of `up`): `up` again exits 0, `plan` exits 0, a boto3 inventory finds
  exactly one of everything (no duplicate left by the interrupted create), and `down`
  removes it;
- "down": `down` at once (after a cut `down`: again) removes everything of the
  stack, untagged leftovers included.

A release (command "release", check_release_step): a converged stack's `up` of new
code is cut at one of its steps; right after, every `live` alias routes only to
published versions; a re-run `up` exits 0, `plan` has nothing left, and every alias
serves the release.

Runs are mostly waiting on the sandbox, so they go to forked worker processes,
several at once, and every failed run is reported, not only the first. The tool
keeps botocore's service models in one loader per process, warmed here by the
recorded run before the fork, so the workers do not parse them again.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import pickle
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.e2e_helpers import Run, client, failover, write_config, write_release
from tests.faults import INJECTED_CODE, Fault, FaultInjector, Rule, Step, steps_of
from tests.stack_inventory import (
    CONVERGED_NO_DOMAIN,
    CONVERGED_WITH_DOMAIN,
    fingerprints,
    inventory,
)

T = TypeVar("T")
THEN = ("rerun", "down")
# A release's steps (command "release"): a converged stack's `up` of new code, rolled with
# a canary so that both of a wave's alias moves are steps; no bake, the gates' requests run.
RELEASE_DEPLOY = "deploy:\n  bake: 0s\n  canary_percent: 50\n"


@dataclass(frozen=True)
class Layout:
    """Where a stack lives: its config, and with a domain its own hosted zone."""

    stack: str
    config: Path
    domain: str | None = None
    zone_id: str | None = None

    @classmethod
    def make(cls, folder: Path, stack: str, endpoint: str, *, with_domain: bool) -> Layout:
        folder.mkdir(parents=True, exist_ok=True)
        if not with_domain:
            return cls(stack, write_config(folder, stack))
        zone, domain = f"{stack}.test", f"app.{stack}.test"
        zone_id = client("route53", "us-east-1", endpoint).create_hosted_zone(
            Name=zone, CallerReference=uuid.uuid4().hex
        )["HostedZone"]["Id"]
        extra = f"domain:\n  name: {domain}\n  hosted_zone: {zone}\n  routing: failover\n"
        return cls(stack, write_config(folder, stack, extra), domain, zone_id)

    @property
    def names(self) -> dict[str, Any]:
        return {
            "table": f"{self.stack}.Hello",
            "function": f"{self.stack}-fn",
            "domain": self.domain,
            "zone_id": self.zone_id,
        }

    @property
    def converged(self) -> dict[str, int]:
        return CONVERGED_WITH_DOMAIN if self.domain else CONVERGED_NO_DOMAIN

    def drop_zone(self, endpoint: str) -> None:
        if self.zone_id:
            client("route53", "us-east-1", endpoint).delete_hosted_zone(Id=self.zone_id)


@dataclass(frozen=True)
class Task:
    index: int
    step: Step
    then: str  # one of THEN
    folder: str
    endpoint: str
    with_domain: bool
    command: str = "up"  # the command cut: "up", or "down" of a converged stack
    fault: Fault = Fault.FAIL
    after: bool = True  # strike once the call took effect (its answer is lost)


@dataclass
class Outcome:
    task: Task
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        task = self.task
        return (
            f"{task.command} {task.fault.value} at step {task.index} {task.step}, "
            f"then {task.then}: " + "; ".join(self.problems)
        )


def _failed(run: Run, what: str) -> str:
    """Why a command failed: its ✗ lines and its Error line (which names each failure and its
    cause), else the end of its output."""
    text = run.stderr or run.stdout
    why = [line.strip() for line in text.splitlines() if "✗" in line or line.startswith("Error")]
    detail = " | ".join(why)[:2000] if why else text[-400:]
    return f"{what} exited {run.exit_code}: {detail}"


def _args(command: str) -> tuple[str, ...]:
    return ("down", "--yes") if command == "down" else (command,)


def interrupted(config: Path, args: tuple[str, ...], rule: Rule) -> tuple[Run, FaultInjector]:
    """`failover <args>` with `rule` struck (a fresh injector, undone afterwards).

    Returns once the threads the command started have ended, as its process would only
    exit then (concurrent.futures joins its workers at exit): a call in flight when
    Ctrl-C landed still completes, and what is read afterwards includes it."""
    before = set(threading.enumerate())
    patch = pytest.MonkeyPatch()
    try:
        injector = FaultInjector([rule]).install(patch)
        run = failover(config, *args)
    finally:
        patch.undo()
    deadline = time.monotonic() + 120
    for thread in set(threading.enumerate()) - before:
        if not thread.daemon:
            thread.join(timeout=120)
            # On Python 3.11 a join that Ctrl-C interrupted (inside the command) marks the
            # thread as stopped while it still runs, and every later join returns at once
            # (bpo-45274): it has really ended only once it has left threading.enumerate().
            while thread in threading.enumerate() and time.monotonic() < deadline:
                time.sleep(0.05)
    return run, injector


def cut_problems(run: Run, fault: Fault, what: str) -> list[str]:
    """What is wrong with how an interrupted command ended: SIGINT (Ctrl-C) exits 130
    saying how to resume; an error exits 1 naming it and saying to re-run, or 0 where
    the tool saw that the call took effect anyway (a replica on its way) and carried on."""
    said = run.stderr.lower()
    if "Traceback" in run.stderr:
        return [_failed(run, what)]
    if fault is Fault.SIGINT:
        ok = run.exit_code == 130 and "re-run" in said
    else:
        ok = run.exit_code == 0 or (
            run.exit_code == 1 and INJECTED_CODE.lower() in said and "re-run" in said
        )
    return [] if ok else [_failed(run, what)]


def check_step(task: Task) -> Outcome:
    outcome = Outcome(task)
    problems = outcome.problems
    endpoint = task.endpoint
    stack = f"s{task.index:02d}{task.then[0]}-{uuid.uuid4().hex[:6]}"
    layout = Layout.make(Path(task.folder) / stack, stack, endpoint, with_domain=task.with_domain)
    names = layout.names
    if task.command == "down":
        up = failover(layout.config, "up")
        if up.exit_code != 0:
            return Outcome(task, [_failed(up, "the up before the cut down")])
    rule = Rule.at_step(task.step, task.fault, after=task.after)
    run, injector = interrupted(layout.config, _args(task.command), rule)
    if injector.total() != 1:
        problems.append(f"the fault was not injected once ({injector.summary() or 'never'})")
    problems += cut_problems(run, task.fault, f"the interrupted {task.command}")
    seen = fingerprints(endpoint, stack, names["function"])
    if task.command == "up" and task.then == "rerun":
        up = failover(layout.config, "up")
        if up.exit_code != 0:
            problems.append(_failed(up, "up after it"))
        plan = failover(layout.config, "plan", "--detailed-exitcode")
        if plan.exit_code != 0:
            problems.append(_failed(plan, "plan after the re-run"))
        seen.add(fingerprints(endpoint, stack, names["function"]))
        have = inventory(endpoint, stack, seen=seen, **names)
        if {kind: len(found) for kind, found in have.items()} != layout.converged:
            problems.append(f"not exactly one of each after the re-run: {have}")
    down = failover(layout.config, "down", "--yes")
    if down.exit_code != 0:
        problems.append(_failed(down, "down"))
    left = inventory(endpoint, stack, seen=seen, **names)
    if left:
        problems.append(f"left behind after down: {left}")
    else:
        layout.drop_zone(endpoint)
    return outcome


def release_layout(folder: Path, stack: str) -> tuple[Path, Path]:
    """(config, source) of a stack whose function code is `source` (the first release)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "code"
    write_release(source, "first")
    extra = f"  source: {source}\n" + RELEASE_DEPLOY
    return write_config(folder, stack, extra), source


def published_aliases(endpoint: str, function: str) -> list[str]:
    """What is wrong with the `live` aliases: each must exist and route only to published
    versions (never `$LATEST`, never a weight left by a canary)."""
    problems = []
    for region in ("us-east-1", "us-west-2"):
        lam = client("lambda", region, endpoint)
        try:
            alias = lam.get_alias(FunctionName=function, Name="live")
        except lam.exceptions.ResourceNotFoundException:
            problems.append(f"{region}: no alias")
            continue
        versions = [alias["FunctionVersion"]]
        versions += list((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
        if not all(v.isdigit() for v in versions):
            problems.append(f"{region}: the alias routes to {versions}")
    return problems


def check_release_step(task: Task) -> Outcome:
    """A release `up` cut at `task.step`: the aliases stay on published versions, and a
    re-run serves the release everywhere with nothing left to do."""
    outcome = Outcome(task)
    problems = outcome.problems
    stack = f"r{task.index:02d}{task.fault.value[0]}-{uuid.uuid4().hex[:6]}"
    config, source = release_layout(Path(task.folder) / stack, stack)
    function = f"{stack}-fn"
    up = failover(config, "up")
    if up.exit_code != 0:
        return Outcome(task, [_failed(up, "the first up")])
    write_release(source, "second")
    rule = Rule.at_step(task.step, task.fault, after=task.after)
    run, injector = interrupted(config, ("up",), rule)
    if injector.total() != 1:
        problems.append(f"the fault was not injected once ({injector.summary() or 'never'})")
    problems += cut_problems(run, task.fault, "the interrupted release")
    problems += [f"after the cut: {p}" for p in published_aliases(task.endpoint, function)]
    again = failover(config, "up")
    if again.exit_code != 0:
        problems.append(_failed(again, "up after it"))
    plan = failover(config, "plan", "--detailed-exitcode")
    if plan.exit_code != 0:
        problems.append(_failed(plan, "plan after the re-run"))
    problems += [f"after the re-run: {p}" for p in published_aliases(task.endpoint, function)]
    for region in ("us-east-1", "us-west-2"):
        lam = client("lambda", region, task.endpoint)
        live = lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"]
        served = lam.get_function_configuration(FunctionName=function, Qualifier=live)
        latest = lam.get_function_configuration(FunctionName=function)
        if served["CodeSha256"] != latest["CodeSha256"]:
            problems.append(f"{region}: version {live} does not serve the release")
    down = failover(config, "down", "--yes")
    if down.exit_code != 0:
        problems.append(_failed(down, "down"))
    return outcome


def recorded_once(key: str, record: Callable[[], T]) -> T:
    """`record()` made once per test run and shared by every test (and xdist worker) that
    asks with the same key: a sweep's parts then slice one and the same list of steps
    (their order between regions varies from one recording to the next), and the clean
    run each recording costs is made once, not once a part."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    folder = Path(tempfile.gettempdir()) / f"failover-steps-{run}"
    folder.mkdir(exist_ok=True)
    path = folder / f"{key}.pickle"
    with open(folder / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait for the first to record
        if path.exists():
            made: T = pickle.loads(path.read_bytes())
            return made
        made = record()
        path.write_bytes(pickle.dumps(made))
        return made


def record_release_steps(endpoint: str, folder: Path) -> list[Step]:
    """The mutating calls of a clean release `up` (a converged stack, new code)."""
    return recorded_once("release", lambda: _record_release_steps(endpoint, folder))


def _record_release_steps(endpoint: str, folder: Path) -> list[Step]:
    stack = f"rrec-{uuid.uuid4().hex[:8]}"
    config, source = release_layout(folder / stack, stack)
    assert failover(config, "up").exit_code == 0
    write_release(source, "second")
    release = failover(config, "up")
    assert release.exit_code == 0, release.stderr
    assert failover(config, "down", "--yes").exit_code == 0
    return steps_of(release.calls)


def _worker(task: Task) -> Outcome:
    try:
        if task.command == "release":
            return check_release_step(task)
        return check_step(task)
    except BaseException:  # a SIGINT that escaped the command too: reported, not fatal
        return Outcome(task, [traceback.format_exc(limit=6)])


def record_steps(
    endpoint: str, folder: Path, *, with_domain: bool, command: str = "up"
) -> list[Step]:
    """The mutating calls of a clean `up`, or of the clean `down` after it."""
    both = recorded_once(
        "domain" if with_domain else "plain",
        lambda: _record_steps(endpoint, folder, with_domain=with_domain),
    )
    return both[command]


def _record_steps(endpoint: str, folder: Path, *, with_domain: bool) -> dict[str, list[Step]]:
    stack = f"rec-{uuid.uuid4().hex[:8]}"
    layout = Layout.make(folder / stack, stack, endpoint, with_domain=with_domain)
    clean = failover(layout.config, "up")
    assert clean.exit_code == 0, clean.stderr
    names = layout.names
    seen = fingerprints(endpoint, stack, names["function"])
    have = inventory(endpoint, stack, seen=seen, **names)
    assert {kind: len(found) for kind, found in have.items()} == layout.converged, have
    down = failover(layout.config, "down", "--yes")
    assert down.exit_code == 0, down.stderr
    assert inventory(endpoint, stack, seen=seen, **names) == {}
    layout.drop_zone(endpoint)
    return {"up": steps_of(clean.calls), "down": steps_of(down.calls)}


def run_steps(
    steps: Sequence[tuple[int, Step]],
    *,
    endpoint: str,
    folder: Path,
    with_domain: bool,
    workers: int,
    budget: float,
    command: str = "up",
    fault: Fault = Fault.FAIL,
    after: bool = True,
    thens: Sequence[str] = THEN,
) -> list[str]:
    """Every (index, step) of `command` interrupted by `fault`, then re-run or torn down:
    what went wrong."""
    tasks = [
        Task(index, step, then, str(folder), endpoint, with_domain, command, fault, after)
        for index, step in steps
        for then in thens
    ]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        outcomes = pool.map_async(_worker, tasks, chunksize=1).get(timeout=budget)
    return [o.describe() for o in outcomes if o.problems]
