"""`drill` and `force-fail` interrupted at each of their phases, against the session sandbox.

Interruptions are a real SIGINT (Ctrl-C: KeyboardInterrupt in the main thread, and
the drill's shield sees it) or an AWS error, struck at a chosen call:

- drill: before the switch write, right after it, during the failover watch, during the
  restore, during the failback watch. The switch ends with the region in service every
  time, and the output says it was restored.
- force-fail: while reading the switch, before the write, right after it, during the
  --wait watch, and a --restore right after its write. The switch ends with the old or
  the new state (one UpdateItem: never half-written) and the output says which one it is.

The stack has two regions, so us-east-1 is forced out through us-west-2's replica alone:
its state is read there. Drills run with --timeout 1s: what is checked is where the switch
ends and what the drill says, not the phases.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.e2e_helpers import Run, client, failover, write_config
from tests.faults import Fault, FaultInjector, Rule, Step

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"
UPDATE = "dynamodb:UpdateItem"


@dataclass(frozen=True)
class Cut:
    phase: str
    fault: Fault
    rule: Rule


def _write(n: int, fault: Fault, *, after: bool = False) -> Rule:
    return Rule.at_step(Step("dynamodb", WEST, "UpdateItem", n), fault, after=after)


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
        "while reading the switch": lambda f: Rule(f, operations=("GetItem",), nth=1),
        "before the write": lambda f: _write(1, f),
        "after the write": lambda f: _write(1, f, after=True),
        "during the --wait watch": lambda f: _first_read_after(1, "GetHealthCheckStatus", f),
    }
)


@pytest.fixture(autouse=True)
def patient_switch_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The switch calls' 5 s read time-out, made ample for a sandbox on a busy machine. A
    write answered later than that is resent, its resend refused (the write took effect):
    the tool rightly reads its own write back, but the cut "after the write" strikes a call
    that answered, so it struck nothing. What is cut here is the write, not its deadline."""
    from failover_cli.services import switch_replicas

    patient = replace(switch_replicas.SWITCH_CALL, read_timeout=30, call_budget=60)
    monkeypatch.setattr(switch_replicas, "SWITCH_CALL", patient)


@pytest.fixture
def stack(sandbox_env: str, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    name = f"ops-{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path, name)
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    yield config, f"{name}.Hello"
    assert failover(config, "down", "--yes").exit_code == 0


def _out(endpoint: str, table: str) -> bool:
    """Whether us-west-2's replica (the one written) has us-east-1 forced out."""
    item = client("dynamodb", WEST, endpoint).get_item(
        TableName=table, Key={"HelloKey": {"S": "failover:switch"}}, ConsistentRead=True
    )["Item"]
    return EAST in item["forced_out"]["M"]


def _cut(monkeypatch: pytest.MonkeyPatch, config: Path, cut: Cut, *args: str) -> Run:
    with monkeypatch.context() as patched:
        injector = FaultInjector([cut.rule]).install(patched)
        run = failover(config, *args)
    assert injector.total() == 1, (
        f"{cut}: struck {injector.summary() or 'nothing'}; exit {run.exit_code}: "
        f"{run.stderr[-600:]}"
    )
    return run


def test_a_drill_interrupted_at_any_phase_restores_the_switch_and_says_so(
    sandbox_env: str, stack: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, table = stack
    assert not _out(sandbox_env, table)
    problems = []
    for cut in DRILL_CUTS:
        run = _cut(monkeypatch, config, cut, "drill", "--region", EAST, "--timeout", "1s")
        said = run.stdout + run.stderr
        wanted_exit = 130 if cut.fault is Fault.SIGINT else 1
        if run.exit_code != wanted_exit or "Traceback" in said:
            problems.append(f"{cut.phase}/{cut.fault}: exit {run.exit_code}: {said[-600:]}")
        if _out(sandbox_env, table):
            problems.append(f"{cut.phase}/{cut.fault}: us-east-1 still forced out")
            failover(config, "force-fail", "--region", EAST, "--restore")  # start clean
        restored = (
            "us-east-1 is back in the switch" in said
            if cut.fault is Fault.SIGINT
            else "Restored us-east-1 in the switch" in said
        )
        if not restored:
            problems.append(f"{cut.phase}/{cut.fault}: does not say it restored: {said[-600:]}")
    assert not problems, "\n".join(problems)


def test_force_fail_interrupted_at_any_point_leaves_old_or_new_and_says_which(
    sandbox_env: str, stack: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, table = stack
    problems = []
    cuts = [(cut, ("force-fail", "--region", EAST)) for cut in FORCE_FAIL_CUTS[:6]]
    cuts += [
        (cut, ("force-fail", "--region", EAST, "--wait", "--timeout", "0.1s"))
        for cut in FORCE_FAIL_CUTS[6:]
    ]
    for cut, args in cuts:
        run = _cut(monkeypatch, config, cut, *args)
        said = " ".join((run.stdout + run.stderr).split())
        out = _out(sandbox_env, table)
        label = f"{cut.phase}/{cut.fault}"
        wanted_exit = 130 if cut.fault is Fault.SIGINT else 1
        if run.exit_code != wanted_exit or "Traceback" in said:
            problems.append(f"{label}: exit {run.exit_code}: {said[-600:]}")
        says = (
            ("has us-east-1 forced out", "us-east-1 is forced out")
            if out
            else (
                "still has us-east-1 in service",
                "the switch is as it was for us-east-1",
                "nothing was written",
            )
        )
        if not any(s in said for s in says):
            problems.append(f"{label}: forced out {out}, output says: {said[-600:]}")
        if out:
            assert failover(config, "force-fail", "--region", EAST, "--restore").exit_code == 0
    assert not problems, "\n".join(problems)

    # --restore cut right after its write took effect: restored, and it says so.
    assert failover(config, "force-fail", "--region", EAST).exit_code == 0
    cut = Cut("restore after the write", Fault.SIGINT, _write(1, Fault.SIGINT, after=True))
    run = _cut(monkeypatch, config, cut, "force-fail", "--region", EAST, "--restore")
    assert run.exit_code == 130, run.stderr
    said = " ".join(run.stderr.split())
    assert "The switch has us-east-1 in service: the change took effect" in said
    assert not _out(sandbox_env, table)


def test_a_write_whose_resend_the_replica_refuses_still_counts_as_written(
    sandbox_env: str, stack: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer to the write is lost, botocore resends it and the replica refuses it (its
    condition no longer holds: the entry is there, the revision moved): the switch is set,
    by us. force-fail must report the change and follow it with --wait, not call it
    someone else's."""
    config, table = stack
    refused = Rule.at_step(
        Step("dynamodb", WEST, "UpdateItem", 1),
        Fault.FAIL,
        after=True,
        code="ConditionalCheckFailedException",
    )
    with monkeypatch.context() as patched:
        FaultInjector([refused]).install(patched)
        run = failover(
            config, "force-fail", "--region", EAST, "--wait", "--timeout", "1s", "--json"
        )
    assert run.exit_code == 1, run.stderr  # the readers cannot see it within 1s
    report = json.loads(run.stdout)
    assert report["changed"] is True and report["phases"], report
    assert report["written_in"] == WEST and _out(sandbox_env, table)
    assert failover(config, "force-fail", "--region", EAST, "--restore").exit_code == 0
