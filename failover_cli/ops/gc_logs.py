"""`gc-logs`: delete the log streams that never received an event, in the stack's own groups.

CloudWatch Logs never deletes a stream, even once retention has removed every
event, and each Lambda container start makes a new one. The rules:

- Only `/aws/lambda/<function>` in each config region, and only when the group
  carries the stack's ownership tags; a look-alike group is reported, not touched.
- A stream is empty when it has no firstEventTimestamp, lastEventTimestamp or
  lastIngestionTime (storedBytes is always 0 on AWS, so it proves nothing).
- An empty stream is deleted only once its creationTime is older than `min_age`:
  a warm container may still write into a young stream, and lastEventTimestamp
  itself can lag ingestion (AWS says "typically less than an hour").
- The group is listed to the end before anything is deleted. Ordered by name:
  ordering by LastEventTime needs a timestamp a never-written stream lacks (and
  that lags for the others), and deleting under a page token can end the
  listing early (moto's token names the last stream of the page).
- Deletes run a few at a time, paced under the API's rate; throttled calls are
  retried by botocore's adaptive mode; "already gone" counts as deleted.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from failover_cli.aws.retry import Clock
from failover_cli.aws.tags import not_ours
from failover_cli.engine.context import Context
from failover_cli.ops.fanout import per_region
from failover_cli.resources.log_group import observe_group

DEFAULT_MIN_AGE = 3600.0  # seconds
PAGE_SIZE = 50  # DescribeLogStreams' maximum
DELETE_THREADS = 4
DELETE_RATE = 10.0  # deletes per second per region: well under the ~25 TPS account quota
_EVENT_FIELDS = ("firstEventTimestamp", "lastEventTimestamp", "lastIngestionTime")


class Verdict(StrEnum):
    DELETE = "delete"
    YOUNG = "young"  # empty, but a container may still write into it
    EVENTS = "events"


def classify(stream: dict[str, Any], cutoff_ms: int) -> Verdict:
    """What to do with one DescribeLogStreams item; `cutoff_ms`: newest creationTime to delete."""
    if any(stream.get(name) for name in _EVENT_FIELDS):
        return Verdict.EVENTS
    created = stream.get("creationTime")
    if created is None or int(created) > cutoff_ms:
        return Verdict.YOUNG  # no creation time: not provably old, keep it
    return Verdict.DELETE


@dataclass(frozen=True)
class GroupSweep:
    """One region's log group: what was deleted (or would be, on a dry run) and kept."""

    region: str
    log_group: str
    skipped: str | None = None  # why the group was not looked into
    deleted: tuple[str, ...] = ()
    kept_young: tuple[str, ...] = ()
    kept_with_events: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        return {
            "deleted": len(self.deleted),
            "kept_young": len(self.kept_young),
            "kept_with_events": len(self.kept_with_events),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "log_group": self.log_group,
            "skipped": self.skipped,
            **self.counts(),
            "streams": {
                "deleted": list(self.deleted),
                "kept_young": list(self.kept_young),
                "kept_with_events": list(self.kept_with_events),
            },
        }


@dataclass(frozen=True)
class GcReport:
    stack: str
    dry_run: bool
    min_age: float  # seconds
    groups: tuple[GroupSweep, ...]

    def totals(self) -> dict[str, int]:
        keys = ("deleted", "kept_young", "kept_with_events")
        return {k: sum(g.counts()[k] for g in self.groups) for k in keys}

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "dry_run": self.dry_run,
            "min_age_seconds": self.min_age,
            "regions": [g.to_json() for g in self.groups],
            "total": self.totals(),
        }


class Pacer:
    """Spaces call starts at least 1/rate apart, shared by the threads of one region."""

    def __init__(self, rate: float, clock: Clock) -> None:
        self._gap = 1.0 / rate
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock.now()
            start = max(now, self._next)
            self._next = start + self._gap
        if start > now:
            self._clock.pause(start - now)


def gc_logs(
    ctx: Context,
    *,
    min_age: float = DEFAULT_MIN_AGE,
    dry_run: bool = False,
    now: Callable[[], float] = time.time,
    rate: float = DELETE_RATE,
) -> GcReport:
    """Sweep every region's log group in parallel; `now` is wall-clock seconds (creationTime's)."""
    cutoff_ms = int((now() - min_age) * 1000)
    swept = per_region(
        ctx.config.regions,
        lambda region: sweep(ctx, region, cutoff_ms, dry_run=dry_run, rate=rate),
        service="logs",
    )
    groups = tuple(swept.values())
    return GcReport(ctx.config.stack, dry_run, min_age, groups)


def sweep(
    ctx: Context, region: str, cutoff_ms: int, *, dry_run: bool, rate: float = DELETE_RATE
) -> GroupSweep:
    """One region: check ownership, list every stream, then delete the empty old ones."""
    name = ctx.config.log_group_name
    seen = observe_group(ctx, region)
    if not seen.exists:
        return GroupSweep(region, name, skipped="no such log group")
    why = not_ours(seen.raw["tags"], ctx.config.stack)
    if why is not None:
        return GroupSweep(region, name, skipped=f"{why}: left alone")
    logs = ctx.client("logs", region)
    verdicts: dict[Verdict, list[str]] = {v: [] for v in Verdict}
    for stream in list_streams(logs, name):
        verdicts[classify(stream, cutoff_ms)].append(stream["logStreamName"])
    doomed = verdicts[Verdict.DELETE]
    if doomed and not dry_run:
        delete_streams(logs, name, doomed, Pacer(rate, ctx.clock))
    return GroupSweep(
        region,
        name,
        deleted=tuple(doomed),
        kept_young=tuple(verdicts[Verdict.YOUNG]),
        kept_with_events=tuple(verdicts[Verdict.EVENTS]),
    )


def list_streams(logs: Any, group: str) -> list[dict[str, Any]]:
    """Every stream of `group`, all pages, ordered by name."""
    pages = logs.get_paginator("describe_log_streams").paginate(
        logGroupName=group,
        orderBy="LogStreamName",
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    return [stream for page in pages for stream in page.get("logStreams", [])]


def delete_streams(logs: Any, group: str, names: list[str], pacer: Pacer) -> None:
    """Delete `names` a few at a time; a stream (or group) already gone is success."""

    def delete(stream: str) -> None:
        pacer.wait()
        # Already gone (another sweep, or the group deleted meanwhile) is what we wanted.
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            logs.delete_log_stream(logGroupName=group, logStreamName=stream)

    with ThreadPoolExecutor(max_workers=DELETE_THREADS) as pool:
        # list() re-raises the first failure once the others are done.
        list(pool.map(delete, names))
