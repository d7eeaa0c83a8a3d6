"""Work that may not begin once its caller was interrupted, and what did begin.

A command that fans calls out to threads and is then interrupted (Ctrl-C) must not let a
call start afterwards, and must wait for the calls already begun before it reads or exits:
what is read next is then what was written. Thread.join cannot tell (on Python 3.11 a join
that Ctrl-C interrupts marks the still-running thread as stopped, bpo-45274), so each
piece of work says itself when it began and when it ended.
"""

from __future__ import annotations

import threading


class BeginGate:
    """Which keys' work began, each with an event set when it ends; once closed, none begins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._ended: dict[str, threading.Event] = {}

    def begin(self, key: str) -> threading.Event | None:
        """The event to set when the work ends, or None: the gate is closed, do nothing."""
        with self._lock:
            if self._closed:
                return None
            ended = self._ended[key] = threading.Event()
            return ended

    def close(self) -> dict[str, threading.Event]:
        """Close it; the work that began, by key (each event set once that work ended)."""
        with self._lock:
            self._closed = True
            return dict(self._ended)
