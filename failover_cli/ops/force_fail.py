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
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.errors import translate
from failover_cli.engine.context import Context
from failover_cli.errors import BadInput, FailoverError
from failover_cli.ops.flag import (
    FORCE_FAIL,
    FlagChange,
    is_force_failed,
    read_configuration,
    set_force_fail,
    variables_of,
)
from failover_cli.ops.goals import failback_goals, failover_goals, take_baseline
from failover_cli.ops.phases import Say, Watch, literal, watch
from failover_cli.ops.readings import AwsObserver, HealthReading, Observer

DEFAULT_TIMEOUT = 600.0
OVERRIDE_FLAG = "--allow-total-outage"


def _silent(_message: str) -> None:
    pass


@dataclass(frozen=True)
class RegionState:
    """Whether a region could take the traffic if another one fails."""

    region: str
    function_exists: bool
    force_failed: bool
    health: HealthReading | None  # None: could not be read

    @property
    def healthy(self) -> bool:
        unhealthy_check = self.health is not None and self.health.healthy is False
        return self.function_exists and not self.force_failed and not unhealthy_check

    def describe(self) -> str:
        if not self.function_exists:
            return f"{self.region}: function missing"
        if self.force_failed:
            return f"{self.region}: FORCE_FAIL is on"
        health = self.health.describe() if self.health else "health check unreadable"
        return f"{self.region}: health check {health}"


@dataclass(frozen=True)
class ForceFailReport:
    change: FlagChange
    watch: Watch | None = None  # with --wait

    def to_json(self) -> dict[str, Any]:
        watched = self.watch
        return {
            "region": self.change.region,
            "action": self.change.action,
            "changed": self.change.changed,
            "previous": self.change.previous,
            "phases": [p.to_json() for p in watched.phases] if watched else [],
            "total_seconds": round(watched.total_seconds, 2) if watched else 0.0,
        }


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
    try:
        variables = variables_of(read_configuration(ctx, region))
    except FailoverError:
        return RegionState(region, False, False, None)
    try:
        health: HealthReading | None = observer.health(region)
    except Exception:  # unreadable health is shown, and does not count against the region
        health = None
    return RegionState(region, True, is_force_failed(variables), health)


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
) -> ForceFailReport:
    """Set (or with `restore` clear) FORCE_FAIL in `region`; with `wait`, time what follows."""
    require_region(ctx, region)
    observer = observer or AwsObserver(ctx)
    wanted = not restore
    try:
        current = variables_of(read_configuration(ctx, region))
        if is_force_failed(current) == wanted:
            state = "on" if wanted else "off"
            say(f"FORCE_FAIL is already {state} in {region}: nothing to change.")
            return ForceFailReport(FlagChange(region, wanted, current.get("FORCE_FAIL"), False))
        if wanted and not allow_total_outage:
            refuse_last_healthy(ctx, observer, region)
        before = take_baseline(observer, region) if wait else None
    except KeyboardInterrupt:
        say(f"Interrupted before any change: FORCE_FAIL in {region} is as it was.")
        raise
    if before is not None and before.describe():
        say(f"Before: {literal(before.describe())}")
    with _saying_the_state(ctx, region, wanted, say):
        change = set_force_fail(ctx, region, wanted)
    say(f"FORCE_FAIL={'true' if wanted else 'false'} is live in {region}.")
    if before is None or change.written_at is None:
        return ForceFailReport(change)
    goals = (
        failover_goals(observer, region, before)
        if wanted
        else failback_goals(observer, ctx.config, region, before)
    )
    half = "failover" if wanted else "failback"
    say(f"Following the {half} (up to {timeout:.0f}s):")
    try:
        phases, seconds = watch(
            goals, clock=ctx.clock, started_at=change.written_at, timeout=timeout, say=say
        )
    except KeyboardInterrupt:
        say(f"Interrupted while following the {half}. {_took_effect(region, wanted)}")
        raise
    return ForceFailReport(change, Watch(region, change.action, phases, seconds))


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
