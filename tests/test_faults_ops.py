"""`drill` and `force-fail` interrupted at each of their phases, against the session sandbox.

Interruptions are a real SIGINT (Ctrl-C: KeyboardInterrupt in the main thread, and
the drill's shield sees it) or an AWS error, struck at a chosen call:

- drill: before the write, right after it, during the failover watch, during the
  restore, during the failback watch. FORCE_FAIL ends false every time, every other
  variable as it was, and the output says it was restored.
- force-fail: before the write, right after it, while Lambda applies it, during the
  --wait watch, and a --restore right after its write. FORCE_FAIL ends with the old
  or the new value (nothing else in the environment changes) and the output says
  which one it is.

Drills run with --timeout 1s: without a time-scaled sandbox the health check
cannot turn within it, which keeps each run short; what is checked is where
FORCE_FAIL ends and what the drill says, not the phases.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e_helpers import Run, client, failover, write_config
from tests.faults import Fault, FaultInjector, Rule, Step

pytestmark = pytest.mark.sandbox
EAST = "us-east-1"
UPDATE = "lambda:UpdateFunctionConfiguration"


@dataclass(frozen=True)
class Cut:
    phase: str
    fault: Fault
    rule: Rule


def _write(n: int, fault: Fault, *, after: bool = False) -> Rule:
    return Rule.at_step(Step("lambda", EAST, "UpdateFunctionConfiguration", n), fault, after=after)


def _first_read_after(writes: int, operation: str, fault: Fault) -> Rule:
    return Rule(fault, operations=(operation,), armed_after=(UPDATE, writes), nth=1)


def _cuts(phases: dict[str, object]) -> list[Cut]:
    return [
        Cut(phase, fault, make(fault))  # type: ignore[operator]
        for phase, make in phases.items()
        for fault in (Fault.SIGINT, Fault.FAIL)
    ]


DRILL_CUTS = _cuts(
    {
        "before the write": lambda f: _write(1, f),
        "after the write": lambda f: _write(1, f, after=True),
        "during the failover watch": lambda f: _first_read_after(1, "GetHealthCheckStatus", f),
        "during the restore": lambda f: _write(2, f),
        "during the failback watch": lambda f: _first_read_after(2, "GetHealthCheckStatus", f),
    }
)
FORCE_FAIL_CUTS = _cuts(
    {
        "before the write": lambda f: _write(1, f),
        "after the write": lambda f: _write(1, f, after=True),
        "while Lambda applies it": lambda f: _first_read_after(1, "GetFunctionConfiguration", f),
        "during the --wait watch": lambda f: _first_read_after(1, "GetHealthCheckStatus", f),
    }
)


@pytest.fixture
def stack(sandbox_env: str, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    name = f"ops-{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path, name)
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    fn = f"{name}-fn"
    for region in (EAST, "us-west-2"):  # a variable added by hand must survive everything
        lam = client("lambda", region, sandbox_env)
        merged = {**_env(sandbox_env, fn, region), "OPERATOR_NOTE": "added by hand"}
        lam.update_function_configuration(FunctionName=fn, Environment={"Variables": merged})
    yield config, fn
    assert failover(config, "down", "--yes").exit_code == 0


def _env(endpoint: str, fn: str, region: str = EAST) -> dict[str, str]:
    answer = client("lambda", region, endpoint).get_function_configuration(FunctionName=fn)
    variables: dict[str, str] = answer["Environment"]["Variables"]
    return variables


def _cut(monkeypatch: pytest.MonkeyPatch, config: Path, cut: Cut, *args: str) -> Run:
    with monkeypatch.context() as patched:
        injector = FaultInjector([cut.rule]).install(patched)
        run = failover(config, *args)
    assert injector.total() == 1, f"{cut}: struck {injector.summary() or 'nothing'}"
    return run


def test_a_drill_interrupted_at_any_phase_restores_force_fail_and_says_so(
    sandbox_env: str, stack: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, fn = stack
    before = _env(sandbox_env, fn)
    assert before["FORCE_FAIL"] == "false"
    problems = []
    for cut in DRILL_CUTS:
        run = _cut(monkeypatch, config, cut, "drill", "--region", EAST, "--timeout", "1s")
        said = run.stdout + run.stderr
        wanted_exit = 130 if cut.fault is Fault.SIGINT else 1
        if run.exit_code != wanted_exit or "Traceback" in said:
            problems.append(f"{cut.phase}/{cut.fault}: exit {run.exit_code}: {said[-600:]}")
        if _env(sandbox_env, fn) != before:
            problems.append(f"{cut.phase}/{cut.fault}: environment now {_env(sandbox_env, fn)}")
        restored = (
            "FORCE_FAIL is off in us-east-1" in said
            if cut.fault is Fault.SIGINT
            else "FORCE_FAIL was restored" in said or "Restored FORCE_FAIL=false" in said
        )
        if not restored:
            problems.append(f"{cut.phase}/{cut.fault}: does not say it restored: {said[-600:]}")
        if _env(sandbox_env, fn)["FORCE_FAIL"] != "false":  # let the next cut start clean
            failover(config, "force-fail", "--region", EAST, "--restore")
    assert not problems, "\n".join(problems)


def test_force_fail_interrupted_at_any_point_leaves_old_or_new_and_says_which(
    sandbox_env: str, stack: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, fn = stack
    before = _env(sandbox_env, fn)
    problems = []
    cuts = [(cut, ("force-fail", "--region", EAST)) for cut in FORCE_FAIL_CUTS[:6]]
    cuts += [
        (cut, ("force-fail", "--region", EAST, "--wait", "--timeout", "0.1s"))
        for cut in FORCE_FAIL_CUTS[6:]
    ]
    for cut, args in cuts:
        run = _cut(monkeypatch, config, cut, *args)
        said = run.stdout + run.stderr
        now = _env(sandbox_env, fn)
        value = now["FORCE_FAIL"]
        label = f"{cut.phase}/{cut.fault}"
        if now != {**before, "FORCE_FAIL": value} or value not in ("true", "false"):
            problems.append(f"{label}: environment clobbered: {now}")
        wanted_exit = 130 if cut.fault is Fault.SIGINT else 1
        if run.exit_code != wanted_exit or "Traceback" in said:
            problems.append(f"{label}: exit {run.exit_code}: {said[-600:]}")
        if f"FORCE_FAIL is {value}" not in said and f"FORCE_FAIL is still {value}" not in said:
            problems.append(f"{label}: FORCE_FAIL is {value}, output says: {said[-600:]}")
        if value == "true":
            assert failover(config, "force-fail", "--region", EAST, "--restore").exit_code == 0
    assert not problems, "\n".join(problems)

    # --restore cut right after its write took effect: restored, and it says so.
    assert failover(config, "force-fail", "--region", EAST).exit_code == 0
    cut = Cut("restore after the write", Fault.SIGINT, _write(1, Fault.SIGINT, after=True))
    run = _cut(monkeypatch, config, cut, "force-fail", "--region", EAST, "--restore")
    assert run.exit_code == 130, run.stderr
    assert "FORCE_FAIL is false in us-east-1: the change took effect" in run.stderr
    assert _env(sandbox_env, fn) == before


def test_a_write_whose_resend_lambda_refuses_still_counts_as_written(
    sandbox_env: str, stack: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer to the write is lost, botocore resends it with the same RevisionId and
    Lambda refuses it (PreconditionFailed): the variable is set, by us. force-fail must
    report the change and follow it with --wait, not call it someone else's."""
    config, fn = stack
    refused = Rule.at_step(
        Step("lambda", EAST, "UpdateFunctionConfiguration", 1),
        Fault.FAIL,
        after=True,
        code="PreconditionFailedException",
    )
    with monkeypatch.context() as patched:
        FaultInjector([refused]).install(patched)
        run = failover(
            config, "force-fail", "--region", EAST, "--wait", "--timeout", "1s", "--json"
        )
    assert run.exit_code == 1, run.stderr  # the health check cannot turn within 1s
    report = json.loads(run.stdout)
    assert report["changed"] is True and report["phases"], report
    assert _env(sandbox_env, fn)["FORCE_FAIL"] == "true"
    assert failover(config, "force-fail", "--region", EAST, "--restore").exit_code == 0
