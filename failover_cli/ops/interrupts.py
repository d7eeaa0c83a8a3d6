"""Signals around work that must finish: a drill never leaves a region force-failed.

- `signals_as_interrupts`: SIGTERM and SIGHUP (a `kill`, a closed terminal) raise
  KeyboardInterrupt like Ctrl-C does, so the drill's cleanup runs for them too
  instead of the process dying with FORCE_FAIL still on.
- `shielded`: while the cleanup itself runs, the first interrupt is only noted
  and answered with a message; a second one abandons the cleanup (the user
  insists, and is told what is left to do).

Handlers can only be installed from the main thread; elsewhere (a demo running
the drill on a worker thread) both are no-ops.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

_TERMINATING = tuple(
    s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None
)


@dataclass
class Shield:
    interrupted: bool = False  # an interrupt arrived (and was held back) meanwhile


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def _handlers(
    signals: tuple[int, ...], handler: Callable[[int, FrameType | None], Any]
) -> Iterator[None]:
    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


@contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGTERM/SIGHUP raise KeyboardInterrupt inside the block (main thread only)."""
    if not _main_thread():
        yield
        return

    def interrupt(number: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(number).name}")

    with _handlers(_TERMINATING, interrupt):
        yield


@contextmanager
def shielded(say: Callable[[str], None], doing: str) -> Iterator[Shield]:
    """Hold back the first interrupt while `doing` runs; a second one raises."""
    shield = Shield()
    if not _main_thread():
        yield shield
        return

    def hold(number: int, _frame: FrameType | None) -> None:
        if shield.interrupted:
            raise KeyboardInterrupt(f"signal {signal.Signals(number).name}")
        shield.interrupted = True
        say(f"[yellow]{doing} first[/yellow]; interrupt again to abandon that.")

    with _handlers((signal.SIGINT, *_TERMINATING), hold):
        yield shield
