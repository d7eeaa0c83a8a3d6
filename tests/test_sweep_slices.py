"""The every-step sweeps' daily slices (tests/sweep.py): over `slices` days every step is
cut exactly once, a full sweep cuts everything, and a day's slice can be made again."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.step_faults import recorded_once
from tests.sweep import DAY_VARIABLE, FULL_VARIABLE, failed_runs, todays_slice

STEPS = [(n, f"step {n}") for n in range(1, 55)]


def test_over_as_many_days_as_slices_every_step_is_cut_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cut: list[int] = []
    for day in range(20_000, 20_003):
        monkeypatch.setenv(DAY_VARIABLE, str(day))
        today = todays_slice(STEPS, 3)
        assert len(today) == 18
        cut += [n for n, _ in today]
    assert sorted(cut) == [n for n, _ in STEPS]


def test_a_shift_gives_another_sweep_of_the_same_steps_the_other_half(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(DAY_VARIABLE, "20001")
    first = {n for n, _ in todays_slice(STEPS, 2)}
    second = {n for n, _ in todays_slice(STEPS, 2, shift=1)}
    assert first.isdisjoint(second) and first | second == {n for n, _ in STEPS}


def test_a_full_sweep_cuts_every_step_and_says_how_to_repeat_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(FULL_VARIABLE, "full")
    assert todays_slice(STEPS, 3) == STEPS
    assert f"{FULL_VARIABLE}=full" in failed_runs(["x"], 2)


def test_a_failure_names_the_day_that_makes_the_same_slice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(DAY_VARIABLE, "20002")
    message = failed_runs(["up fail at step 3", "up fail at step 6"], 36)
    assert message.startswith("2 of 36 runs failed")
    assert f"{DAY_VARIABLE}=20002" in message and "up fail at step 6" in message


def test_a_recording_is_made_once_and_shared(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "one-run")
    made: list[int] = []

    def record() -> list[int]:
        made.append(1)
        return [len(made)]

    assert recorded_once("k", record) == [1]
    assert recorded_once("k", record) == [1]
    assert made == [1]


def test_the_variables_count_as_the_run_was_started_with_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # conftest removes FAILOVER_* from every test's environment: the sweep reads them
    # as `FAILOVER_TEST_SWEEP=full python -m pytest` started the run.
    from tests import conftest

    monkeypatch.setitem(conftest.STARTING_ENVIRON, FULL_VARIABLE, "full")
    assert FULL_VARIABLE not in os.environ
    assert todays_slice(STEPS, 4) == STEPS
