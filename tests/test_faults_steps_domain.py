"""`up` of a stack with a custom domain interrupted after its steps: a sample.

The domain stack has 63 or 64 steps (the two regions' certificates share one
validation CNAME: the second region may find it in place and skip its UPSERT,
and which call is the n-th ChangeResourceRecordSets varies with that). Every
step the domain adds is interrupted
(certificates, their validation record, regional domain names, base path
mappings, alias records) and every fourth of the others, each followed by a
re-run that must converge to exactly one of everything and by a `down` that must
leave nothing, not even a record in the zone (tests/step_faults.py). A run cuts the
day's half of that sample (tests/sweep.py; FAILOVER_TEST_SWEEP=full: all of it).
test_faults_steps.py interrupts every step of the stack without domain.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import Step
from tests.step_faults import record_steps, run_steps
from tests.sweep import failed_runs, todays_slice

pytestmark = pytest.mark.sandbox

# Mutating calls of a clean `up` with a domain (failover routing): 13 more since issues
# 20/21 (per region PublishVersion, CreateAlias; the switch item's PutItem; each region's
# switch reader and CALCULATED check, each created and tagged).
EXPECTED_STEPS = (63, 64)
PARTS = 2  # tests, each of every PARTS-th sampled step: xdist spreads them
WORKERS = 2  # per part
BUDGET_SECONDS = 540  # for a part's runs on a busy machine
DOMAIN_OPERATIONS = {
    "RequestCertificate",
    "ChangeResourceRecordSets",
    "CreateDomainName",
    "CreateBasePathMapping",
}
STRIDE = 4
SLICES = 2  # a run cuts half the sample, the other half the next day


def _sample(steps: list[Step]) -> list[tuple[int, Step]]:
    """Every domain step that every run makes (a fourth record change may not happen), and
    every STRIDE-th of the others."""
    domain = {
        s
        for s in steps
        if s.operation in DOMAIN_OPERATIONS
        and not (s.operation == "ChangeResourceRecordSets" and s.occurrence > 3)
    }
    others = [s for s in steps if s.operation not in DOMAIN_OPERATIONS]
    chosen = domain | set(others[::STRIDE])
    return [(index, s) for index, s in enumerate(steps, start=1) if s in chosen]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("part", range(PARTS))
def test_up_with_a_domain_interrupted_after_its_steps_converges_and_down_removes_it(
    sandbox_env: str, tmp_path: Path, part: int
) -> None:
    steps = record_steps(sandbox_env, tmp_path, with_domain=True)
    assert len(steps) in EXPECTED_STEPS, (
        f"a clean up now makes {len(steps)} mutating calls, not {EXPECTED_STEPS}: "
        f"update EXPECTED_STEPS ({[str(s) for s in steps]})"
    )
    sample = _sample(steps)
    assert len([s for _, s in sample if s.operation in DOMAIN_OPERATIONS]) == 9
    mine = todays_slice(sample, SLICES)[part::PARTS]
    failures = run_steps(
        mine,
        endpoint=sandbox_env,
        folder=tmp_path,
        with_domain=True,
        workers=WORKERS,
        budget=BUDGET_SECONDS,
    )
    runs = 2 * len(mine)
    assert not failures, failed_runs(failures, runs)
