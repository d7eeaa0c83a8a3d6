"""Mutating commands when a region stops answering (us-west-2's endpoints hang, injected
between botocore and the sandbox): each stops within its deadline with one paragraph that
names the region and says what was and was not done, exit 1, and a later run finishes.
`drill` refuses at once (exit 2); `down --skip-unreachable` deletes what answers and
lists the rest. The time guard only catches a hang; the figures are in the benchmarks, and
the hangs here run on shortened deadlines (e2e_helpers.short_hang_deadlines).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e_helpers import Run, failover, short_hang_deadlines, unique_stack, write_config
from tests.engine_helpers import is_mutating
from tests.faults import Fault, FaultInjector, Rule

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"
NO_HANG = 150.0  # seconds: a guard against hanging (botocore's defaults: ten minutes a call)


def _out(
    monkeypatch: pytest.MonkeyPatch, config: Path, *args: str, rule: Rule | None = None
) -> Run:
    with monkeypatch.context() as patched:
        short_hang_deadlines(patched)
        FaultInjector([rule or Rule(Fault.HANG, regions=(WEST,))]).install(patched)
        started = time.monotonic()
        run = failover(config, *args)
        assert time.monotonic() - started < NO_HANG, run.stderr
    assert "Traceback" not in run.stderr
    return run


@pytest.fixture
def deployed(sandbox_env: str, tmp_path: Path) -> Iterator[Path]:
    config = write_config(tmp_path, unique_stack("outcmd"))
    assert failover(config, "up").exit_code == 0
    yield config
    failover(config, "down", "--yes")


def test_up_drill_and_rotate_secret_stop_before_any_change(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    up = _out(monkeypatch, deployed, "up")
    assert up.exit_code == 1 and up.mutating == []
    assert "`up` stopped: us-west-2 is unreachable" in up.stderr
    assert "Done: nothing" in up.stderr and "once us-west-2 answers" in up.stderr

    drill = _out(monkeypatch, deployed, "drill", "--region", EAST)
    assert drill.exit_code == 2 and drill.mutating == []
    assert "Refusing to start a drill on us-east-1: us-west-2 is unreachable" in drill.stderr

    rotate = _out(monkeypatch, deployed, "rotate-secret")
    assert rotate.exit_code == 1 and rotate.mutating == []
    assert "us-west-2 is unreachable" in rotate.stderr and "changed nothing" in rotate.stderr


def test_down_stops_or_skips_the_unreachable_region_and_finishes_later(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped = _out(monkeypatch, deployed, "down", "--yes")
    assert stopped.exit_code == 1 and stopped.mutating == []
    assert "us-west-2 is unreachable" in stopped.stderr and "--skip-unreachable" in stopped.stderr

    # The table stays (--keep-table): its replica in the unreachable region blocks its delete.
    partial = _out(monkeypatch, deployed, "down", "--yes", "--keep-table", "--skip-unreachable")
    assert partial.exit_code == 0, partial.stderr
    assert partial.mutating  # what answers is deleted
    assert not [c for c in partial.calls if c["region"] == WEST and is_mutating(c["op"])]
    assert "Not reached" in partial.stdout and f"({WEST})" in partial.stdout

    rest = failover(deployed, "down", "--yes")  # the region answers again: the rest, table too
    assert rest.exit_code == 0, rest.stderr
    assert rest.mutating
    assert failover(deployed, "down", "--yes").mutating == []


def test_up_stopped_midway_says_what_was_done_and_a_rerun_converges(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, unique_stack("outmid"))
    # us-west-2 stops answering once the first function exists.
    rule = Rule(Fault.HANG, regions=(WEST,), armed_after=("lambda:CreateFunction", 1))
    try:
        run = _out(monkeypatch, config, "up", rule=rule)
        assert run.exit_code == 1, run.stderr
        assert "`up` stopped: us-west-2 is unreachable" in run.stderr
        assert "Done: " in run.stderr and "Done: nothing" not in run.stderr
        assert "Not done: " in run.stderr
        again = failover(config, "up")
        assert again.exit_code == 0, again.stderr
        assert failover(config, "up").mutating == []
    finally:
        assert failover(config, "down", "--yes").exit_code == 0
