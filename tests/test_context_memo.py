"""Context.memo: one computation per key and run, even when many threads ask at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from failover_cli.engine.context import Context
from tests.engine_helpers import make_config


def _context() -> Context:
    return Context(config=make_config(), clients=object())  # type: ignore[arg-type]


def _ask_from(threads: int, ask: object) -> list[object]:
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(ask) for _ in range(threads)]  # type: ignore[arg-type]
        return [f.result() for f in futures]


def test_threads_asking_at_once_share_one_computation() -> None:
    ctx, calls, started = _context(), [], threading.Event()
    release = threading.Event()

    def compute() -> str:
        calls.append(1)
        started.set()
        release.wait(10)  # the others ask while this one is still reading
        return "listing"

    def ask() -> str:
        return ctx.memo("route53:health-checks", compute)

    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(ask)
        assert started.wait(10)
        others = [pool.submit(ask) for _ in range(5)]
        release.set()
        answers = [first.result(), *(f.result() for f in others)]
    assert answers == ["listing"] * 6
    assert len(calls) == 1


def test_an_error_reaches_every_waiting_thread_and_is_not_kept() -> None:
    ctx, started, release = _context(), threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        release.wait(10)
        raise RuntimeError("region unreachable")

    def ask() -> str:
        return ctx.memo("key", failing)

    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(ask)
        assert started.wait(10)
        others = [pool.submit(ask) for _ in range(2)]
        release.set()
        for future in [first, *others]:
            with pytest.raises(RuntimeError, match="region unreachable"):
                future.result()
    assert ctx.memo("key", lambda: "later") == "later"  # the next run of the read asks again


def test_forgetting_during_a_computation_keeps_neither_it_nor_a_wait_on_it() -> None:
    ctx, started, release = _context(), threading.Event(), threading.Event()

    def stale() -> str:
        started.set()
        release.wait(10)
        return "before the change"

    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(ctx.memo, "key", stale)
        assert started.wait(10)
        ctx.forget("key")  # a write happened: whoever asks now must read again
        assert ctx.memo("key", lambda: "after the change") == "after the change"
        release.set()
        assert reading.result() == "after the change"  # the answer kept is the fresh one
    assert ctx.memo("key", lambda: "again") == "after the change"


def test_a_computation_that_asks_for_its_own_key_does_not_wait_for_itself() -> None:
    ctx = _context()

    def outer() -> str:
        return "outer:" + ctx.memo("key", lambda: "inner")

    assert _ask_from(1, lambda: ctx.memo("key", outer)) == ["inner"]
