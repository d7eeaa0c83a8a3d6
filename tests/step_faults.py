"""`up` interrupted after a given step, then re-run or torn down: the machinery of
test_faults_steps*.py (no tests here).

A step is one mutating call of a recorded clean `up` (tests/faults.py `Step`). For
each step, two runs on stacks of their own: `up` fails right after that call took
effect (its answer is lost: AWS did work the tool never heard of).

The interrupted `up` exits 1 naming the error (or 0 where the tool notices that
the call took effect after all and carries on), then either

- "rerun": `up` again exits 0, `plan` exits 0, a boto3 inventory finds exactly one
  of everything (no duplicate left by the interrupted create), and `down` removes it;
- "down": `down` at once removes everything the partial `up` made, untagged
  leftovers included.

Runs are mostly waiting on the sandbox, so they go to forked worker processes,
several at once, and every failed run is reported, not only the first. The tool
keeps botocore's service models in one loader per process, warmed here by the
recorded run before the fork, so the workers do not parse them again.
"""

from __future__ import annotations

import multiprocessing
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e_helpers import Run, client, failover, write_config
from tests.faults import Fault, FaultInjector, Rule, Step, steps_of
from tests.stack_inventory import (
    CONVERGED_NO_DOMAIN,
    CONVERGED_WITH_DOMAIN,
    fingerprints,
    inventory,
)

THEN = ("rerun", "down")


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


@dataclass
class Outcome:
    task: Task
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        task = self.task
        return f"step {task.index} {task.step}, then {task.then}: " + "; ".join(self.problems)


def _failed(run: Run, what: str) -> str:
    return f"{what} exited {run.exit_code}: {(run.stderr or run.stdout)[-400:]}"


def _interrupted_up(config: Path, step: Step) -> tuple[Run, FaultInjector]:
    patch = pytest.MonkeyPatch()
    try:
        injector = FaultInjector([Rule.at_step(step, Fault.FAIL, after=True)]).install(patch)
        return failover(config, "up"), injector
    finally:
        patch.undo()


def check_step(task: Task) -> Outcome:
    outcome = Outcome(task)
    problems = outcome.problems
    endpoint = task.endpoint
    stack = f"s{task.index:02d}{task.then[0]}-{uuid.uuid4().hex[:6]}"
    layout = Layout.make(Path(task.folder) / stack, stack, endpoint, with_domain=task.with_domain)
    names = layout.names
    run, injector = _interrupted_up(layout.config, task.step)
    if injector.total() != 1:
        problems.append(f"the fault was not injected once ({injector.summary() or 'never'})")
    # Exit 1 naming the error; or 0 where the tool saw that the call took effect anyway
    # (a replica that is on its way) and carried on.
    named = run.exit_code == 1 and "InjectedFault" in run.stderr
    if not (named or run.exit_code == 0) or "Traceback" in run.stderr:
        problems.append(_failed(run, "the interrupted up"))
    seen = fingerprints(endpoint, stack, names["function"])
    if task.then == "rerun":
        up = failover(layout.config, "up")
        if up.exit_code != 0:
            problems.append(_failed(up, "up after it"))
        plan = failover(layout.config, "plan")
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


def _worker(task: Task) -> Outcome:
    try:
        return check_step(task)
    except Exception:
        return Outcome(task, [traceback.format_exc(limit=6)])


def record_steps(endpoint: str, folder: Path, *, with_domain: bool) -> list[Step]:
    """The mutating calls of a clean `up` (and a clean `down` after it)."""
    stack = f"rec-{uuid.uuid4().hex[:8]}"
    layout = Layout.make(folder / stack, stack, endpoint, with_domain=with_domain)
    clean = failover(layout.config, "up")
    assert clean.exit_code == 0, clean.stderr
    names = layout.names
    seen = fingerprints(endpoint, stack, names["function"])
    have = inventory(endpoint, stack, seen=seen, **names)
    assert {kind: len(found) for kind, found in have.items()} == layout.converged, have
    assert failover(layout.config, "down", "--yes").exit_code == 0
    assert inventory(endpoint, stack, seen=seen, **names) == {}
    layout.drop_zone(endpoint)
    return steps_of(clean.calls)


def run_steps(
    steps: Sequence[tuple[int, Step]],
    *,
    endpoint: str,
    folder: Path,
    with_domain: bool,
    workers: int,
    budget: float,
) -> list[str]:
    """Every (index, step) interrupted, then re-run and torn down: what went wrong."""
    tasks = [
        Task(index, step, then, str(folder), endpoint, with_domain)
        for index, step in steps
        for then in THEN
    ]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        outcomes = pool.map_async(_worker, tasks, chunksize=1).get(timeout=budget)
    return [o.describe() for o in outcomes if o.problems]
