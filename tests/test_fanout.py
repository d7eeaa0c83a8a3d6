"""`per_region` on Ctrl-C: the interrupt is raised only once the work begun has ended, and
the work is told to stop at its next wait (so a re-run reads what was written)."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from failover_cli.ops.fanout import per_region


def test_a_ctrl_c_returns_only_once_every_regions_work_in_flight_has_ended() -> None:
    ended: list[str] = []
    told = threading.Event()

    def work(region: str) -> str:
        if region == "us-west-2":
            time.sleep(0.2)  # the main thread waits on both regions by now
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, as the user presses it
        told.wait(5)  # a call in flight, then a wait the interrupt cuts short
        time.sleep(0.3)
        ended.append(region)
        return region

    with pytest.raises(KeyboardInterrupt):
        per_region(["us-east-1", "us-west-2"], work, on_interrupt=told.set)
        time.sleep(5)  # the signal lands in this thread; never reached once it did
    assert told.is_set()
    # Both ended before the interrupt was raised: with Thread.join (Python 3.11 marks a
    # thread whose join Ctrl-C interrupted as stopped) one was still running here.
    assert sorted(ended) == ["us-east-1", "us-west-2"]


def test_without_an_interrupt_every_region_finishes_before_the_first_error() -> None:
    ended: list[str] = []

    def work(region: str) -> str:
        if region == "us-east-1":
            raise RuntimeError("east failed")
        time.sleep(0.3)
        ended.append(region)
        return region

    with pytest.raises(RuntimeError, match="east failed"):
        per_region(["us-east-1", "us-west-2"], work)
    assert ended == ["us-west-2"]
