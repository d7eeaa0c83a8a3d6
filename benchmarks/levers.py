"""Levers: from throwing us-east-1 out to the DNS answer leaving it, the switch against the
two levers of earlier releases, with us-east-1 answering and with us-east-1 hanging.

A stack of [us-east-1, us-west-2] with failover routing, us-east-1 the PRIMARY, default
check settings, runs in a sandbox TIME_SCALE times faster than real time. Each case throws
one lever at us-east-1 and measures wall seconds from the throw:

- until the lever has acted: every call it makes has answered (or no answer in LEVER_WAIT);
- until the hosted zone's name server (the sandbox's, FAILOVER_NAMESERVERS, asked as
  `force-fail --wait` asks it when Route 53's API does not answer) stops answering with
  us-east-1's address; also x TIME_SCALE (AWS time), next to the interval x threshold of
  the checks the lever acts through.

The levers:
- the switch: `force_fail` (ops/force_fail.py) as the command runs it; it acts through the
  switch readers (`switch:` settings);
- FORCE_FAIL, as releases before the switch set it (ops/function_environment.set_force_fail,
  kept for `up` to clear it on upgrade): GetFunction, GetFunctionConfiguration,
  UpdateFunctionConfiguration, then PublishVersion and UpdateAlias `live`; the function
  (lambda_bundle/handler.py) still answers 503 while it is set, so the region's probe fails;
- the search-string override (services/health_check_override.set_override, kept likewise):
  ListHealthChecks, UpdateHealthCheck of the region's probe (a child of the CALCULATED check
  its record routes on) with a search string no answer contains, ChangeTagsForResource.
  Both act through the probe (`health_check:` settings).

With us-east-1 hanging (the sandbox's outage switch), an old lever's calls get LEVER_WAIT
seconds each (their client's budget: one abandoned in the outage is not retried after it
and cannot land late; whether any did is read once it ends). Every case is undone
(force-fail --restore, the flag or the search string put back) and the DNS answer is back
on us-east-1 before the next.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext, suppress
from dataclasses import dataclass, replace
from typing import Any

from benchmarks.report import Check, Section, Table, secs
from benchmarks.stackenv import context, deployed, hanging, settle_heap, wait_until_serving
from failover_cli.aws.deadlines import Deadline
from failover_cli.aws.outage import outage_region, start
from failover_cli.config.schema import Config
from failover_cli.engine.context import Context
from failover_cli.net.authoritative import AuthoritativeDns
from failover_cli.ops.force_fail import force_fail
from failover_cli.ops.function_environment import set_force_fail
from failover_cli.ops.lever_upgrade import old_marks
from failover_cli.services.health_check_override import set_override
from failover_cli.services.health_checks import ROUTE53_REGION, find_health_check

TIME_SCALE = 20
LEVER_WAIT = 20.0  # real seconds a lever is given to answer, and the DNS answer to move
BACK_WAIT = 60.0  # real seconds for the DNS answer to come back after a case is undone
POLL = 0.1  # real seconds between two questions to the name server (2 s of AWS time)
SWITCH_BUDGET = 10.0  # issue 20: force-fail exits within 10 s with us-east-1 hanging
EAST, WEST = "us-east-1", "us-west-2"
NO_ANSWER = f"no answer within {LEVER_WAIT:.0f} s"
CONFIG = f"""\
stack: benchlever
regions: [{EAST}, {WEST}]
domain:
  name: hello.example.com
  hosted_zone: example.com
  routing: failover
"""
# The old levers' calls: none waits past LEVER_WAIT, none is tried again once it has.
LEVER_CALL = Deadline(
    "lever", connect_timeout=5, read_timeout=LEVER_WAIT, max_attempts=3, call_budget=LEVER_WAIT
)


@dataclass(frozen=True)
class Lever:
    name: str
    through: str  # the checks it acts through: "switch" or "probe"
    throw: Callable[[Context], object]
    undo: Callable[[Context], object]
    bounded: bool  # its calls get LEVER_CALL (the switch keeps the command's own deadlines)


def _override(wanted: bool) -> Callable[[Context], object]:
    def lever(ctx: Context) -> object:
        check = find_health_check(ctx, EAST, fresh=True)
        if check is None:
            raise RuntimeError(f"the stack has no probe check in {EAST}")
        r53 = ctx.client("route53", ROUTE53_REGION)
        return set_override(r53, check, EAST, wanted, ctx.config.health_check.search_string)

    return lever


LEVERS = (
    Lever(
        "the switch (force-fail)",
        "switch",
        lambda ctx: force_fail(ctx, EAST),
        lambda ctx: force_fail(ctx, EAST, restore=True),
        bounded=False,
    ),
    Lever(
        "old: FORCE_FAIL in the function's environment",
        "probe",
        lambda ctx: set_force_fail(ctx, EAST, True),
        lambda ctx: set_force_fail(ctx, EAST, False),
        bounded=True,
    ),
    Lever(
        "old: search-string override on the probe",
        "probe",
        _override(True),
        _override(False),
        bounded=True,
    ),
)


@dataclass(frozen=True)
class Outcome:
    lever: str
    hanging: bool
    acted: float | None  # seconds until every call answered; None: it did not act
    failure: str  # why it did not act ("" when it did)
    moved: float | None  # seconds until the DNS answer left us-east-1; None: not in LEVER_WAIT
    answer: tuple[str, ...]  # the name server's last answer in the case
    landed_later: tuple[str, ...]  # marks found on once the outage ended (an old lever)

    def to_json(self) -> dict[str, Any]:
        return {
            "lever": self.lever,
            "us_east_1": "hanging" if self.hanging else "up",
            "acted_seconds": _round(self.acted),
            "failure": self.failure,
            "dns_moved_seconds": _round(self.moved),
            "dns_moved_aws_seconds": _round(self.moved and self.moved * TIME_SCALE),
            "answer": list(self.answer),
            "landed_after_the_outage": list(self.landed_later),
        }


class NameServer:
    """The domain's A answer from the zone's name server, and whether it is us-east-1's."""

    def __init__(self, config: Config) -> None:
        assert config.domain is not None
        self.zone, self.name = config.domain.hosted_zone, config.domain.name
        self.dns = AuthoritativeDns()  # FAILOVER_NAMESERVERS: the sandbox's
        self.east = self.answer()  # asked while the stack serves from us-east-1

    def answer(self) -> tuple[str, ...]:
        found = self.dns.ask(self.zone, self.name, "A")
        return found.values if found.ok else ()

    def wait(self, started: float, timeout: float, *, away: bool) -> float | None:
        """Seconds from `started` until the answer is away from (or back on) us-east-1."""
        while True:
            values = self.answer()
            if values and (set(values).isdisjoint(self.east) if away else values == self.east):
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                return None
            time.sleep(POLL)


def run() -> Section:
    section = Section(
        "levers",
        f"Levers: us-east-1 out of DNS, the switch and the old levers (sandbox x{TIME_SCALE})",
    )
    outcomes: list[Outcome] = []
    with deployed(TIME_SCALE, CONFIG) as config:
        seen = wait_until_serving(config)
        if seen.serving_region != EAST:
            raise RuntimeError(f"the stack serves from {seen.serving_region}, not {EAST}")
        dns = NameServer(config)
        for lever in LEVERS:
            for hung in (False, True):
                outcomes.append(_case(config, dns, lever, hung))
    section.tables.append(_table(config, outcomes))
    section.checks.extend(_checks(outcomes))
    section.data = {
        "time_scale": TIME_SCALE,
        "lever_wait_seconds": LEVER_WAIT,
        "interval_x_threshold": {
            "switch": _detection(config, "switch"),
            "probe": _detection(config, "probe"),
        },
        "cases": [o.to_json() for o in outcomes],
    }
    return section


def _case(config: Config, dns: NameServer, lever: Lever, hung: bool) -> Outcome:
    ctx = context(config, time_scale=TIME_SCALE)
    if lever.bounded:
        ctx = replace(ctx, deadline=LEVER_CALL)
    settle_heap()
    with hanging(EAST) if hung else nullcontext():
        started = time.perf_counter()

        def throw() -> float:
            lever.throw(ctx)
            return time.perf_counter()

        call = start(throw, name="lever")
        moved = dns.wait(started, LEVER_WAIT, away=True)
        acted, failure = None, NO_ANSWER
        try:
            acted = call.result(timeout=max(0.0, started + LEVER_WAIT - time.perf_counter()))
            acted -= started
            failure = ""
        except TimeoutError:
            # Let the abandoned call end by its own budget before the outage does, so it
            # is not answered (and acted on) once us-east-1 is back.
            _ended(call.exception, LEVER_WAIT)
        except Exception as error:  # the lever's own error: its result
            if outage_region(error, default=EAST) is None:
                failure = f"{type(error).__name__}: {error}"
        last = dns.answer()
    landed = old_marks(ctx, EAST) if hung and lever.bounded else ()
    undo = context(config, time_scale=TIME_SCALE)
    lever.undo(undo)
    if dns.wait(time.perf_counter(), BACK_WAIT, away=False) is None:
        raise RuntimeError(f"the DNS answer was not back on {EAST} {BACK_WAIT:.0f} s after undo")
    return Outcome(lever.name, hung, acted, failure, moved, last, landed)


def _ended(wait: Callable[[float], object], seconds: float) -> None:
    with suppress(TimeoutError):
        wait(seconds)


def _detection(config: Config, through: str) -> dict[str, int]:
    checks = config.switch if through == "switch" else config.health_check
    return {
        "interval_s": checks.interval_s,
        "failure_threshold": checks.failure_threshold,
        "seconds": checks.interval_s * checks.failure_threshold,
    }


def _table(config: Config, outcomes: list[Outcome]) -> Table:
    by_name = {lever.name: lever for lever in LEVERS}
    rows = []
    for o in outcomes:
        theory = _detection(config, by_name[o.lever].through)
        rows.append(
            (
                o.lever,
                "hanging" if o.hanging else "up",
                secs(o.acted) if o.acted is not None else o.failure,
                secs(o.moved) if o.moved is not None else f"not within {LEVER_WAIT:.0f} s",
                secs(o.moved * TIME_SCALE, 0) if o.moved is not None else "never",
                f"{theory['interval_s']} s x {theory['failure_threshold']} = "
                f"{theory['seconds']} s ({by_name[o.lever].through})",
            )
        )
    return Table(
        f"us-east-1 is the PRIMARY (failover routing) of [{EAST}, {WEST}]; seconds from the "
        "lever being thrown",
        (
            "lever",
            "us-east-1",
            "acted",
            "DNS left us-east-1",
            f"x {TIME_SCALE} (AWS time)",
            "interval x threshold",
        ),
        tuple(rows),
        (
            "acted: every call of the lever answered (the switch: written in a replica; "
            "FORCE_FAIL: the new environment published and `live` moved to it; the override: "
            "UpdateHealthCheck and its tag).",
            "DNS: the zone's name server (the sandbox's, asked as force-fail --wait asks it "
            f"when Route 53's API is out) every {POLL:g} s; x {TIME_SCALE} scales the calls' "
            "own time too, which the sandbox does not speed up.",
            f"hanging: the sandbox's outage switch (mode hang) on {EAST}, so Route 53's API "
            f"and {EAST}'s Lambda API accept calls and never answer; the old levers' calls "
            f"get {LEVER_WAIT:.0f} s.",
        ),
    )


def _checks(outcomes: list[Outcome]) -> list[Check]:
    switch = [o for o in outcomes if o.lever == LEVERS[0].name]
    old_hung = [o for o in outcomes if o.lever != LEVERS[0].name and o.hanging]
    late = [f"{o.lever}: {', '.join(o.landed_later)}" for o in old_hung if o.landed_later]
    return [
        Check(
            f"the switch takes {EAST} out of DNS with it up and hanging, acting within 10 s",
            all(o.moved is not None and o.acted is not None for o in switch)
            and all((o.acted or 0) <= SWITCH_BUDGET for o in switch),
            "; ".join(
                f"{'hanging' if o.hanging else 'up'}: acted {secs(o.acted)}, DNS {secs(o.moved)}"
                for o in switch
            ),
        ),
        Check(
            f"the old levers need {EAST}'s control plane: with it hanging neither acts nor "
            "moves DNS, nor lands once it is back",
            all(o.acted is None and o.moved is None for o in old_hung) and not late,
            "; ".join(late)
            or "; ".join(
                f"{o.lever}: {o.failure or 'acted'}, DNS {secs(o.moved)}" for o in old_hung
            ),
        ),
    ]


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)
