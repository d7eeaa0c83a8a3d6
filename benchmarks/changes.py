"""Changing a stack: the `up` that removes one region of three, in calls and wall time.

A three-region stack (custom domain, latency routing) in an in-process sandbox. `up`
runs with the last region gone from the config, once without and once with DELAY per
AWS call (as in `commands`); the region is added back, untimed, in between. The
removal deletes the region's record, alarm, health check, custom domain, certificate,
API, function, log group, scaling targets and replica, DNS first and the replica last.
"""

from __future__ import annotations

from dataclasses import replace

from benchmarks.commands import DELAY, TIME_SCALE
from benchmarks.report import Section, Table, ms, secs
from benchmarks.stackenv import PRIMARY, SECONDARY, ZONE, Run, context, down, measure, up
from benchmarks.stackenv import sandbox_stack as stack_in_sandbox

THIRD = "eu-west-1"
CONFIG = f"""\
stack: bench
regions: [{PRIMARY}, {SECONDARY}, {THIRD}]
domain:
  name: hello.{ZONE}
  hosted_zone: {ZONE}
  routing: latency
"""
REMOVE = "up: remove one region of three"


def run() -> Section:
    section = Section("changes", "Changing a stack: remove one region of three")
    found: dict[float, Run] = {}
    with stack_in_sandbox(TIME_SCALE, CONFIG) as wide:
        narrow = replace(wide, regions=wide.regions[:2])
        try:
            up(context(wide, time_scale=TIME_SCALE))
            for delay in (0.0, DELAY):
                found[delay] = measure(REMOVE, narrow, up, delay=delay, time_scale=TIME_SCALE)
                up(context(wide, time_scale=TIME_SCALE))  # the region back, untimed
        finally:
            down(context(narrow, time_scale=TIME_SCALE))  # finds the third region too
    plain, slow = found[0.0], found[DELAY]
    extra = slow.seconds - plain.seconds
    section.tables.append(
        Table(
            f"Sandbox time scale x{TIME_SCALE}; custom domain, latency routing; "
            f"{PRIMARY}, {SECONDARY}, {THIRD} -> without {THIRD}",
            ("command", "AWS calls", "mutating", "no delay", f"{ms(DELAY)} per call", "extra"),
            (
                (
                    REMOVE,
                    str(slow.calls),
                    str(slow.mutating),
                    secs(plain.seconds),
                    secs(slow.seconds),
                    f"{extra / DELAY:.1f} round trips",
                ),
            ),
            notes=("One run each; includes the sandbox's replica removal, time-scaled.",),
        )
    )
    section.data = {"no_delay": plain.to_json(), "delay": slow.to_json(), "delay_seconds": DELAY}
    return section
