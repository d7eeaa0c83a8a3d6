"""Ctrl-C during `up` and `down`: a real SIGINT at a sample of their steps.

The runner's cancel path (KeyboardInterrupt in the main thread while the wave's
workers are calling AWS) is what a user meets most. A clean `up` and the `down`
after it are recorded; every STRIDE-th step of each (from an offset that changes
every day, tests/sweep.py, so every step is cut within STRIDE days; and the last)
gets a SIGINT just before the call goes out (calls in flight then still end,
as they do before the process exits). The command must exit 130 saying to
re-run it, then the same checks as the error faults of test_faults_steps.py
(tests/step_faults.py): a re-run `up` converges to exactly one of everything by a
boto3 inventory and `down` leaves nothing; a re-run `down` leaves nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import Fault, Step
from tests.step_faults import record_steps, run_steps
from tests.sweep import failed_runs, todays_slice

pytestmark = pytest.mark.sandbox

STRIDE = {"up": 8, "down": 5}  # 41 and 21 steps: 6 and 5 of them
WORKERS = 2  # per command
BUDGET_SECONDS = 540  # on a busy machine


def _sample(steps: list[Step], stride: int) -> list[tuple[int, Step]]:
    numbered = list(enumerate(steps, start=1))
    return sorted({*todays_slice(numbered, stride), numbered[-1]}, key=lambda pair: pair[0])


@pytest.mark.timeout(600)
@pytest.mark.parametrize("command", ["up", "down"])
def test_ctrl_c_at_a_sample_of_steps_exits_130_and_the_rerun_converges(
    sandbox_env: str, tmp_path: Path, command: str
) -> None:
    steps = record_steps(sandbox_env, tmp_path, with_domain=False, command=command)
    sample = _sample(steps, STRIDE[command])
    assert len(sample) >= 5, [str(s) for s in steps]
    thens = ("rerun", "down") if command == "up" else ("down",)
    failures = run_steps(
        sample,
        endpoint=sandbox_env,
        folder=tmp_path,
        with_domain=False,
        workers=WORKERS,
        budget=BUDGET_SECONDS,
        command=command,
        fault=Fault.SIGINT,
        after=False,
        thens=thens,
    )
    runs = len(sample) * len(thens)
    assert not failures, failed_runs(failures, runs)
