"""How much of an every-step fault sweep one test run makes, and which part.

Cutting a command at every one of its steps, each cut on a stack of its own, is what
proves that any interruption converges (tests/step_faults.py). It is also most of the
suite's time on a two-core machine: a cut costs a fresh `up` of a stack. So a run
makes a rotating slice of each sweep: the steps whose number is `offset` modulo
`slices`, where the offset changes every day (UTC), so that every step is cut within
`slices` days of runs, and any day's slice can be made again.

- FAILOVER_TEST_SWEEP=full: every step, every run (before a release, or to hunt a bug).
- FAILOVER_TEST_SWEEP_DAY=N: the slice of day N (a failure message names its day).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

FULL_VARIABLE = "FAILOVER_TEST_SWEEP"
DAY_VARIABLE = "FAILOVER_TEST_SWEEP_DAY"


def _setting(name: str) -> str:
    """The variable as the test sets it, else as the run started: conftest hides every
    FAILOVER_* variable from the tests (the tool must not see the user's)."""
    from tests.conftest import STARTING_ENVIRON

    return (os.environ.get(name) or STARTING_ENVIRON.get(name) or "").strip()


def full_sweep() -> bool:
    return _setting(FULL_VARIABLE).lower() == "full"


def sweep_day() -> int:
    """The day whose slice this run makes: FAILOVER_TEST_SWEEP_DAY, else today (UTC)."""
    text = _setting(DAY_VARIABLE)
    return int(text) if text else int(time.time() // 86400)


def todays_slice(
    numbered: Sequence[tuple[int, T]], slices: int, *, shift: int = 0
) -> list[tuple[int, T]]:
    """The (step number, step) pairs this run cuts: all of them in a full sweep, else
    those whose number is the day's offset (plus `shift`: two sweeps of the same steps
    can take different slices) modulo `slices`."""
    if full_sweep() or slices <= 1:
        return list(numbered)
    offset = (sweep_day() + shift) % slices
    return [(n, step) for n, step in numbered if n % slices == offset]


def how_to_repeat() -> str:
    """Said with a failure: the environment that cuts the same steps again."""
    if full_sweep():
        return f"{FULL_VARIABLE}=full"
    return f"{DAY_VARIABLE}={sweep_day()} (or {FULL_VARIABLE}=full for every step)"


def failed_runs(failures: Sequence[str], runs: int) -> str:
    """A sweep's assertion message: how many runs failed, how to cut them again, each one."""
    return f"{len(failures)} of {runs} runs failed (again: {how_to_repeat()}):\n" + "\n".join(
        failures
    )
