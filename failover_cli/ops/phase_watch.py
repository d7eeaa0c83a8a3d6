"""The phase watcher: poll several conditions at once and time when each became true.

A phase is a named condition ("the health check of us-east-1 is unhealthy").
Every phase polls on its own thread, about every POLL_SECONDS, from one start
moment (when FORCE_FAIL was written) until it holds or the time-out passes, so
a slow reading of one phase never delays another's timing. A reading that
fails (throttling, a network blip) counts as "not yet" and is retried; a
reading that cannot be made at all here skips its phase.

Waits go through a child of the given clock: Ctrl-C cancels the watch without
cancelling the caller's clock, which the drill still needs to restore.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.retry import Cancelled, Clock
from failover_cli.config.durations import format_duration
from failover_cli.ops.failover_observer import Unavailable

POLL_SECONDS = 0.75
PROGRESS_SECONDS = 10.0  # real seconds between "still waiting" lines
WAIT_POLL_SECONDS = 0.05  # how often the main thread looks at the phase threads

# (reached?, what was seen) — the description is shown in progress and the report.
Check = Callable[[], tuple[bool, str]]
Say = Callable[[str], None]


def _silent(_message: str) -> None:
    pass


def literal(text: str) -> str:
    """Text from AWS or the network, safe inside a progress line (which may hold markup)."""
    return text.replace("[", "\\[")


@dataclass(frozen=True)
class Goal:
    name: str  # stable, for --json (e.g. "health_unhealthy")
    label: str  # for people (e.g. "health check of us-east-1 unhealthy")
    check: Check
    skip: str | None = None  # a reason not to wait for it at all


@dataclass(frozen=True)
class PhaseResult:
    name: str
    label: str
    reached: bool
    seconds: float | None  # since the start moment, at the first reading that saw it
    skipped: str | None = None
    seen: str = ""  # the last reading
    # The last reading that did not see it yet: the change happened in between.
    last_miss_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "seconds": _round(self.seconds),
            "last_miss_seconds": _round(self.last_miss_seconds),
            "reached": self.reached,
            "skipped": self.skipped,
            "seen": self.seen,
        }


@dataclass(frozen=True)
class Watch:
    """One half of a failover (FORCE_FAIL set, or restored) and what followed it."""

    region: str
    action: str  # "fail" | "restore"
    phases: tuple[PhaseResult, ...]
    total_seconds: float  # from the write to the end of the watch

    @property
    def complete(self) -> bool:
        """Every phase that was waited for was reached."""
        return all(p.reached for p in self.phases if p.skipped is None)

    @property
    def missed(self) -> list[PhaseResult]:
        return [p for p in self.phases if p.skipped is None and not p.reached]

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "action": self.action,
            "phases": [p.to_json() for p in self.phases],
            "total_seconds": round(self.total_seconds, 2),
        }


def watch(
    goals: Sequence[Goal],
    *,
    clock: Clock,
    started_at: float,
    timeout: float,
    poll: float = POLL_SECONDS,
    say: Say = _silent,
) -> tuple[tuple[PhaseResult, ...], float]:
    """Poll every goal concurrently; (results in the goals' order, seconds watched)."""
    local = Clock(now=clock.now, sleep=clock.sleep)  # cancelled on Ctrl-C; the caller's is not
    for goal in goals:
        if goal.skip:
            say(f"  - {goal.label}: skipped ({literal(goal.skip)})")
    waiting = [g for g in goals if not g.skip]
    results: dict[str, PhaseResult] = {
        g.name: PhaseResult(g.name, g.label, False, None, skipped=g.skip) for g in goals if g.skip
    }
    lock = threading.Lock()

    def follow(goal: Goal) -> PhaseResult:
        result = _follow(goal, local, started_at, timeout, poll, say)
        with lock:
            results[goal.name] = result
        return result

    if waiting:
        pool = ThreadPoolExecutor(max_workers=len(waiting), thread_name_prefix="phase")
        try:
            futures = [pool.submit(follow, g) for g in waiting]
            _wait_all(futures, lambda: _pending(waiting, results, lock), local, started_at, say)
        except BaseException:
            local.cancel()  # each thread stops at its next poll
            raise
        finally:
            pool.shutdown(wait=True)
    return tuple(results[g.name] for g in goals), local.now() - started_at


def _follow(
    goal: Goal, clock: Clock, started_at: float, timeout: float, poll: float, say: Say
) -> PhaseResult:
    seen, missed = "", None
    while True:
        # The change lies after the start of a reading that missed it and before the end
        # of the one that saw it: those two moments bound it.
        asked = clock.now() - started_at
        try:
            reached, seen = goal.check()
        except Unavailable as why:
            say(f"  - {goal.label}: skipped ({literal(str(why))})")
            return PhaseResult(goal.name, goal.label, False, None, skipped=str(why))
        except Cancelled:
            raise
        except Exception as error:  # one failed reading is "not yet", not the end
            reached, seen = False, f"reading failed: {_short(error)}"
        elapsed = clock.now() - started_at
        # A reading that saw it but ended past the limit does not count as "within" it:
        # a slow reading must not turn a drill that ran out of time into a success.
        if reached and elapsed <= timeout:
            say(
                f"  [green]✓[/green] {goal.label} after {elapsed:.1f}s [dim]({literal(seen)})[/dim]"
            )
            return PhaseResult(
                goal.name, goal.label, True, max(elapsed, 0.0), seen=seen, last_miss_seconds=missed
            )
        if not reached:
            missed = asked
        if elapsed >= timeout:
            last = f"{seen}; seen only after {elapsed:.1f}s" if reached else f"last: {seen}"
            limit = format_duration(timeout)
            say(f"  [red]✗[/red] {goal.label}: not within {limit} [dim]({literal(last)})[/dim]")
            return PhaseResult(
                goal.name, goal.label, False, None, seen=seen, last_miss_seconds=missed
            )
        clock.pause(max(min(poll, timeout - elapsed), 0.01))


def _wait_all(
    futures: list[Future[PhaseResult]],
    pending: Callable[[], list[str]],
    clock: Clock,
    started_at: float,
    say: Say,
) -> None:
    """Wait for every phase thread, saying every PROGRESS_SECONDS which are still out.

    Polls with a plain sleep instead of blocking in `concurrent.futures.wait`: Ctrl-C or
    SIGTERM (raised as KeyboardInterrupt in this thread) that lands inside a Condition's
    lock handling leaves it half-released, and the interrupt surfaces as "RuntimeError:
    release unlocked lock" instead; a sleep is interrupted cleanly.
    """
    remaining = list(futures)
    last_said = time.monotonic()
    while remaining:
        for future in [f for f in remaining if f.done()]:
            future.result()  # a thread's unexpected error surfaces here
            remaining.remove(future)
        if not remaining:
            return
        if time.monotonic() - last_said >= PROGRESS_SECONDS:
            last_said = time.monotonic()
            names = ", ".join(pending())
            say(f"  [dim]… {clock.now() - started_at:.0f}s, still waiting for: {names}[/dim]")
        time.sleep(WAIT_POLL_SECONDS)


def _pending(
    goals: Sequence[Goal], results: dict[str, PhaseResult], lock: threading.Lock
) -> list[str]:
    with lock:
        return [g.label for g in goals if g.name not in results]


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)


def _short(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:160]
