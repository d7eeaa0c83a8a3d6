"""`failover logs`: the functions' log events from every region, merged by time.

Each region's group `/aws/lambda/<function>` is read with FilterLogEvents (the
CloudWatch Logs filter pattern syntax, `--filter`), all regions at once, each
read bounded by the read-only deadline and a wall time: a region that does not
answer is named and the others are still shown.

The health-checker secret never leaves this module: the functions' current (and,
during a rotation, next) secrets are read from their environment and masked in
every message, and so is any value quoted as the secret (`healthCheckerId=`, JSON,
Python repr, URL-encoded, any casing: `errors.redact`), which also covers the
secrets of before a rotation that old events may still hold. Masking fails closed:
when a region's function cannot be read (denied, failing, missing), its secret is
unknown, so every secret-shaped value (a run of 32 or more hex digits, as
`new_secret()` makes them) is masked too.

Following (`--follow`) re-reads every FOLLOW_SECONDS from a little before the
newest event seen (events can be ingested late), dropping event ids already shown.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from failover_cli.aws.deadlines import READ_ONLY
from failover_cli.aws.errors import error_code
from failover_cli.aws.outage import Unreachable, answer_within
from failover_cli.aws.tags import not_ours
from failover_cli.engine.context import Context
from failover_cli.engine.secret import NEXT_SECRET_VARIABLE, SECRET_VARIABLE, mask
from failover_cli.errors import redact
from failover_cli.resources.log_group import observe_group

REGION_WAIT = 15.0  # seconds a region's reads may take before it is reported unreachable
MAX_EVENTS = 10_000  # per region and read: more than anyone reads in a terminal
FOLLOW_SECONDS = 2.0
LATE_MS = 10_000  # ingestion can lag: each follow read looks back this far
# Lines Lambda itself writes around each invocation and cold start (shown with --platform).
PLATFORM_LINE = re.compile(r"(START|END|REPORT) RequestId: |INIT_(START|REPORT|RUNTIME_DONE) ")


@dataclass(frozen=True, order=True)
class LogEvent:
    timestamp: int  # epoch milliseconds, as CloudWatch Logs gives it
    region: str
    stream: str
    message: str
    event_id: str = field(compare=False)

    @property
    def time(self) -> str:
        moment = datetime.fromtimestamp(self.timestamp / 1000, tz=UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.timestamp % 1000:03d}Z"

    def to_json(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "timestamp": self.timestamp,
            "region": self.region,
            "stream": self.stream,
            "message": self.message,
        }


@dataclass(frozen=True)
class LogBatch:
    """One read of every region: the events merged by time, and what could not be read."""

    events: tuple[LogEvent, ...]
    problems: dict[str, str]  # region -> why its events are missing
    truncated: tuple[str, ...] = ()  # regions that had more than MAX_EVENTS


# A value that could be a health-checker secret although nothing names it as one:
# new_secret() makes 48 hex digits; 32 and more also covers secrets of other lengths.
SECRET_SHAPED = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{32,}(?![0-9A-Za-z])")


class Masker:
    """Masks every secret the stack's functions hold, and any value quoted as one;
    with `by_shape` (some secret could not be read) every secret-shaped value too."""

    def __init__(self, secrets: Iterable[str] = (), *, by_shape: bool = False) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.by_shape = by_shape

    def __call__(self, text: str) -> str:
        text = redact(text)  # quoted ones first: old secrets, whatever they were
        for secret in self.secrets:
            text = text.replace(secret, mask(secret))
        if self.by_shape:
            text = SECRET_SHAPED.sub(lambda m: mask(m.group()), text)
        return text


@dataclass(frozen=True)
class SecretLookup:
    """The secrets the functions hold, and the regions whose function could not be read."""

    secrets: frozenset[str]
    unread: dict[str, str]  # region -> why (then its secret is unknown)

    def masker(self) -> Masker:
        # Fail closed: a region unread may hold a secret the others do not (mid-rotation,
        # or a stack re-created with a new one), and no secret read at all masks nothing.
        return Masker(self.secrets, by_shape=bool(self.unread) or not self.secrets)


def read_secrets(ctx: Context, regions: Sequence[str]) -> SecretLookup:
    """Every health-checker secret the functions hold, and why a region's is unknown."""

    def secrets_of(region: str) -> tuple[set[str], str | None]:
        lam = ctx.client("lambda", region, READ_ONLY)
        try:
            answer = answer_within(
                lambda: lam.get_function_configuration(FunctionName=ctx.config.function.name),
                REGION_WAIT,
                region=region,
                what="its Lambda API",
            )
        except Exception as error:  # denied, missing, or no answer: its secret is unknown
            return set(), redact(error_code(error) or str(error))
        variables = answer.get("Environment", {}).get("Variables", {})
        held = {variables.get(SECRET_VARIABLE, ""), variables.get(NEXT_SECRET_VARIABLE, "")}
        return held - {""}, None

    with ThreadPoolExecutor(max_workers=max(len(regions), 1)) as pool:
        found = dict(zip(regions, pool.map(secrets_of, regions), strict=True))
    return SecretLookup(
        frozenset().union(*(held for held, _ in found.values())),
        {region: why for region, (_, why) in found.items() if why},
    )


def read_events(
    ctx: Context,
    regions: Sequence[str],
    start_ms: int,
    *,
    pattern: str | None = None,
    masker: Masker | None = None,
    platform: bool = False,
) -> LogBatch:
    """Every event since `start_ms` in each region's function log group, merged by time;
    Lambda's own START/END/REPORT/INIT lines only with `platform`."""
    masker = masker or Masker()
    group = ctx.config.log_group_name

    def read(region: str) -> tuple[list[LogEvent], str | None, bool]:
        try:
            why = answer_within(
                lambda: _not_ours(ctx, region),
                REGION_WAIT,
                region=region,
                what="its CloudWatch Logs API",
            )
            if why is not None:
                return [], f"log group {group} in {region} is {why}; not shown", False
            events, more = answer_within(
                lambda: _filter(ctx, region, group, start_ms, pattern),
                REGION_WAIT,
                region=region,
                what="its CloudWatch Logs API",
            )
        except Unreachable as why:
            return [], str(why), False
        except Exception as error:
            code = error_code(error)
            if code == "ResourceNotFoundException":
                return [], f"no log group {group} in {region} (deploy with `failover up`)", False
            raise
        shown = [
            LogEvent(
                int(e["timestamp"]),
                region,
                str(e.get("logStreamName", "")),
                masker(str(e.get("message", "")).rstrip("\n")),
                str(e.get("eventId", "")),
            )
            for e in events
            if platform or not PLATFORM_LINE.match(str(e.get("message", "")))
        ]
        return shown, None, more

    with ThreadPoolExecutor(max_workers=max(len(regions), 1)) as pool:
        results = dict(zip(regions, pool.map(read, regions), strict=True))
    # A stable sort on time: events of one stream with equal timestamps (one request's
    # lines, often within a millisecond) keep the order CloudWatch returned them in.
    merged = sorted(
        (e for events, _, _ in results.values() for e in events),
        key=lambda e: (e.timestamp, e.region, e.stream),
    )
    problems = {r: why for r, (_, why, _) in results.items() if why}
    truncated = tuple(r for r, (_, _, more) in results.items() if more)
    return LogBatch(tuple(merged), problems, truncated)


def _not_ours(ctx: Context, region: str) -> str | None:
    """Why the group of the stack's name in `region` is another's; None when it is the
    stack's or missing (then the read says so). Asked once per run: `--follow` re-reads."""

    def ask() -> str | None:
        seen = observe_group(ctx, region)
        return not_ours(seen.raw["tags"], ctx.config.stack) if seen.exists else None

    return ctx.memo(f"logs-owner:{region}", ask)


def _filter(
    ctx: Context, region: str, group: str, start_ms: int, pattern: str | None
) -> tuple[list[dict[str, Any]], bool]:
    """(the group's events since start_ms, whether there were more than MAX_EVENTS)."""
    logs = ctx.client("logs", region, READ_ONLY)
    arguments: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
    if pattern:
        arguments["filterPattern"] = pattern
    events: list[dict[str, Any]] = []
    for page in logs.get_paginator("filter_log_events").paginate(**arguments):
        events.extend(page.get("events", []))
        if len(events) > MAX_EVENTS:
            return events[:MAX_EVENTS], True
    return events, False


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Follower:
    """Re-reads the regions and hands on only events not shown yet, in time order."""

    ctx: Context
    regions: Sequence[str]
    start_ms: int
    pattern: str | None = None
    masker: Masker = field(default_factory=Masker)
    platform: bool = False
    _seen: dict[tuple[str, str], int] = field(default_factory=dict)  # (region, id) -> timestamp
    _newest: int = 0

    def next_batch(self) -> LogBatch:
        since = max(self.start_ms, self._newest - LATE_MS) if self._newest else self.start_ms
        batch = read_events(
            self.ctx,
            self.regions,
            since,
            pattern=self.pattern,
            masker=self.masker,
            platform=self.platform,
        )
        fresh = tuple(e for e in batch.events if (e.region, e.event_id) not in self._seen)
        for event in fresh:
            self._seen[(event.region, event.event_id)] = event.timestamp
            self._newest = max(self._newest, event.timestamp)
        # Ids older than the look-back can never come again: forget them.
        horizon = self._newest - 2 * LATE_MS
        self._seen = {k: t for k, t in self._seen.items() if t >= horizon}
        return LogBatch(fresh, batch.problems, batch.truncated)

    def run(self, show: Callable[[LogBatch], None], sleep: Callable[[float], None]) -> None:
        """Show batches until interrupted (Ctrl-C ends it from the caller)."""
        while True:
            show(self.next_batch())
            sleep(FOLLOW_SECONDS)
