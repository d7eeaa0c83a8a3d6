"""The checkers' two seconds are the endpoint's own time: what a starved machine kept the
sandbox waiting is not counted (failover_cli/sandbox/starvation.py), yet a hung endpoint
is still said to be one, within a bounded wall time."""

from __future__ import annotations

import threading
import time

import pytest

from failover_cli.sandbox.route53.probe import MOST_STRETCH, answers_within
from failover_cli.sandbox.starvation import StallClock


class Starved(StallClock):
    """A machine where the sandbox waits for the CPU `share` of every wall second."""

    def __init__(self, share: float) -> None:
        super().__init__()
        self.share = share
        self.since = time.monotonic()

    def start(self) -> None:
        pass

    def stalled(self) -> float:
        return (time.monotonic() - self.since) * self.share


def _answer_after(answered: threading.Event, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, answered.set)
    timer.start()
    return timer


def test_the_clock_adds_up_how_late_its_thread_wakes() -> None:
    now = [0.0]
    lateness = iter([0.0, 0.3, 0.0, 0.25])

    def sleep(seconds: float) -> None:
        now[0] += seconds + next(lateness)

    clock = StallClock(tick=0.05, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        clock.tick_once()
    assert clock.stalled() == pytest.approx(0.55)


def test_an_answer_late_only_because_the_machine_was_starved_is_in_time() -> None:
    answered = threading.Event()
    answer = _answer_after(answered, 0.6)  # 0.6 s of wall time, 0.06 s the endpoint's own
    assert answers_within(answered, 0.3, Starved(share=0.9))
    answer.join()


def test_on_an_idle_machine_the_limit_is_the_wall_clocks() -> None:
    answered = threading.Event()
    answer = _answer_after(answered, 0.6)
    assert not answers_within(answered, 0.3, Starved(share=0.0))
    answer.join()


def test_a_hung_endpoint_times_out_even_on_a_machine_that_never_runs_it() -> None:
    started = time.monotonic()
    assert not answers_within(
        threading.Event(), 0.05, Starved(share=1.0)
    )  # no time of its own, ever
    assert time.monotonic() - started >= MOST_STRETCH * 0.05
