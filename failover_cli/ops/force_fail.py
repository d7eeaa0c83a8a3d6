"""`force-fail`: take one region out of DNS on purpose through the switch (or put it back).

The lever is data: the switch item in the stack's global table (services/switch_replicas).
Forcing R out writes R into it in the replica of every other region at once and succeeds
on the first that answers; Route 53's switch readers see it there and R's CALCULATED check
turns unhealthy, so DNS leaves R within the readers' interval x threshold plus replication.
No call is answered in R, and none in us-east-1 unless it is one of the replicas written:
neither Route 53's API nor any Lambda API is needed, so it works on the day they are down.

Rules, checked before anything is written (so a refusal changes nothing):
- the region must be one of the config's regions;
- the switch already saying what is asked (in a replica that answered) is success with no write;
- forcing out is refused when every other region is forced out as read in any answering
  replica (`--allow-total-outage` overrides; a drill never does). The write itself carries
  the same guard as its condition, so two concurrent force-fails cannot both pass it.

Interrupted (Ctrl-C) or stopped by an error once the write may have begun, it reads the
switch afresh and says what it holds: one UpdateItem per replica is whole or absent.
"""

from __future__ import annotations

import getpass
import socket
import threading
from dataclasses import dataclass, replace
from typing import Any

from failover_cli.engine.context import Context
from failover_cli.errors import BadInput, FailoverError
from failover_cli.net.http import RESOLVE_HINT
from failover_cli.ops.failover_goals import Baseline, failback_goals, failover_goals, take_baseline
from failover_cli.ops.failover_observer import AwsObserver, Observer
from failover_cli.ops.phase_watch import Say, Watch, literal, watch
from failover_cli.services.switch_replicas import (
    READ_GRACE,
    ReplicaSwitch,
    SwitchRefused,
    read_switch,
    stamp,
    write_forced_out,
)

DEFAULT_TIMEOUT = 600.0
OVERRIDE_FLAG = "--allow-total-outage"
WRITE_ATTEMPTS = 3  # a refusal because the switch moved meanwhile: read again and retry


def _silent(_message: str) -> None:
    pass


@dataclass(frozen=True)
class ForceFailReport:
    """What force-fail did to the switch, and (with --wait) what followed."""

    region: str
    wanted: bool  # True: forced out; False: restored
    changed: bool  # False: the switch already said so, nothing was written
    written_in: str | None = None  # the replica that took the write first
    watch: Watch | None = None

    @property
    def action(self) -> str:
        return "fail" if self.wanted else "restore"

    def to_json(self) -> dict[str, Any]:
        watched = self.watch
        return {
            "region": self.region,
            "action": self.action,
            "via": "switch",
            "changed": self.changed,
            "written_in": self.written_in,
            "phases": [p.to_json() for p in watched.phases] if watched else [],
            "total_seconds": round(watched.total_seconds, 2) if watched else 0.0,
        }


@dataclass(frozen=True)
class SwitchView:
    """The switch as the replicas that answered hold it."""

    replicas: dict[str, ReplicaSwitch | None]  # None: no answer

    @property
    def answered(self) -> list[ReplicaSwitch]:
        return [s for s in self.replicas.values() if s is not None]

    @property
    def forced_out(self) -> frozenset[str]:
        """Regions forced out in any answering replica (the guard counts every one of them)."""
        return frozenset().union(*(s.forced_out for s in self.answered))

    def revisions(self) -> dict[str, int]:
        return {s.replica: s.revision for s in self.answered if s.seeded}

    def describe(self, region: str) -> str:
        entries = [s.entries[region] for s in self.answered if region in s.entries]
        if not entries:
            return f"{region}: in"
        entry = entries[0]
        where = ", ".join(s.replica for s in self.answered if region in s.entries)
        said = f"by {entry.get('by') or '?'} at {entry.get('at') or '?'}"
        return f"{region}: forced out ({said}, as {where} hold{'s' if ',' not in where else ''})"


def by_whom() -> str:
    """Who forces a region out, for the switch entry (user@host)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def require_region(ctx: Context, region: str) -> None:
    if region not in ctx.config.regions:
        # Quoted unless it reads like a region name: `--region ''` must not vanish.
        shown = region if region.replace("-", "").isalnum() and region.isascii() else repr(region)
        raise BadInput(
            f"{shown} is not one of stack {ctx.config.stack}'s regions "
            f"({', '.join(ctx.config.regions)})",
            hint="Pass --region with one of them.",
        )


def read_view(ctx: Context, region: str | None = None, *, seeded: bool = True) -> SwitchView:
    """The switch in every replica but `region`'s (no call is made there), each answering one
    waited for a little after the first; FailoverError when none answers or (with `seeded`)
    none holds the switch item. Without it, no item reads as nothing forced out."""
    asked = [r for r in ctx.config.regions if r != region]
    view = SwitchView(read_switch(ctx, asked, grace=READ_GRACE))
    if not view.answered:
        raise FailoverError(
            "No table replica answered the switch read ("
            + ", ".join(asked)
            + "): nothing was written",
            hint="Re-run the command; each replica gets a few seconds.",
        )
    if seeded and not any(s.seeded for s in view.answered):
        raise FailoverError(
            f"Stack {ctx.config.stack} has no switch item in table {ctx.config.table.name} "
            "(deployed by an older release, not deployed, or the table is not this stack's)",
            hint="Run `failover up` first: it adds the switch and carries over what the "
            "older release forced out.",
        )
    return view


def refuse_last_region(
    ctx: Context, region: str, view: SwitchView, *, hint: str | None = None
) -> None:
    """Raise BadInput (exit 2) when every other region is forced out as some replica sees it."""
    others = [r for r in ctx.config.regions if r != region]
    if others and all(r in view.forced_out for r in others):
        raise BadInput(
            f"Refusing to force {region} out: it is the last region of stack "
            f"{ctx.config.stack} in service ({'; '.join(view.describe(r) for r in others)})",
            hint=hint
            or f"Restore another region first, or pass {OVERRIDE_FLAG} to force it out "
            "anyway (the whole stack goes down).",
        )


def refuse_unwatchable(observer: Observer, doing: str) -> None:
    """Refuse (exit 2, nothing changed) to watch requests that cannot find their host:
    each would fail at once with a DNS error, and the watch would wait out its time-out."""
    problem = observer.unreachable()
    if problem is not None:
        raise BadInput(
            f"Refusing to {doing}: it follows requests through the custom domain, but {problem}",
            hint=f"Nothing was changed. {RESOLVE_HINT}",
        )


@dataclass(frozen=True)
class ReportedWrite:
    changed: bool
    written_in: str | None


def write_switch(
    ctx: Context,
    region: str,
    wanted: bool,
    view: SwitchView,
    *,
    why: str,
    guard: bool = True,
) -> ReportedWrite:
    """Write the switch (retrying when it moved since `view` was read); what it did."""
    keep = [r for r in ctx.config.regions if r != region] if guard and wanted else []
    at, by = stamp(), by_whom()
    for attempt in range(WRITE_ATTEMPTS):
        if _agreed(view, region, wanted):
            # Ours already, when an answer was lost and the resend refused: say so.
            mine = [s.replica for s in view.answered if s.entries.get(region, {}).get("at") == at]
            return ReportedWrite(bool(mine), mine[0] if mine else None)
        if guard and wanted:
            refuse_last_region(ctx, region, view)
        try:
            written = write_forced_out(
                ctx,
                region,
                wanted,
                by=by,
                why=why,
                revisions=view.revisions(),
                keep_one_of=keep,
                at=at,
            )
        except SwitchRefused as refused:
            if not wanted and not refused.silent:
                # Every replica answered and none holds the region: restored already.
                return ReportedWrite(False, None)
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            view = read_view(ctx, region, seeded=wanted)  # it moved: decide again on it now
            continue
        return ReportedWrite(True, written.written_in)
    raise AssertionError("unreachable")  # pragma: no cover


def _agreed(view: SwitchView, region: str, wanted: bool) -> bool:
    """Already as wanted: forced out in some replica (the others follow by replication), or
    restored in every replica read, all of them having answered: one that did not answer in
    time may still hold the region (a write it missed while its region was out, not yet
    replicated), so the restore is written everywhere rather than judged done."""
    if wanted:
        return region in view.forced_out
    complete = all(s is not None for s in view.replicas.values())
    return complete and all(region not in s.forced_out for s in view.answered)


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
    """Force `region` out (or with `restore` put it back); with `wait`, time what follows."""
    require_region(ctx, region)
    wanted = not restore
    if wait:
        observer = observer or AwsObserver(ctx)
        refuse_unwatchable(observer, f"{'fail' if wanted else 'restore'} {region} and follow it")
    try:
        view = read_view(ctx, region, seeded=wanted)
        if _agreed(view, region, wanted):
            state = "forced out" if wanted else "in service"
            say(f"The switch already has {region} {state}: nothing to change.")
            return ForceFailReport(region, wanted, False)
        if wanted and not allow_total_outage:
            refuse_last_region(ctx, region, view)
        before = _before(observer, region, say) if wait and observer else None
    except KeyboardInterrupt:
        say(f"Interrupted before any change: the switch is as it was for {region}.")
        raise
    try:
        written = write_switch(
            ctx, region, wanted, view, why="force-fail", guard=not allow_total_outage
        )
    except KeyboardInterrupt:
        say(f"Interrupted during the switch write. {switch_state(ctx, region, wanted)}")
        raise
    except FailoverError as error:
        if not isinstance(error, SwitchRefused):
            error.hint = f"{switch_state(ctx, region, wanted)} {error.hint or ''}".strip()
        raise
    started = ctx.clock.now()
    report = ForceFailReport(region, wanted, written.changed, written.written_in)
    say(_written(ctx, report))
    if before is None or observer is None:
        return report
    return _follow(ctx, observer, report, before, started, timeout, say)


def _written(ctx: Context, report: ForceFailReport) -> str:
    settings = ctx.config.switch
    takes = settings.interval_s * settings.failure_threshold
    where = f"written in {report.written_in}'s replica; the others follow by replication"
    if report.wanted:
        return (
            f"{report.region} is forced out in the switch ({where}). Route 53's readers take "
            f"it out of DNS within about {takes}s (interval x threshold) plus replication. "
            f"Undo it with `failover force-fail --region {report.region} --restore`."
        )
    return f"{report.region} is back in the switch ({where}); DNS returns within about {takes}s."


def _follow(
    ctx: Context,
    observer: Observer,
    report: ForceFailReport,
    before: Baseline,
    written_at: float,
    timeout: float,
    say: Say,
) -> ForceFailReport:
    """With --wait: time the phases that follow the write."""
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
        state = "forced out" if wanted else "back in service"
        say(f"Interrupted while following the {half}: {region} is {state} in the switch.")
        raise
    return replace(report, watch=Watch(region, report.action, phases, seconds))


def _before(observer: Observer, region: str, say: Say) -> Baseline:
    """What is seen before the change (said, and kept for the phases)."""
    before = take_baseline(observer, region)
    if before.describe():
        say(f"Before: {literal(before.describe())}")
    return before


def switch_state(ctx: Context, region: str, wanted: bool, *, timeout: float = 10.0) -> str:
    """The switch for `region` as read now (the other regions' replicas), next to what was
    `wanted`, as a sentence. Read on a daemon thread and given up after `timeout`, so a
    network that broke the write cannot hold the command's exit any longer."""
    answer: list[SwitchView] = []

    def read() -> None:
        asked = [r for r in ctx.config.regions if r != region]
        answer.append(SwitchView(read_switch(ctx, asked, timeout=timeout, grace=READ_GRACE)))

    reader = threading.Thread(target=read, name="switch-state", daemon=True)
    try:
        reader.start()
        reader.join(timeout + 1)
    except KeyboardInterrupt:  # a second Ctrl-C: stop asking
        pass
    if not answer or not answer[0].answered:
        return (
            f"The switch could not be read just now: look at {region} with `failover status` "
            "before anything else."
        )
    view = answer[0]
    out = [s.replica for s in view.answered if region in s.forced_out]
    inn = [s.replica for s in view.answered if region not in s.forced_out]
    if bool(out) == wanted and (wanted or not out):
        state = "forced out" if wanted else "in service"
        text = f"The switch has {region} {state}: the change took effect."
        if wanted:
            text += f" Undo it with `failover force-fail --region {region} --restore`."
        return text
    if out and inn:
        return (
            f"The switch has {region} forced out in {', '.join(out)} and in service in "
            f"{', '.join(inn)} (replication under way, or a replica impaired): look with "
            "`failover status`."
        )
    state = "in service" if wanted else "forced out"
    return f"The switch still has {region} {state}: the change was not made."
