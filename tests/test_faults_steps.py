"""`up` interrupted after each of its steps in turn (every step, not a sample).

A clean `up` of a stack without domain is recorded (FAILOVER_CALL_LOG): its
mutating calls are the steps, 39 of them. For every step, `up` fails right after
that call took effect, then on one stack `up` again and `plan` converge to exactly
one of everything, and on another `down` at once leaves nothing of the stack
(tests/step_faults.py). 78 runs in forked workers against the session sandbox.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.step_faults import record_steps, run_steps

pytestmark = pytest.mark.sandbox

# The mutating calls of a clean `up` of `write_config`'s stack (no domain). When the
# tool's steps change, this changes with them: the test then says so.
EXPECTED_STEPS = 41  # UpdateStage per region: the stage throttle
WORKERS = 4
BUDGET_SECONDS = 270  # pytest-timeout (pyproject) stops the test at 300


def test_up_interrupted_after_every_step_converges_and_down_removes_it(
    sandbox_env: str, tmp_path: Path
) -> None:
    steps = record_steps(sandbox_env, tmp_path, with_domain=False)
    assert len(steps) == EXPECTED_STEPS, (
        f"a clean up now makes {len(steps)} mutating calls, not {EXPECTED_STEPS}: "
        f"update EXPECTED_STEPS ({[str(s) for s in steps]})"
    )
    assert len(set(steps)) == len(steps)
    failures = run_steps(
        list(enumerate(steps, start=1)),
        endpoint=sandbox_env,
        folder=tmp_path,
        with_domain=False,
        workers=WORKERS,
        budget=BUDGET_SECONDS,
    )
    runs = 2 * len(steps)
    assert not failures, f"{len(failures)} of {runs} runs failed:\n" + "\n".join(failures)
