"""Run one piece of work per region in parallel; an AWS error names its region.

Used by the operations that act on every region at once (`gc-logs`,
`rotate-secret`). Every region finishes before the first error is raised, so a
failure in one region never leaves another's work cut off halfway.

On Ctrl-C no region's work begins any more, `on_interrupt` asks the work begun to
stop at its next wait (a context's `clock.cancel`), and the interrupt is raised only
once that work has ended: what is read next (the re-run, or the user) is what was
written, and the process does not exit with a write in mid-air. Thread.join cannot
be trusted for that wait: on Python 3.11 a join interrupted by Ctrl-C marks the
still-running thread as stopped (bpo-45274), so every later join of it, the
interpreter's at exit included, returns at once while it still writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

from failover_cli.aws.errors import translate
from failover_cli.engine.begin_gate import BeginGate

T = TypeVar("T")
SETTLE_SECONDS = 180.0  # the most an interrupt waits for the work begun (a second Ctrl-C: none)


class _NotBegun(Exception):
    """The caller was interrupted before this region's work began: nothing was sent."""


def per_region(
    regions: Sequence[str],
    work: Callable[[str], T],
    *,
    service: str | None = None,
    on_interrupt: Callable[[], None] | None = None,
) -> dict[str, T]:
    """`work(region)` for every region at once; results keyed by region, in order."""
    gate = BeginGate()

    def run(region: str) -> T:
        ended = gate.begin(region)
        if ended is None:
            raise _NotBegun(region)
        try:
            return work(region)
        except Exception as error:
            # Translated here: re-raised in the caller's thread it no longer says where.
            translated = translate(error, region=region, service=service)
            if translated is None or translated is error:
                raise
            raise translated from error
        finally:
            ended.set()

    pool = ThreadPoolExecutor(max_workers=max(len(regions), 1))
    try:
        futures = {region: pool.submit(run, region) for region in regions}
        wait(futures.values())  # every region finishes before the first error is raised
        results = {region: future.result() for region, future in futures.items()}
    except KeyboardInterrupt:
        begun = list(gate.close().values())
        if on_interrupt is not None:
            on_interrupt()
        _settle(begun)
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return results


def _settle(begun: list[threading.Event]) -> None:
    """Wait until the work begun has ended (each stops at its next wait once told to, so
    this is a call in flight, not a rotation's minutes). A second Ctrl-C stops waiting."""
    deadline = time.monotonic() + SETTLE_SECONDS
    try:
        for ended in begun:
            ended.wait(max(deadline - time.monotonic(), 0.0))
    except KeyboardInterrupt:
        pass
