"""AWS calls and wall time per command against the sandbox, without and with a delay per call.

One sandbox (time-scaled) serves, after an untimed warm-up, two life cycles of
the same stack: `up` from nothing, `up` again with nothing to change, `down`.
The first has no delay; the second sleeps DELAY seconds before every AWS call
(in the calling thread, like a round trip), so a command's extra time divided
by DELAY is the number of round trips it waits for one after another: the
parallel fan-out hides the rest. `status` (a fresh process's, and a `--watch`
refresh's) is measured on the first stack, with and without the delay in turn.

The tool's polling waits (replica, certificate) are time-scaled like the
sandbox: a 2 s poll sleeps 0.1 s at x20, so `up` and `down` are not measured in
units of the tool's poll interval.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from benchmarks.report import Check, Section, Table, median, ms, secs
from benchmarks.stackenv import (
    Run,
    Watcher,
    context,
    down,
    measure,
    sandbox_stack,
    status,
    up,
    wait_until_serving,
)
from failover_cli.config.schema import Config
from failover_cli.engine.context import Context

TIME_SCALE = 20
DELAY = 0.050  # seconds per AWS call
STATUS_BUDGET_ROUND_TRIPS = 6  # issue 6: status on two regions waits for at most 6 in a row
DOWN_BUDGET_ROUND_TRIPS = 15  # SPEC §7: deletes overlap by dependency, then one re-scan
UP, NOOP, DOWN = "up (from nothing)", "up (no changes)", "down"
STATUS, REFRESH = "status", "status --watch (a refresh)"
COMMANDS = (UP, NOOP, STATUS, REFRESH, DOWN)


def run(status_runs: int = 7, noop_runs: int = 3) -> Section:
    section = Section("commands", "AWS calls and wall time per command (in-process sandbox)")
    plain: dict[str, list[Run]] = {}
    delayed: dict[str, list[Run]] = {}
    with sandbox_stack(TIME_SCALE) as config:
        warm_up(config)
        with deployed(config, plain, 0.0, noop_runs):
            wait_until_serving(config)  # fresh health checks need an interval or two
            compare_status(config, plain, delayed, status_runs)
        with deployed(config, delayed, DELAY, noop_runs):
            pass  # the same up, no-change up and down, with the delay
    _tables(section, plain, delayed)
    _checks(section, plain, delayed)
    section.data = {
        "time_scale": TIME_SCALE,
        "delay_seconds": DELAY,
        "no_delay": {k: [r.to_json() for r in v] for k, v in plain.items()},
        "delay": {k: [r.to_json() for r in v] for k, v in delayed.items()},
    }
    return section


def warm_up(config: Config) -> None:
    """One untimed up and down: the sandbox's first requests build moto's backends (IAM's
    managed policies and the like), which would otherwise be charged to the first `up`."""
    try:
        up(context(config, time_scale=TIME_SCALE))
    finally:
        down(context(config, time_scale=TIME_SCALE))


@contextmanager
def deployed(
    config: Config, found: dict[str, list[Run]], delay: float, noop_runs: int
) -> Iterator[None]:
    """`up` from nothing, `up` again noop_runs times, the body, then `down`: all measured."""

    def runs(command: str, action: Callable[[Context], object], times: int) -> None:
        found[command] = [
            measure(command, config, action, delay=delay, time_scale=TIME_SCALE)
            for _ in range(times)
        ]

    try:
        runs(UP, up, 1)
        runs(NOOP, up, noop_runs)
        yield
    finally:
        runs(DOWN, down, 1)


def compare_status(
    config: Config, plain: dict[str, list[Run]], delayed: dict[str, list[Run]], times: int
) -> None:
    """`status` and `--watch` refreshes without and with the delay, alternately, on one
    stack: the comparison is not skewed by what the sandbox was doing meanwhile."""
    watchers = {0.0: Watcher(config), DELAY: Watcher(config, delay=DELAY)}
    for found in (plain, delayed):
        found[STATUS], found[REFRESH] = [], []
    for _ in range(times):
        for delay, found in ((0.0, plain), (DELAY, delayed)):
            found[STATUS].append(measure(STATUS, config, status, delay=delay))
            found[REFRESH].append(watchers[delay].refresh(REFRESH))


def seconds_of(runs: list[Run]) -> float:
    return median([r.seconds for r in runs])


def _tables(section: Section, plain: dict[str, list[Run]], delayed: dict[str, list[Run]]) -> None:
    def times(command: str) -> str:
        n = len(plain[command])
        return "1 run" if n == 1 else f"median of {n}"

    section.tables.append(
        Table(
            f"Sandbox time scale x{TIME_SCALE}; config with a custom domain, failover routing, "
            "alarm e-mail; two regions",
            ("command", "AWS calls", "mutating", "wall time", "runs"),
            tuple(
                (
                    c,
                    str(plain[c][-1].calls),
                    str(max(r.mutating for r in plain[c])),
                    secs(seconds_of(plain[c])),
                    times(c),
                )
                for c in COMMANDS
            ),
            (
                "Each command runs on a fresh client factory, as a new `failover` process "
                "would (client set-up included, interpreter start-up not).",
                "`up` and `down` include the waits the sandbox imposes (certificate "
                "validation, replica creation and removal), time-scaled like the tool's polls.",
                "The sandbox shares this process: its heap is collected and frozen before "
                "each measurement, so a full collection of it never lands inside one.",
            ),
        )
    )
    services = sorted({s for c in COMMANDS for s in plain[c][-1].per_service})
    section.tables.append(
        Table(
            "AWS calls per service",
            ("service", *COMMANDS),
            tuple(
                (s, *(str(plain[c][-1].per_service.get(s, 0)) for c in COMMANDS)) for s in services
            ),
        )
    )
    rtt = ms(DELAY)
    rows = []
    for c in COMMANDS:
        before, after = seconds_of(plain[c]), seconds_of(delayed[c])
        calls = delayed[c][-1].calls
        rows.append(
            (
                c,
                str(calls),
                secs(before),
                secs(after),
                f"{after - before:+.2f} s",
                f"{(after - before) / DELAY:.1f}",
                secs(calls * DELAY, 1),
            )
        )
    section.tables.append(
        Table(
            f"With {rtt} injected before every AWS call (in the calling thread, like a round trip)",
            (
                "command",
                "AWS calls",
                "no delay",
                f"{rtt} per call",
                "extra",
                "extra in round trips",
                "if calls were sequential",
            ),
            tuple(rows),
            (
                f"extra in round trips = extra / {rtt}: how many calls the command waits for "
                "one after another; the rest overlap.",
            ),
        )
    )


def _checks(section: Section, plain: dict[str, list[Run]], delayed: dict[str, list[Run]]) -> None:
    noop = plain[NOOP] + delayed[NOOP]
    writes = sorted({m for r in noop for m in r.mutating_calls})
    section.checks.append(
        Check(
            "a no-change `up` makes zero mutating AWS calls",
            not writes,
            f"{len(noop)} runs, {sum(r.mutating for r in noop)} mutating calls"
            + (f": {', '.join(writes)}" if writes else ""),
        )
    )
    budget = STATUS_BUDGET_ROUND_TRIPS * DELAY
    for command in (STATUS, REFRESH):
        extra = seconds_of(delayed[command]) - seconds_of(plain[command])
        section.checks.append(
            Check(
                f"`{command}` on two regions with {ms(DELAY)} per call takes at most "
                f"{STATUS_BUDGET_ROUND_TRIPS} x {ms(DELAY)} longer than with none",
                extra <= budget,
                f"{extra * 1000:+.0f} ms = {extra / DELAY:.1f} round trips for "
                f"{delayed[command][-1].calls} calls (budget {budget * 1000:.0f} ms)",
            )
        )
    extra = seconds_of(delayed[DOWN]) - seconds_of(plain[DOWN])
    section.checks.append(
        Check(
            f"`down` with {ms(DELAY)} per call takes at most {DOWN_BUDGET_ROUND_TRIPS} x "
            f"{ms(DELAY)} longer than with none",
            extra <= DOWN_BUDGET_ROUND_TRIPS * DELAY,
            f"{extra * 1000:+.0f} ms = {extra / DELAY:.1f} round trips for "
            f"{delayed[DOWN][-1].calls} calls",
        )
    )
