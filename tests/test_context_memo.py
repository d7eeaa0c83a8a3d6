"""Context.memo: one computation per key and run, even when many threads ask at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from failover_cli.engine.context import Context
from tests.engine_helpers import make_config


def _context() -> Context:
    return Context(config=make_config(), clients=object())  # type: ignore[arg-type]


def _ask_from(threads: int, ask: object) -> list[object]:
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(ask) for _ in range(threads)]  # type: ignore[arg-type]
        return [f.result() for f in futures]


def _asked_while_computing(
    ctx: Context, key: str, compute: Callable[[], str], threads: int
) -> list[Future[str]]:
    """`threads` threads ask for `key`; all but the first while the first still computes
    (`compute` runs once the first has started it and the others have asked)."""
    started, release = threading.Event(), threading.Event()

    def held() -> str:
        started.set()
        release.wait(10)
        return compute()

    with ThreadPoolExecutor(threads) as pool:
        first = pool.submit(ctx.memo, key, held)
        assert started.wait(10)
        others = [pool.submit(ctx.memo, key, held) for _ in range(threads - 1)]
        release.set()
    return [first, *others]


def test_threads_asking_at_once_share_one_computation() -> None:
    ctx, calls = _context(), []

    def compute() -> str:
        calls.append(1)
        return "listing"

    futures = _asked_while_computing(ctx, "route53:health-checks", compute, 6)
    assert [f.result() for f in futures] == ["listing"] * 6
    assert len(calls) == 1


def test_an_error_reaches_every_waiting_thread_and_is_not_kept() -> None:
    ctx = _context()

    def failing() -> str:
        raise RuntimeError("region unreachable")

    for future in _asked_while_computing(ctx, "key", failing, 3):
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
