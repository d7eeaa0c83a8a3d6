"""How long the sandbox has waited for this machine's CPU: a timer thread's lateness.

The sandbox plays AWS's side of every request on the user's machine. On AWS an endpoint
(API Gateway, a Lambda environment) has CPUs of its own, so when Route 53's checkers give
it two seconds to answer, none of that time is lost to a neighbour's load. Here a starved
machine (a test suite on two cores) can delay an answer the endpoint would have made in
time: that delay is the emulation's, not the endpoint's.

A daemon thread sleeps TICK seconds at a time and adds up how late it wakes. On an idle
machine that stays near zero, so a limit measured with it is the wall clock's; on a
starved one it grows with the starvation (this process's threads wait for the CPU and for
the interpreter lock alike). The Lambda emulation discounts its workers' CPU waits the
same way, from the kernel's own count (lambda_/process.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

TICK = 0.05  # seconds between wake-ups: 20 a second, nothing next to a request


class StallClock:
    """Seconds this process has been kept waiting, added up since the thread started."""

    def __init__(
        self,
        tick: float = TICK,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._tick = tick
        self._clock = clock
        self._sleep = sleep
        self._stalled = 0.0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the timer thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="stall-clock", daemon=True)
                self._thread.start()

    def stalled(self) -> float:
        with self._lock:
            return self._stalled

    def tick_once(self) -> None:
        """One sleep and its lateness (the thread's loop; tests call it directly)."""
        before = self._clock()
        self._sleep(self._tick)
        late = self._clock() - before - self._tick
        if late > 0:
            with self._lock:
                self._stalled += late

    def _run(self) -> None:
        while True:
            self.tick_once()


STALL = StallClock()  # the sandbox process's one clock, started by the first checker probe
