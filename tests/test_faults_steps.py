"""`up` interrupted after each of its steps in turn (every step, not a sample).

A clean `up` of a stack without domain is recorded (FAILOVER_CALL_LOG): its
mutating calls are the steps. For every step there are two runs, each on a
stack of its own: `up` fails right after that call took effect (the answer is
lost: the harmful case, since AWS did the work the tool never heard of), then

- `up` again exits 0, `plan` then exits 0, and a boto3 inventory finds exactly one
  of everything (no duplicate left by the interrupted create), and `down` removes it;
- or `down` at once removes everything the partial `up` made: a boto3 inventory
  finds nothing of the stack, not even an untagged leftover.

78 runs of 2 to 4 commands against one sandbox take minutes one after another,
but each is mostly waiting on the sandbox: they run in forked worker processes,
several at once (each its own stack), and the test reports every step that
failed, not only the first. Every command's boto3 session reads botocore's
service models from one loader warmed before the fork, which saves parsing JSON
(a real CLI run loads each model once anyway) and is most of a command's CPU here.
"""

from __future__ import annotations

import multiprocessing
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

from failover_cli.aws.clients import ClientFactory
from failover_cli.cli.state import AppState
from tests.e2e_helpers import Run, failover, write_config
from tests.faults import Fault, FaultInjector, Rule, Step, steps_of
from tests.stack_inventory import CONVERGED_NO_DOMAIN, fingerprints, inventory

pytestmark = pytest.mark.sandbox

# The mutating calls of a clean `up` of `write_config`'s stack (no domain). When the
# tool's steps change, this changes with them: the test then says so.
EXPECTED_STEPS = 39
WORKERS = 4
BUDGET_SECONDS = 270  # pytest-timeout (pyproject) stops the test at 300


@dataclass(frozen=True)
class Task:
    index: int
    step: Step
    then: str  # "rerun" (up, plan, inventory, down) or "down" (down at once)
    folder: str


@dataclass
class Outcome:
    task: Task
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"step {self.task.index} {self.task.step}, then {self.task.then}: " + "; ".join(
            self.problems
        )


def _share_service_models(patch: pytest.MonkeyPatch) -> None:
    loader = boto3.Session()._session.get_component("data_loader")
    original = AppState.clients

    def clients(state: AppState) -> ClientFactory:
        factory = original(state)
        factory.session._session.register_component("data_loader", loader)
        return factory

    patch.setattr(AppState, "clients", clients)


def _names(stack: str) -> dict[str, str]:
    return {"table": f"{stack}.Hello", "function": f"{stack}-fn"}


def _failed(run: Run, what: str) -> str:
    return f"{what} exited {run.exit_code}: {(run.stderr or run.stdout)[-400:]}"


def _interrupted_up(config: Path, step: Step) -> tuple[Run, FaultInjector]:
    patch = pytest.MonkeyPatch()
    try:
        injector = FaultInjector([Rule.at_step(step, Fault.FAIL, after=True)]).install(patch)
        return failover(config, "up"), injector
    finally:
        patch.undo()


def _check_step(task: Task, endpoint: str) -> Outcome:
    outcome = Outcome(task)
    problems = outcome.problems
    stack = f"s{task.index:02d}{task.then[0]}-{uuid.uuid4().hex[:6]}"
    folder = Path(task.folder) / stack
    folder.mkdir(parents=True)
    config = write_config(folder, stack)
    names = _names(stack)
    run, injector = _interrupted_up(config, task.step)
    if injector.total() != 1:
        problems.append(f"the fault was not injected once ({injector.summary() or 'never'})")
    if run.exit_code != 1 or "InjectedFault" not in run.stderr or "Traceback" in run.stderr:
        problems.append(_failed(run, "the interrupted up"))
    seen = fingerprints(endpoint, stack, names["function"])
    if task.then == "rerun":
        up = failover(config, "up")
        if up.exit_code != 0:
            problems.append(_failed(up, "up after it"))
        plan = failover(config, "plan")
        if plan.exit_code != 0:
            problems.append(_failed(plan, "plan after the re-run"))
        seen.add(fingerprints(endpoint, stack, names["function"]))
        have = inventory(endpoint, stack, seen=seen, **names)
        counts = {kind: len(found) for kind, found in have.items()}
        if counts != CONVERGED_NO_DOMAIN:
            problems.append(f"not exactly one of each after the re-run: {have}")
    down = failover(config, "down", "--yes")
    if down.exit_code != 0:
        problems.append(_failed(down, "down"))
    left = inventory(endpoint, stack, seen=seen, **names)
    if left:
        problems.append(f"left behind after down: {left}")
    return outcome


def _worker(job: tuple[Task, str]) -> Outcome:
    task, endpoint = job
    try:
        return _check_step(task, endpoint)
    except Exception:
        return Outcome(task, [traceback.format_exc(limit=6)])


def _record_steps(sandbox: str, folder: Path) -> list[Step]:
    stack = f"rec-{uuid.uuid4().hex[:8]}"
    config = write_config(folder, stack)
    clean = failover(config, "up")
    assert clean.exit_code == 0, clean.stderr
    steps = steps_of(clean.calls)
    seen = fingerprints(sandbox, stack, _names(stack)["function"])
    assert failover(config, "down", "--yes").exit_code == 0
    assert inventory(sandbox, stack, seen=seen, **_names(stack)) == {}
    return steps


def test_up_interrupted_after_every_step_converges_and_down_removes_it(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _share_service_models(monkeypatch)
    steps = _record_steps(sandbox_env, tmp_path)
    assert len(steps) == EXPECTED_STEPS, (
        f"a clean up now makes {len(steps)} mutating calls, not {EXPECTED_STEPS}: "
        f"update EXPECTED_STEPS ({[str(s) for s in steps]})"
    )
    assert len(set(steps)) == len(steps)
    tasks = [
        (Task(index, step, then, str(tmp_path)), sandbox_env)
        for index, step in enumerate(steps, start=1)
        for then in ("rerun", "down")
    ]
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        outcomes = pool.map_async(_worker, tasks, chunksize=1).get(timeout=BUDGET_SECONDS)
    failures = [o.describe() for o in outcomes if o.problems]
    assert not failures, f"{len(failures)} of {len(outcomes)} runs failed:\n" + "\n".join(failures)
