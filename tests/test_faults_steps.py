"""`up` interrupted after each of its steps in turn (every step, over three days of runs).

A clean `up` of a stack without domain is recorded (FAILOVER_CALL_LOG): its
mutating calls are the steps, 54 of them. For every step, `up` fails right after
that call took effect, then on one stack `up` again and `plan` converge to exactly
one of everything, and on another `down` at once leaves nothing of the stack
(tests/step_faults.py). A run cuts the day's third of the steps (tests/sweep.py:
every step within three days of runs; FAILOVER_TEST_SWEEP=full cuts all 54, 108
runs), in forked workers against the session sandbox, in PARTS tests of every
PARTS-th step, so that xdist spreads them over its workers instead of one test
holding the end of the suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.step_faults import record_steps, run_steps
from tests.sweep import failed_runs, todays_slice

pytestmark = pytest.mark.sandbox

# The mutating calls of a clean `up` of `write_config`'s stack (no domain). When the
# tool's steps change, this changes with them: the test then says so.
# 54 since issues 20/21: per region PublishVersion and CreateAlias (`live`), the switch
# item (PutItem), and four more health checks, each tagged (the switch reader and the
# CALCULATED check of each region).
EXPECTED_STEPS = 54
SLICES = 3  # a run cuts every third step (18 of 54), a different third each day
PARTS = 3  # 6 steps (12 runs) a part: well inside the timeout on a busy machine
WORKERS = 2  # per part
BUDGET_SECONDS = 540  # for a part's runs on a busy machine


@pytest.mark.timeout(600)
@pytest.mark.parametrize("part", range(PARTS))
def test_up_interrupted_after_every_step_converges_and_down_removes_it(
    sandbox_env: str, tmp_path: Path, part: int
) -> None:
    steps = record_steps(sandbox_env, tmp_path, with_domain=False)
    assert len(steps) == EXPECTED_STEPS, (
        f"a clean up now makes {len(steps)} mutating calls, not {EXPECTED_STEPS}: "
        f"update EXPECTED_STEPS ({[str(s) for s in steps]})"
    )
    assert len(set(steps)) == len(steps)
    mine = todays_slice(list(enumerate(steps, start=1)), SLICES)[part::PARTS]
    failures = run_steps(
        mine,
        endpoint=sandbox_env,
        folder=tmp_path,
        with_domain=False,
        workers=WORKERS,
        budget=BUDGET_SECONDS,
    )
    runs = 2 * len(mine)
    assert not failures, failed_runs(failures, runs)
