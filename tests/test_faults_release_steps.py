"""A release interrupted after each of its steps, by an error and by Ctrl-C.

A clean release is recorded: a converged two-region stack's `up` of new code, with a
canary (tests/step_faults.py RELEASE_DEPLOY), whose mutating calls are the steps:
per region UpdateFunctionCode ($LATEST), then, wave by wave, PublishVersion and the
two UpdateAlias of the canary and the full move. `up` is cut at every step, by an
error right after the call took effect (its answer lost) and by a real SIGINT just
before it goes out; each time every `live` alias still routes only to published
versions, and a re-run converges with every alias serving the release. A run cuts
the day's half of the steps by each fault (tests/sweep.py; FAILOVER_TEST_SWEEP=full:
all of them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import Fault
from tests.step_faults import record_release_steps, run_steps
from tests.sweep import failed_runs, todays_slice

pytestmark = pytest.mark.sandbox

# UpdateFunctionCode x2, then per wave PublishVersion and UpdateAlias x2 (canary, full).
EXPECTED_STEPS = 8
SLICES = 2  # a run cuts half the steps, the other half the next day
WORKERS = 2  # per part
BUDGET_SECONDS = 540  # for a part's runs on a busy machine (about 4 minutes on a quiet one)


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("fault", "after"), [(Fault.FAIL, True), (Fault.SIGINT, False)])
def test_a_release_cut_after_every_step_keeps_aliases_published_and_converges(
    sandbox_env: str, tmp_path: Path, fault: Fault, after: bool
) -> None:
    steps = record_release_steps(sandbox_env, tmp_path)
    assert len(steps) == EXPECTED_STEPS, [str(s) for s in steps]
    # The other fault cuts the other half: both halves are cut every run.
    shift = 0 if fault is Fault.FAIL else 1
    mine = todays_slice(list(enumerate(steps, start=1)), SLICES, shift=shift)
    failures = run_steps(
        mine,
        endpoint=sandbox_env,
        folder=tmp_path,
        with_domain=False,
        workers=WORKERS,
        budget=BUDGET_SECONDS,
        command="release",
        fault=fault,
        after=after,
        thens=("rerun",),
    )
    runs = len(mine)
    assert not failures, failed_runs(failures, runs)
