"""`drill`: force a region out through the switch, time the failover, restore it, time the failback.

The one promise that matters most: the region is back in the switch whatever happens —
a phase time-out, an AWS error, Ctrl-C, SIGTERM or SIGHUP. The failover half runs
inside `signals_as_interrupts` and a try block whose every exit restores; the
restore itself runs shielded (a first Ctrl-C is held back, a second abandons
it with instructions) on a fresh clock, so a cancelled watch cannot cancel it.
An AWS error in the restore (beyond botocore's own retries) is retried for up to
RESTORE_BUDGET seconds before the drill gives up and says so loudly.

A drill starts only from a region that the switch has in service, when every region
answers (a region whose Lambda API gives no answer within its deadline is refused
at once, exit 2), and never takes the last healthy region down (no
--allow-total-outage here). Phase semantics are in
failover_goals.py; without a domain only the health-check phases are measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from failover_cli.aws.errors import is_permanent
from failover_cli.aws.retry import Backoff, Clock, retry
from failover_cli.engine.context import Context
from failover_cli.errors import BadInput, FailoverError
from failover_cli.ops.failover_goals import Baseline, failback_goals, failover_goals, take_baseline
from failover_cli.ops.failover_observer import AwsObserver, CheckSettings, Observer
from failover_cli.ops.force_fail import (
    DEFAULT_TIMEOUT,
    ReportedWrite,
    SwitchView,
    read_view,
    refuse_unwatchable,
    require_region,
    write_switch,
)
from failover_cli.ops.interrupts import shielded, signals_as_interrupts
from failover_cli.ops.phase_watch import Say, Watch, literal, watch
from failover_cli.ops.reachability import unreachable_regions

RESTORE_BUDGET = 60.0  # seconds of retrying a restore that met an AWS error


def _silent(_message: str) -> None:
    pass


@dataclass(frozen=True)
class DrillReport:
    stack: str
    region: str
    routing: str | None  # None without a domain
    domain: str | None
    settings: CheckSettings
    failover: Watch | None
    failback: Watch | None
    restored: bool
    total_seconds: float

    @property
    def complete(self) -> bool:
        halves = (self.failover, self.failback)
        return self.restored and all(h is not None and h.complete for h in halves)

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "domain": self.domain,
            "routing": self.routing,
            "health_check": {
                "interval_s": self.settings.interval_s,
                "failure_threshold": self.settings.failure_threshold,
                "detection_seconds": self.settings.detection_seconds,
            },
            "failover": self.failover.to_json() if self.failover else None,
            "failback": self.failback.to_json() if self.failback else None,
            "restored": self.restored,
            "totals": {
                "failover_seconds": _total(self.failover),
                "failback_seconds": _total(self.failback),
                "total_seconds": round(self.total_seconds, 2),
            },
        }


def _total(half: Watch | None) -> float | None:
    return round(half.total_seconds, 2) if half is not None else None


def drill(
    ctx: Context,
    region: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    observer: Observer | None = None,
    say: Say = _silent,
) -> DrillReport:
    """Run the drill on `region`; `timeout` bounds each half's watch."""
    require_region(ctx, region)
    observer = observer or AwsObserver(ctx)
    refuse_unwatchable(observer, f"start a drill on {region}")
    _refuse_unreachable(ctx, region)
    view = read_view(ctx, region)
    if region in view.forced_out:
        raise BadInput(
            f"{region} is already forced out in the switch, so a drill would measure nothing",
            hint=f"Restore it first: failover force-fail --region {region} --restore",
        )
    _refuse_last_healthy(ctx, observer, region, view)
    settings = observer.settings(region)
    before = take_baseline(observer, region)
    _announce(ctx, region, settings, before, observer, say)
    started = ctx.clock.now()

    failover: Watch | None = None
    with signals_as_interrupts():
        try:
            write_switch(ctx, region, True, view, why="drill")
            written_at = ctx.clock.now()
            say(f"{region} is forced out in the switch. Following the failover:")
            phases, seconds = watch(
                failover_goals(observer, region, before),
                clock=ctx.clock,
                started_at=written_at,
                timeout=timeout,
                say=say,
            )
            failover = Watch(region, "fail", phases, seconds)
            before_restore = take_baseline(observer, region)
        except BaseException:
            restore(ctx, region, say)  # then the original error or interrupt goes on
            raise
        restore(ctx, region, say)
        restored_at = ctx.clock.now()
        say(f"Following the failback of {region}:")
        phases, seconds = watch(
            failback_goals(observer, ctx.config, region, before_restore, before),
            clock=ctx.clock,
            started_at=restored_at,
            timeout=timeout,
            say=say,
        )
    domain = ctx.config.domain
    return DrillReport(
        stack=ctx.config.stack,
        region=region,
        routing=domain.routing if domain else None,
        domain=domain.name if domain else None,
        settings=settings,
        failover=failover,
        failback=Watch(region, "restore", phases, seconds),
        restored=True,
        total_seconds=ctx.clock.now() - started,
    )


def _refuse_unreachable(ctx: Context, region: str) -> None:
    """A drill measures a healthy stack: with any region not answering (the one to fail
    or another), it would measure the outage, and might not be able to restore."""
    out = unreachable_regions(ctx)
    if out:
        names = " and ".join(out)
        raise BadInput(
            f"Refusing to start a drill on {region}: "
            + "; ".join(str(why).rstrip(".") for why in out.values()),
            hint=f"Nothing was changed. Drill once {names} answers again; to take "
            f"{region} out of service now, use `failover force-fail --region {region}` "
            "(it needs nothing from the region it forces out).",
        )


def _refuse_last_healthy(ctx: Context, observer: Observer, region: str, view: SwitchView) -> None:
    """A drill never takes the last healthy region down: another region must be in the
    switch and not unhealthy (a check with no observations yet counts as healthy)."""

    def serving(other: str) -> tuple[bool, str]:
        if other in view.forced_out:
            return False, view.describe(other)
        try:
            health = observer.health(other)
        except Exception:  # unreadable health does not count against the region
            return True, f"{other}: health unreadable"
        return health.healthy is not False, f"{other}: health check {health.describe()}"

    others = [serving(r) for r in ctx.config.regions if r != region]
    if not any(ok for ok, _ in others):
        raise BadInput(
            f"Refusing to start a drill on {region}: it is the last healthy region of stack "
            f"{ctx.config.stack} ({'; '.join(why for _, why in others)})",
            hint="A drill never takes the last healthy region down: restore or repair another "
            "region first.",
        )


def restore(ctx: Context, region: str, say: Say) -> ReportedWrite:
    """Put `region` back in the switch, shielded from a first interrupt; say what happened."""
    fresh = Clock(now=ctx.clock.now, sleep=ctx.clock.sleep)  # the watch's may be cancelled
    doing = f"Restoring {region} in the switch"

    def again(error: Exception, pause: float) -> None:
        why = literal(_first_line(error))
        say(f"[yellow]The restore failed[/yellow] ({why}); trying again in {pause:.0f}s.")

    try:
        with shielded(say, doing) as shield:
            change = retry(
                lambda: write_switch(ctx, region, False, read_view(ctx, region), why="drill"),
                retryable=_worth_retrying,
                backoff=Backoff(first=1.0, cap=10.0, budget=RESTORE_BUDGET),
                clock=fresh,
                on_retry=again,
            )
    except BaseException as error:
        raise FailoverError(
            f"The drill could NOT put {region} back in the switch: {error or type(error).__name__}",
            hint=f"{region} is still forced out of DNS. Run "
            f"`failover force-fail --region {region} --restore` now.",
            region=region,
        ) from error
    say(f"[bold]Restored[/bold] {region} in the switch.")
    if shield.interrupted:
        raise KeyboardInterrupt("interrupted during the restore")
    return change


def _worth_retrying(error: Exception) -> bool:
    """Any AWS error but a lack of permission or credentials, or no replica answering:
    the restore must happen."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, FailoverError) and not isinstance(error, BadInput):
        return True  # no replica answered (or all refused a moving switch): read and try again
    return isinstance(error, ClientError | BotoCoreError) and not is_permanent(error)


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:160]


def _announce(
    ctx: Context,
    region: str,
    settings: CheckSettings,
    before: Baseline,
    observer: Observer,
    say: Say,
) -> None:
    say(
        f"[bold]Drill[/bold] on {region} of stack {ctx.config.stack}: health checks every "
        f"{settings.interval_s}s, {settings.failure_threshold} failure(s) to turn unhealthy "
        f"(about {settings.detection_seconds}s to notice)."
    )
    if not observer.has_domain:
        say("No custom domain in the config: only the health-check phases are measured.")
    if before.describe():
        say(f"Before: {literal(before.describe())}")
    if before.health is not None and before.health.healthy is False:
        say(
            f"[yellow]The health check of {region} is already unhealthy[/yellow]: its timing "
            "will not mean much."
        )
