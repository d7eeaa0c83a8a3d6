"""Releasing a change: `up` of new code across 2 and 3 regions, and `rollback`.

A stack (custom domain; failover routing on two regions, latency on three) in an
in-process sandbox at TIME_SCALE, its function code in a folder of its own. After
an untimed first `up`, the code changes and `up` releases it: every region's
`$LATEST` is written with the rest of the plan, then the waves go one region at
a time (publish, move `live`, the gates: /health shallow and deep, 3 x /hello,
the Route 53 check for `deploy.bake`, 2m by default, divided by the time scale:
6 s of wall time per wave at x20). Then `rollback` moves every region back
through the same gates. The tool's own polling is not scaled here (the bake is,
through FAILOVER_TIME_SCALE, as on a sandbox a user runs).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.report import Section, Table, secs
from benchmarks.stackenv import (
    PRIMARY,
    SECONDARY,
    ZONE,
    CallCounter,
    Run,
    context,
    down,
    sandbox_stack,
    settle_heap,
    up,
)
from failover_cli.config.schema import Config
from failover_cli.engine.context import Context
from tests.e2e_helpers import write_release

TIME_SCALE = 20
THIRD = "eu-west-1"
RELEASE, ROLLBACK = "up (a release)", "rollback"


def _config(source: Path, regions: tuple[str, ...]) -> str:
    routing = "failover" if len(regions) == 2 else "latency"
    return (
        f"stack: bench\nregions: [{', '.join(regions)}]\n"
        f"function:\n  source: {source}\n"
        f"domain:\n  name: hello.{ZONE}\n  hosted_zone: {ZONE}\n  routing: {routing}\n"
    )


def _release(ctx: Context, counter: CallCounter) -> int:
    """`up` as cmd_up runs it; returns how many of its calls the waves made."""
    from benchmarks.stackenv import _quiet
    from failover_cli.engine.stack import plan_for_up, run_up
    from failover_cli.ops.release_waves import run_waves, split_release

    rest, moves = split_release(plan_for_up(ctx))
    run_up(ctx, rest, _quiet)
    assert moves, "the changed code made no release"
    before = counter.total
    run_waves(ctx, moves)
    return counter.total - before


def _rollback(ctx: Context, counter: CallCounter) -> int:
    from failover_cli.ops.rollback import plan_rollback, run_rollback

    plan = plan_rollback(ctx, ctx.config.regions, None)
    assert len(plan.moves) == len(ctx.config.regions), plan
    run_rollback(ctx, plan)
    return counter.total


def _timed(
    command: str, config: Config, action: Callable[[Context, CallCounter], int]
) -> tuple[Run, int]:
    """(the run, how many of its calls were the waves')."""
    counter = CallCounter()
    ctx = context(config, [counter])
    settle_heap()
    started = time.perf_counter()
    waves = action(ctx, counter)
    return counter.run(command, time.perf_counter() - started), waves


def run() -> Section:
    section = Section("releases", "Releasing a change: waves and rollback")
    rows = []
    data = {}
    for regions in ((PRIMARY, SECONDARY), (PRIMARY, SECONDARY, THIRD)):
        with tempfile.TemporaryDirectory(prefix="failover-bench-code-") as folder:
            source = Path(folder) / "code"
            write_release(source, "first")
            with sandbox_stack(TIME_SCALE, _config(source, regions)) as config:
                try:
                    up(context(config, time_scale=TIME_SCALE))
                    write_release(source, "second")
                    released, wave_calls = _timed(RELEASE, config, _release)
                    back, back_calls = _timed(ROLLBACK, config, _rollback)
                finally:
                    down(context(config, time_scale=TIME_SCALE))
        waves = len(regions)
        per_wave = {RELEASE: wave_calls / waves, ROLLBACK: back_calls / waves}
        for found in (released, back):
            rows.append(
                (
                    f"{found.command}, {waves} regions",
                    secs(found.seconds, 1),
                    secs(found.seconds / waves, 1),
                    str(found.calls),
                    str(found.mutating),
                    f"{per_wave[found.command]:.0f}",
                )
            )
        data[str(waves)] = {
            "release": released.to_json(),
            "rollback": back.to_json(),
            "calls_per_wave": per_wave[RELEASE],
            "rollback_calls_per_wave": per_wave[ROLLBACK],
        }
    bake = 120 / TIME_SCALE
    section.tables.append(
        Table(
            f"Sandbox time scale x{TIME_SCALE}; deploy.bake 2m = {bake:g} s of wall time a wave",
            ("command", "wall time", "per wave", "AWS calls", "mutating", "calls a wave"),
            tuple(rows),
            notes=(
                "One run each. A release's calls include writing every region's $LATEST "
                "(the rest of the plan); 'calls a wave' counts the waves' own (publish, "
                "alias moves, the gates' reads and health-check polls).",
                f"On AWS each wave waits the whole bake (2m): add {120 - bake:g} s a wave.",
            ),
        )
    )
    section.data = {"time_scale": TIME_SCALE, **data}
    return section
