"""`force-fail`: make one region's function answer 503 on purpose (or stop it), safely.

Rules, checked before anything is written (so a refusal changes nothing):
- the region must be one of the config's regions;
- FORCE_FAIL already meaning what is asked is success with no write;
- failing a region is refused when no OTHER region is healthy, i.e. none whose
  function exists with FORCE_FAIL off and whose health check (if it has one)
  is not unhealthy. A check with no observations yet counts as healthy, as
  Route 53 treats it. `--allow-total-outage` overrides; a drill never does.

Interrupted (Ctrl-C) or stopped by an error once the write may have begun, it
reads FORCE_FAIL afresh and says which value it has: the old one or the new
one, never a mix, as the whole environment is written in one call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace

from failover_cli.aws.errors import translate
from failover_cli.engine.context import Context
from failover_cli.errors import BadInput, FailoverError
from failover_cli.net.http import RESOLVE_HINT
from failover_cli.ops.failover_goals import Baseline, failback_goals, failover_goals, take_baseline
from failover_cli.ops.failover_observer import AwsObserver, HealthReading, Observer
from failover_cli.ops.force_fail_mechanisms import (
    ForceFailReport,
    Via,
    check_override_state,
    describe_override,
    fallback_hint,
    read_function_within,
    the_check,
    write_override,
)
from failover_cli.ops.function_environment import (
    FORCE_FAIL,
    FlagChange,
    is_force_failed,
    read_configuration,
    set_force_fail,
    variables_of,
)
from failover_cli.ops.phase_watch import Say, Watch, literal, watch
from failover_cli.services.health_check_override import OverrideChange, check_overridden

DEFAULT_TIMEOUT = 600.0
OVERRIDE_FLAG = "--allow-total-outage"


def _silent(_message: str) -> None:
    pass


@dataclass(frozen=True)
class RegionState:
    """Whether a region could take the traffic if another one fails."""

    region: str
    function_exists: bool
    force_failed: bool  # FORCE_FAIL is on
    health: HealthReading | None  # None: could not be read
    unreachable: bool = False  # its Lambda API did not answer in time
    check_override: bool = False  # force-fail's health-check override is on

    @property
    def healthy(self) -> bool:
        unhealthy_check = self.health is not None and self.health.healthy is False
        failed = self.force_failed or self.check_override
        return self.function_exists and not failed and not unhealthy_check

    def describe(self) -> str:
        if self.unreachable:
            return f"{self.region}: unreachable (its Lambda API did not answer)"
        if not self.function_exists:
            return f"{self.region}: function missing"
        if self.force_failed:
            return f"{self.region}: FORCE_FAIL is on"
        if self.check_override:
            return f"{self.region}: the health-check override is on"
        health = self.health.describe() if self.health else "health check unreadable"
        return f"{self.region}: health check {health}"


def require_region(ctx: Context, region: str) -> None:
    if region not in ctx.config.regions:
        # Quoted unless it reads like a region name: `--region ''` must not vanish.
        shown = region if region.replace("-", "").isalnum() and region.isascii() else repr(region)
        raise BadInput(
            f"{shown} is not one of stack {ctx.config.stack}'s regions "
            f"({', '.join(ctx.config.regions)})",
            hint="Pass --region with one of them.",
        )


def region_state(ctx: Context, observer: Observer, region: str) -> RegionState:
    """Whether `region` could take the traffic; its Lambda API gets the read-only deadline
    (a region that does not answer cannot take it)."""
    try:
        read = read_function_within(ctx, region)
    except FailoverError:  # no function there
        return RegionState(region, False, False, None)
    if read.variables is None:
        return RegionState(region, False, False, None, unreachable=True)
    try:
        health: HealthReading | None = observer.health(region)
    except Exception:  # unreadable health is shown, and does not count against the region
        health = None
    _, overridden = check_override_state(ctx, region)
    return RegionState(
        region, True, is_force_failed(read.variables), health, check_override=bool(overridden)
    )


def refuse_last_healthy(
    ctx: Context, observer: Observer, region: str, *, hint: str | None = None
) -> list[RegionState]:
    """Raise BadInput (exit 2) unless another region is healthy; the others' states."""
    others = [r for r in ctx.config.regions if r != region]
    with ThreadPoolExecutor(max_workers=max(len(others), 1)) as pool:
        states = list(pool.map(lambda r: region_state(ctx, observer, r), others))
    if not any(s.healthy for s in states):
        raise BadInput(
            f"Refusing to fail {region}: it is the last healthy region of stack "
            f"{ctx.config.stack} ({'; '.join(s.describe() for s in states)})",
            hint=hint
            or f"Restore or repair another region first, or pass {OVERRIDE_FLAG} to fail "
            "it anyway (the whole stack goes down).",
        )
    return states


def refuse_unwatchable(observer: Observer, doing: str) -> None:
    """Refuse (exit 2, nothing changed) to watch requests that cannot find their host:
    each would fail at once with a DNS error, and the watch would wait out its time-out."""
    problem = observer.unreachable()
    if problem is not None:
        raise BadInput(
            f"Refusing to {doing}: it follows requests through the custom domain, but {problem}",
            hint=f"Nothing was changed. {RESOLVE_HINT}",
        )


def force_fail(
    ctx: Context,
    region: str,
    *,
    restore: bool = False,
    allow_total_outage: bool = False,
    wait: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    observer: Observer | None = None,
    say: Say = _silent,
    via: Via = Via.AUTO,
) -> ForceFailReport:
    """Fail `region` (or with `restore` undo it); with `wait`, time what follows.

    `via` picks the mechanism (force_fail_mechanisms.py); AUTO uses FORCE_FAIL when the
    region's Lambda API answers within LAMBDA_WAIT, else the health-check override.
    """
    require_region(ctx, region)
    observer = observer or AwsObserver(ctx)
    if wait:
        action = "restore" if restore else "fail"
        refuse_unwatchable(observer, f"{action} {region} and follow it")
    if restore:
        return _restore(ctx, region, observer, wait, timeout, say, via)
    try:
        current: dict[str, str] | None = None
        if via is not Via.HEALTH_CHECK:
            read = read_function_within(ctx, region)
            if read.unreachable is not None and via is Via.FUNCTION:
                raise FailoverError(str(read.unreachable), hint=fallback_hint(region))
            if read.unreachable is not None:
                say(
                    f"[yellow]{literal(str(read.unreachable))}[/yellow]. Falling back to its "
                    "Route 53 health check, which needs only Route 53's global control plane."
                )
            current = read.variables
        if current is not None and is_force_failed(current):
            say(f"FORCE_FAIL is already on in {region}: nothing to change.")
            return ForceFailReport(FlagChange(region, True, current.get("FORCE_FAIL"), False))
        check = the_check(ctx, region) if current is None else None
        if check is not None and check_overridden(check):
            say(f"The health-check override is already on in {region}: nothing to change.")
            return ForceFailReport(None, check=OverrideChange(region, check["Id"], True, False))
        if not allow_total_outage:
            refuse_last_healthy(ctx, observer, region)
        before = _before(observer, region, wait, say)
    except KeyboardInterrupt:
        say(_NOTHING_DONE.format(region=region))
        raise
    if current is None:
        check_change = write_override(ctx, region, True)
        say(f"{describe_override(check_change)} {_undo(region)}")
        report = ForceFailReport(None, check=check_change)
        return _follow(ctx, observer, report, before, ctx.clock.now(), timeout, say)
    with _saying_the_state(ctx, region, True, say):
        change = set_force_fail(ctx, region, True)
    say(f"FORCE_FAIL=true is live in {region}.")
    return _follow(ctx, observer, ForceFailReport(change), before, change.written_at, timeout, say)


def _restore(
    ctx: Context,
    region: str,
    observer: Observer,
    wait: bool,
    timeout: float,
    say: Say,
    via: Via,
) -> ForceFailReport:
    """Undo whichever override is in place (both, if both are)."""
    try:
        read = None if via is Via.HEALTH_CHECK else read_function_within(ctx, region)
        if read is not None and read.unreachable is not None and via is Via.FUNCTION:
            raise FailoverError(
                str(read.unreachable),
                hint=f"Re-run once {region} answers, or restore only the health check "
                f"with --via health-check.",
            )
        flag_on = (
            None if read is None or read.variables is None else is_force_failed(read.variables)
        )
        check_on = False if via is Via.FUNCTION else check_override_state(ctx, region)[1]
        if not flag_on and not check_on:
            if read is not None and read.unreachable is not None:
                raise FailoverError(
                    f"{read.unreachable}, and its health check carries no override: FORCE_FAIL "
                    "could not be checked, so nothing was restored",
                    hint=f"Re-run `failover force-fail --region {region} --restore` once "
                    f"{region} answers.",
                )
            previous = read.variables.get("FORCE_FAIL") if read and read.variables else None
            say(f"{region} has no FORCE_FAIL and no check override: nothing to change.")
            return ForceFailReport(FlagChange(region, False, previous, False))
        before = _before(observer, region, wait, say)
    except KeyboardInterrupt:
        say(_NOTHING_DONE.format(region=region))
        raise
    change, check_change, written = None, None, []
    if flag_on:
        with _saying_the_state(ctx, region, False, say):
            change = set_force_fail(ctx, region, False)
        say(f"FORCE_FAIL=false is live in {region}.")
        written.append(change.written_at)
    if check_on:
        check_change = write_override(ctx, region, False)
        say(describe_override(check_change))
        written.append(ctx.clock.now())
    if read is not None and read.unreachable is not None:
        say(
            f"[yellow]FORCE_FAIL in {region} could not be read[/yellow] "
            f"({literal(str(read.unreachable))}); if it was set, run `failover force-fail "
            f"--region {region} --restore --via function` once {region} answers."
        )
    report = ForceFailReport(change, check=check_change)
    started = max((t for t in written if t is not None), default=None)
    return _follow(ctx, observer, report, before, started, timeout, say)


def _follow(
    ctx: Context,
    observer: Observer,
    report: ForceFailReport,
    before: Baseline | None,
    written_at: float | None,
    timeout: float,
    say: Say,
) -> ForceFailReport:
    """With --wait: time the phases that follow the write."""
    if before is None or written_at is None:
        return report
    region, wanted = report.region, report.wanted
    goals = (
        failover_goals(observer, region, before)
        if wanted
        else failback_goals(observer, ctx.config, region, before)
    )
    half = "failover" if wanted else "failback"
    say(f"Following the {half} (up to {timeout:.0f}s):")
    try:
        phases, seconds = watch(
            goals, clock=ctx.clock, started_at=written_at, timeout=timeout, say=say
        )
    except KeyboardInterrupt:
        if report.change is not None and report.change.changed:
            say(f"Interrupted while following the {half}. {_took_effect(region, wanted)}")
        else:
            state = "on" if wanted else "off"
            say(f"Interrupted while following the {half}: the override is {state} in {region}.")
        raise
    return replace(report, watch=Watch(region, report.action, phases, seconds))


_NOTHING_DONE = (
    "Interrupted before any change: FORCE_FAIL in {region} and its health check are as they were."
)


def _before(observer: Observer, region: str, wait: bool, say: Say) -> Baseline | None:
    """With --wait, what is seen before the change (said, and kept for the phases)."""
    if not wait:
        return None
    before = take_baseline(observer, region)
    if before.describe():
        say(f"Before: {literal(before.describe())}")
    return before


def _undo(region: str) -> str:
    return f"Undo it with `failover force-fail --region {region} --restore`."


@contextmanager
def _saying_the_state(ctx: Context, region: str, wanted: bool, say: Say) -> Iterator[None]:
    """Around the write: on Ctrl-C say what FORCE_FAIL is now; on an error, put it in the
    error's hint (the error is translated here so that it can carry it)."""
    try:
        yield
    except KeyboardInterrupt:
        say(f"Interrupted. {flag_state(ctx, region, wanted)}")
        raise
    except Exception as error:
        translated = translate(error, region=region, service="lambda")
        if translated is None:
            raise
        hint = f" {translated.hint}" if translated.hint else ""
        translated.hint = flag_state(ctx, region, wanted) + hint
        if translated is error:
            raise
        raise translated from error


def flag_state(ctx: Context, region: str, wanted: bool, *, timeout: float = 10.0) -> str:
    """FORCE_FAIL in `region` as read now, next to what was `wanted`, as a sentence.

    The read runs on a daemon thread and is given up after `timeout`, so a network
    that broke the write cannot hold the command's exit any longer.
    """
    answer: list[dict[str, str]] = []
    reader = threading.Thread(
        target=lambda: answer.append(variables_of(read_configuration(ctx, region))),
        name="force-fail-state",
        daemon=True,
    )
    try:
        reader.start()
        reader.join(timeout)
    except KeyboardInterrupt:  # a second Ctrl-C: stop asking
        pass
    if not answer:
        return (
            f"FORCE_FAIL in {region} could not be read just now: look at it with "
            "`failover status` before anything else."
        )
    value = answer[0].get(FORCE_FAIL, "(not set)")
    if is_force_failed(answer[0]) == wanted:
        return _took_effect(region, wanted, value)
    return f"FORCE_FAIL is still {value} in {region}: the change was not made."


def _took_effect(region: str, wanted: bool, value: str | None = None) -> str:
    value = value or ("true" if wanted else "false")
    text = f"FORCE_FAIL is {value} in {region}: the change took effect."
    if wanted:
        text += f" Undo it with `failover force-fail --region {region} --restore`."
    return text
