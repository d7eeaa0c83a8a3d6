"""Failover: the drill's phase times at the default health-check settings, unscaled.

A stack with the default checks (every 10 s, 2 failures) runs in a sandbox
TIME_SCALE times faster than real time; `drill` fails the primary and restores
it, DRILL_RUNS times. The tool's own clock is scaled alike (its polls sleep
1/TIME_SCALE as long), so the drill watches at its real-AWS resolution (a
reading every 0.75 s of emulated time). Every time below is measured in real
seconds and reported x TIME_SCALE, next to interval x threshold, Route 53's
documented time to notice a failure.
"""

from __future__ import annotations

import random
import time

from benchmarks.report import Check, Section, Table, median
from benchmarks.stackenv import (
    PRIMARY,
    context,
    down,
    sandbox_stack,
    settle_heap,
    up,
    wait_until_serving,
)
from failover_cli.ops.drill import DrillReport, drill
from failover_cli.ops.phase_watch import PhaseResult, Watch

TIME_SCALE = 20
DRILL_RUNS = 5
DRILL_TIMEOUT = 60.0  # real seconds per half: 20 emulated minutes at x20


def run(runs: int = DRILL_RUNS) -> Section:
    section = Section("failover", f"Failover drill on {PRIMARY} (sandbox x{TIME_SCALE}, unscaled)")
    reports: list[DrillReport] = []
    with sandbox_stack(TIME_SCALE) as config:
        try:
            up(context(config, time_scale=TIME_SCALE))
            for _ in range(runs):
                wait_until_serving(config)
                # Start each drill at another point of the checkers' cycle.
                time.sleep(random.uniform(0, config.health_check.interval_s / TIME_SCALE))
                ctx = context(config, time_scale=TIME_SCALE)
                settle_heap()
                reports.append(drill(ctx, PRIMARY, timeout=DRILL_TIMEOUT))
        finally:
            down(context(config, time_scale=TIME_SCALE))
    settings = reports[0].settings
    budget = float(settings.detection_seconds)
    rows = []
    for half in ("failover", "failback"):
        watches = [w for r in reports if (w := getattr(r, half)) is not None]
        for name, label in _phases(watches):
            found = [p for w in watches for p in w.phases if p.name == name]
            rows.append(_row(half, label, found))
        totals = [w.total_seconds * TIME_SCALE for w in watches]
        rows.append((half, "total (watch ended)", *_figures(totals), ""))
    section.tables.append(
        Table(
            f"Health checks every {settings.interval_s} s, {settings.failure_threshold} failures "
            f"to change state: interval x threshold = {budget:.0f} s; {runs} drills",
            ("half", "phase", "median", "fastest", "slowest", "window of the median"),
            tuple(rows),
            (
                "Seconds since the switch was written, measured in the sandbox and multiplied "
                f"by its time scale ({TIME_SCALE}).",
                "window: between the last reading that did not see the phase and the first "
                "that did (the phase happened in between).",
                "The health-check phase is read from each checker's last probe "
                "(GetHealthCheckStatus), so it shows before Route 53's own status flips "
                f"({settings.failure_threshold} failed probes in a row per checker); the DNS "
                "phase is when Route 53 acted on it. Clients that cached the old answer "
                "follow within the record's TTL.",
            ),
        )
    )
    moved = [
        p
        for r in reports
        if r.failover is not None
        for p in r.failover.phases
        if p.name == "dns_moved"
    ]
    seen = [p.seconds * TIME_SCALE for p in moved if p.seconds is not None]
    # Refuted only when a reading after the budget still saw the old answer.
    late = [p for p in moved if (p.last_miss_seconds or 0.0) * TIME_SCALE > budget]
    slowest = max(moved, key=lambda p: p.seconds if p.seconds is not None else float("inf"))
    section.checks += [
        Check(
            "every drill saw every phase and put the region back in the switch",
            all(r.complete for r in reports),
            f"{sum(r.complete for r in reports)} of {len(reports)} drills complete",
        ),
        Check(
            f"Route 53 moved the DNS answer within interval x threshold ({budget:.0f} s), "
            "to the drill's reading resolution",
            len(seen) == len(reports) and not late,
            f"median {median(seen):.1f} s, slowest seen at {_window(slowest)} over "
            f"{len(seen)} drills"
            if seen
            else "never seen",
        ),
    ]
    section.data = {
        "time_scale": TIME_SCALE,
        "interval_s": settings.interval_s,
        "failure_threshold": settings.failure_threshold,
        "detection_budget_s": budget,
        "drills": [r.to_json() for r in reports],
    }
    return section


def _phases(watches: list[Watch]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for watch in watches:
        for phase in watch.phases:
            seen.setdefault(phase.name, phase.label)
    return list(seen.items())


def _row(half: str, label: str, found: list[PhaseResult]) -> tuple[str, ...]:
    skipped = [p.skipped for p in found if p.skipped]
    if skipped and len(skipped) == len(found):
        return (half, label, "skipped", "", "", skipped[0])
    reached = [p for p in found if p.reached and p.seconds is not None]
    times = [p.seconds * TIME_SCALE for p in reached if p.seconds is not None]
    if len(reached) < len(found):
        return (half, label, f"{len(found) - len(reached)} missed", *_figures(times)[1:], "")
    middle = sorted(reached, key=lambda p: p.seconds or 0.0)[len(reached) // 2]
    return (half, label, *_figures(times), _window(middle))


def _figures(times: list[float]) -> tuple[str, str, str]:
    if not times:
        return ("—", "—", "—")
    return (f"{median(times):.1f} s", f"{min(times):.1f} s", f"{max(times):.1f} s")


def _window(phase: PhaseResult) -> str:
    if phase.seconds is None:
        return ""
    low = (phase.last_miss_seconds or 0.0) * TIME_SCALE
    return f"{low:.1f} to {phase.seconds * TIME_SCALE:.1f} s"
