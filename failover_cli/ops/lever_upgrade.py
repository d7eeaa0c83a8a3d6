"""`up` carries a region an older release forced out into the switch, then clears the old mark.

Older releases had two levers: FORCE_FAIL in the region's function environment and a search
string no answer contains on the region's Route 53 probe (`services/health_check_override`).
Either keeps the region's probe failing, so its CALCULATED check keeps it out of DNS. For
such a region, once `up` has built the switch, this module:

1. writes the region into the switch (the same conditional write as force-fail, with no
   guard: the region is out already, nothing new goes down);
2. waits until one of its switch readers reports it forced out as Route 53 decides it
   (bounded): from then on the switch alone keeps it out;
3. only then clears the old mark (FORCE_FAIL back to false, the probe's search string back).

So the region never comes back during an upgrade, and the DNS answer never loses a healthy
region it had. When the readers are not seen objecting in time, the old mark stays, is said,
and the next `up` finishes the job. A stack with no old mark costs reads only.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from failover_cli.engine.context import Context
from failover_cli.errors import TimeoutExpired
from failover_cli.ops.force_fail import read_view, write_switch
from failover_cli.ops.function_environment import (
    is_force_failed,
    read_configuration,
    set_force_fail,
    variables_of,
)
from failover_cli.services.health_check_override import check_overridden, set_override
from failover_cli.services.health_checks import ROUTE53_REGION, find_health_check
from failover_cli.services.switch_watch import wait_for_objection

FLAG, OVERRIDE = "FORCE_FAIL", "health-check override"


@dataclass(frozen=True)
class Carried:
    region: str
    marks: tuple[str, ...]  # the old levers found on
    cleared: bool  # False: the readers were not seen objecting in time; the marks stay

    def to_json(self) -> dict[str, object]:
        return {"region": self.region, "marks": list(self.marks), "cleared": self.cleared}


def old_marks(ctx: Context, region: str) -> tuple[str, ...]:
    """The old levers on in `region`, read afresh."""
    marks = []
    if is_force_failed(variables_of(read_configuration(ctx, region))):
        marks.append(FLAG)
    if check_overridden(find_health_check(ctx, region, fresh=True)):
        marks.append(OVERRIDE)
    return tuple(marks)


def carry_old_levers(ctx: Context) -> list[Carried]:
    """Move every region an older release forced out into the switch (see the docstring)."""
    regions = list(ctx.config.regions)
    with ThreadPoolExecutor(max_workers=len(regions)) as pool:
        found = dict(zip(regions, pool.map(lambda r: old_marks(ctx, r), regions), strict=True))
    carried = []
    for region, marks in found.items():
        if not marks:
            continue
        view = read_view(ctx, region)
        write_switch(ctx, region, True, view, why=f"carried over from {' and '.join(marks)}",
                     guard=False)  # fmt: skip
        ctx.progress(region, f"forced out by {' and '.join(marks)}: now in the switch")
        try:
            wait_for_objection(ctx, region)
        except TimeoutExpired:
            ctx.progress(region, "its switch readers do not see it yet: the old mark stays")
            carried.append(Carried(region, marks, False))
            continue
        _clear(ctx, region, marks)
        ctx.progress(region, f"{' and '.join(marks)} cleared: the switch keeps it out")
        carried.append(Carried(region, marks, True))
    return carried


def _clear(ctx: Context, region: str, marks: tuple[str, ...]) -> None:
    if FLAG in marks:
        set_force_fail(ctx, region, False)
    if OVERRIDE in marks:
        check = find_health_check(ctx, region, fresh=True)
        if check is not None:
            r53 = ctx.client("route53", ROUTE53_REGION)
            set_override(r53, check, region, False, ctx.config.health_check.search_string)
