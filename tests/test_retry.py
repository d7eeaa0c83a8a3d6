"""The retry and wait helpers every handler relies on for eventual consistency."""

from __future__ import annotations

import threading
import time

import pytest

from failover_cli.aws.retry import Backoff, Cancelled, Clock, retry, wait_until
from failover_cli.errors import TimeoutExpired
from tests.engine_helpers import no_sleep_clock


class Flaky(Exception):
    pass


def test_retry_keeps_trying_a_retryable_error_until_it_succeeds() -> None:
    attempts = []

    def call() -> str:
        attempts.append(1)
        if len(attempts) < 4:
            raise Flaky()
        return "ok"

    result = retry(call, retryable=lambda e: isinstance(e, Flaky), clock=no_sleep_clock())
    assert result == "ok" and len(attempts) == 4


def test_retry_gives_up_when_the_budget_is_spent_and_never_retries_other_errors() -> None:
    clock = no_sleep_clock()
    with pytest.raises(Flaky):
        retry(
            lambda: (_ for _ in ()).throw(Flaky()),
            retryable=lambda e: isinstance(e, Flaky),
            backoff=Backoff(budget=30),
            clock=clock,
        )
    assert 0 < clock.now() <= 30
    calls = []

    def other() -> None:
        calls.append(1)
        raise ValueError("not transient")

    with pytest.raises(ValueError):
        retry(other, retryable=lambda e: isinstance(e, Flaky), clock=no_sleep_clock())
    assert calls == [1]


def test_wait_until_returns_the_first_truthy_answer_and_times_out_with_a_hint() -> None:
    answers = iter([None, None, "ACTIVE"])
    assert (
        wait_until(lambda: next(answers), what="x", timeout=60, clock=no_sleep_clock()) == "ACTIVE"
    )
    with pytest.raises(TimeoutExpired) as raised:
        wait_until(
            lambda: None, what="the replica", timeout=10, hint="Check it.", clock=no_sleep_clock()
        )
    assert "the replica" in raised.value.render() and "Check it." in raised.value.render()


def test_cancelling_the_clock_ends_a_long_wait_promptly() -> None:
    clock = Clock()
    outcome: list[BaseException] = []

    def waiter() -> None:
        try:
            wait_until(lambda: None, what="forever", timeout=3600, interval=60, clock=clock)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.1)
    clock.cancel()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert isinstance(outcome[0], Cancelled)
