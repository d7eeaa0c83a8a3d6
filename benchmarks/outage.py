"""During a regional outage: how long `status` and `force-fail` take when a region hangs.

A stack whose PRIMARY (failover routing) is us-west-2 runs in a sandbox TIME_SCALE
times faster than real time. The outage is the sandbox's own switch
(`POST /_sandbox/outage`, mode `hang`), as a user would throw it: every AWS API
call to the region is accepted and never answered, which is what a regional
control-plane outage looks like from outside; the sandbox's health checkers and
the functions themselves keep running, as Route 53's data plane does.

- `status` with us-west-2 hanging, and with us-east-1 hanging (then Route 53,
  CloudWatch and SNS, which answer from us-east-1, hang too): wall time against
  the issue's 15 s budget. Not time-scaled: the deadlines are real seconds.
- `force-fail --region us-west-2 --wait` with us-west-2 hanging: the time until
  the command has made its change (the switch, written in us-east-1's table replica;
  nothing is asked of us-west-2; budget 30 s), then until the DNS answer
  (TestDNSAnswer) moves to us-east-1, next to the switch readers' interval x
  threshold / time scale.
"""

from __future__ import annotations

import time

from benchmarks.report import Check, Section, Table, median, secs
from benchmarks.stackenv import context, deployed, hanging, settle_heap, wait_until_serving
from failover_cli.config.schema import Config
from failover_cli.net.http import HttpClient
from failover_cli.ops.force_fail import force_fail
from failover_cli.ops.status import gather

TIME_SCALE = 20
STATUS_BUDGET = 15.0  # seconds (SPEC §7)
FORCE_FAIL_BUDGET = 30.0  # seconds until force-fail of an unreachable region has acted
STATUS_RUNS = 3
EAST, WEST = "us-east-1", "us-west-2"
CONFIG = f"""\
stack: benchout
regions: [{WEST}, {EAST}]
domain:
  name: hello.example.com
  hosted_zone: example.com
  routing: failover
health_check:
  interval_s: 10
  failure_threshold: 2
switch:
  interval_s: 10
  failure_threshold: 2
"""


def run(runs: int = STATUS_RUNS) -> Section:
    section = Section("outage", f"During an outage: one region hanging (sandbox x{TIME_SCALE})")
    status_times: dict[str, list[float]] = {WEST: [], EAST: []}
    with deployed(TIME_SCALE, CONFIG) as config:
        wait_until_serving(config)
        for _ in range(runs):
            for region in (WEST, EAST):
                ctx = context(config, time_scale=TIME_SCALE)
                settle_heap()
                with hanging(region):
                    started = time.perf_counter()
                    seen = gather(ctx, HttpClient())
                    status_times[region].append(time.perf_counter() - started)
                assert not {r.region: r for r in seen.regions}[region].reachable
        wait_until_serving(config)
        acted, moved, report = _force_fail(config)
    detection = config.switch.interval_s * config.switch.failure_threshold
    rows = [
        (f"status with {r} hanging", secs(median(t)), secs(max(t)), f"{len(t)}", "≤ 15 s")
        for r, t in status_times.items()
    ]
    rows.append(
        (
            f"force-fail --region {WEST} (switch written)",
            secs(acted),
            "",
            "1",
            "≤ 30 s",
        )
    )
    rows.append(
        (
            "force-fail of an unreachable region until the DNS answer moves",
            secs(acted + (moved or float("nan"))),
            "",
            "1",
            f"interval x threshold = {detection} s emulated = {detection / TIME_SCALE:.1f} s",
        )
    )
    section.tables.append(
        Table(
            f"{WEST} is the PRIMARY (failover routing); its AWS API endpoints hang; wall seconds",
            ("what", "median", "max", "runs", "budget"),
            tuple(rows),
            (
                "force-fail's figures run from the command's start: --wait's baseline reading "
                "comes first, then the switch is written in the other region's replica; the "
                "DNS move follows the switch readers (time-scaled).",
                f"force-fail went via {report}.",
            ),
        )
    )
    worst = max(max(t) for t in status_times.values())
    section.checks.append(
        Check(
            "`status` with one region hanging returns within 15 s",
            worst <= STATUS_BUDGET,
            f"slowest of {sum(len(t) for t in status_times.values())} runs: {worst:.1f} s",
        )
    )
    section.checks.append(
        Check(
            "`force-fail` of a hanging region has acted within 30 s, and DNS moved",
            acted <= FORCE_FAIL_BUDGET and moved is not None,
            f"switch written after {acted:.1f} s; DNS moved "
            + (f"{moved:.1f} s after it" if moved is not None else "never"),
        )
    )
    section.data = {
        "time_scale": TIME_SCALE,
        "status_seconds": {r: [round(x, 3) for x in t] for r, t in status_times.items()},
        "force_fail_acted_seconds": round(acted, 3),
        "dns_moved_after_seconds": None if moved is None else round(moved, 3),
    }
    return section


def _force_fail(config: Config) -> tuple[float, float | None, str]:
    """(seconds until the change was written, seconds from it to the DNS move, via)."""
    written: list[float] = []
    with hanging(WEST):
        ctx = context(config, time_scale=TIME_SCALE)
        settle_heap()
        started = time.perf_counter()

        def say(message: str) -> None:
            if not written and "forced out in the switch" in message:
                written.append(time.perf_counter() - started)

        report = force_fail(ctx, WEST, wait=True, timeout=60.0, say=say)
        acted = written[0] if written else time.perf_counter() - started
        force_fail(context(config, time_scale=TIME_SCALE), WEST, restore=True)
    moved = next(
        (p.seconds for p in (report.watch.phases if report.watch else ()) if p.name == "dns_moved"),
        None,
    )
    wait_until_serving(config, timeout=120)
    return acted, moved, f"the switch (written in {report.written_in})"
