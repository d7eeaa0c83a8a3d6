"""A release interrupted after each of its steps, by an error and by Ctrl-C.

A clean release is recorded: a converged two-region stack's `up` of new code, with a
canary (tests/step_faults.py RELEASE_DEPLOY), whose mutating calls are the steps:
per region UpdateFunctionCode ($LATEST), then, wave by wave, PublishVersion and the
two UpdateAlias of the canary and the full move. `up` is cut at every step, by an
error right after the call took effect (its answer lost) and by a real SIGINT just
before it goes out; each time every `live` alias still routes only to published
versions, and a re-run converges with every alias serving the release.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import Fault
from tests.step_faults import record_release_steps, run_steps

pytestmark = pytest.mark.sandbox

# UpdateFunctionCode x2, then per wave PublishVersion and UpdateAlias x2 (canary, full).
EXPECTED_STEPS = 8
PARTS = 2  # per fault: xdist spreads them instead of one test holding the end of the suite
WORKERS = 2  # per part
BUDGET_SECONDS = 540  # for a part's runs on a busy machine (about 4 minutes on a quiet one)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("part", range(PARTS))
@pytest.mark.parametrize(("fault", "after"), [(Fault.FAIL, True), (Fault.SIGINT, False)])
def test_a_release_cut_after_every_step_keeps_aliases_published_and_converges(
    sandbox_env: str, tmp_path: Path, fault: Fault, after: bool, part: int
) -> None:
    steps = record_release_steps(sandbox_env, tmp_path)
    assert len(steps) == EXPECTED_STEPS, [str(s) for s in steps]
    mine = list(enumerate(steps, start=1))[part::PARTS]
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
    assert not failures, f"{len(failures)} of {runs} runs failed:\n" + "\n".join(failures)
