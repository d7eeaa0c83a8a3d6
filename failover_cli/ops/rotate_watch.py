"""Step 3 of `rotate-secret`: wait until every checker has really moved to the new path.

After UpdateHealthCheck, Route 53's checkers may keep probing the old path for
a while, and an observation cannot say which path it used. So the old secret
is dropped only once, for every checker of every check, both hold:

- time has passed: since the switch the checker has reported `threshold + 1`
  times (each report is one interval later than the one before), or its newest
  report is at least interval x threshold after the switch. Counting reports
  keeps this right in a time-scaled sandbox; the elapsed time keeps it right
  when polls are slower than the checkers;
- nothing got worse: its newest report after the switch is a success, unless
  it was not succeeding just before the switch (a region already failing,
  e.g. with FORCE_FAIL on, stays as it was and must not block the rotation).

"After the switch" is measured on the server's clock: the Date header of the
UpdateHealthCheck answer (rounded down to the second, hence one second more),
so a skewed local clock cannot make an old report look new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from failover_cli.aws.retry import wait_until
from failover_cli.engine.context import Context
from failover_cli.errors import TimeoutExpired
from failover_cli.services.check_status import try_read_status

DATE_RESOLUTION = timedelta(seconds=1)
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Report:
    """One checker's newest observation in a GetHealthCheckStatus answer."""

    checker: str  # "<region> <ip>": a checker region runs several checkers
    checked_at: datetime
    success: bool


def reports_of(answer: dict[str, Any]) -> list[Report]:
    found = []
    for item in answer.get("HealthCheckObservations") or []:
        status = item.get("StatusReport") or {}
        checked = status.get("CheckedTime")
        if not isinstance(checked, datetime):
            continue
        checked = checked if checked.tzinfo else checked.replace(tzinfo=UTC)
        checker = f"{item.get('Region', '')} {item.get('IPAddress', '')}"
        found.append(Report(checker, checked, str(status.get("Status", "")).startswith("Success")))
    return found


def server_time(answer: dict[str, Any], fallback: Callable[[], datetime]) -> datetime:
    """The moment after which the server had applied the call that gave `answer`."""
    headers = (answer.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    try:
        moment = parsedate_to_datetime(headers["date"])
    except (KeyError, TypeError, ValueError):
        moment = fallback()
    return moment + DATE_RESOLUTION


@dataclass
class CheckerWatch:
    """What one check's checkers reported since the switch (plain data, no AWS)."""

    check_id: str
    region: str
    switched_at: datetime
    interval_s: int
    threshold: int
    succeeding_before: set[str] | None = None  # None: nothing known, every checker must succeed
    times: dict[str, set[datetime]] = field(default_factory=dict)
    newest: dict[str, Report] = field(default_factory=dict)
    current: set[str] = field(default_factory=set)  # checkers in the last answer

    def add(self, reports: list[Report]) -> None:
        self.current = {r.checker for r in reports}
        for report in reports:
            if report.checked_at <= self.switched_at:
                continue
            self.times.setdefault(report.checker, set()).add(report.checked_at)
            newest = self.newest.get(report.checker)
            if newest is None or report.checked_at > newest.checked_at:
                self.newest[report.checker] = report

    def _moved(self, checker: str) -> bool:
        times = self.times.get(checker, set())
        if not times:
            return False
        span = timedelta(seconds=self.interval_s * self.threshold)
        return len(times) > self.threshold or max(times) - self.switched_at >= span

    def _fine(self, checker: str) -> bool:
        was_fine = self.succeeding_before is None or checker in self.succeeding_before
        return not was_fine or self.newest[checker].success

    def waiting_for(self) -> list[str]:
        """Checkers not done yet (all of them while no answer named any)."""
        if not self.current:
            return ["(no observations yet)"]
        return sorted(c for c in self.current if not (self._moved(c) and self._fine(c)))

    @property
    def done(self) -> bool:
        return not self.waiting_for()


def succeeding(answer: dict[str, Any]) -> set[str] | None:
    """Checkers whose newest report is a success; None when there is no report at all."""
    reports = reports_of(answer)
    return {r.checker for r in reports if r.success} if reports else None


def await_new_path(
    ctx: Context,
    watches: list[CheckerWatch],
    *,
    timeout: float,
    poll: float = POLL_SECONDS,
    hint: str | None = None,
) -> float:
    """Poll GetHealthCheckStatus until every watch is done; seconds waited."""
    started = ctx.clock.now()

    def all_done() -> bool:
        for watch in watches:
            if not watch.done:
                answer = try_read_status(ctx, watch.check_id, budget=poll)
                if answer is not None:  # still throttled: the next round asks again
                    watch.add(reports_of(answer))
        return all(w.done for w in watches)

    def describe() -> str:
        late = [f"{w.region}: {', '.join(w.waiting_for())}" for w in watches if not w.done]
        return "every checker to probe the new path successfully (still waiting for " + (
            "; ".join(late) + ")"
        )

    try:
        wait_until(all_done, what="the checkers", timeout=timeout, interval=poll, clock=ctx.clock)
    except TimeoutExpired:
        raise TimeoutExpired(
            f"Timed out after {int(timeout)}s waiting for {describe()}", hint=hint
        ) from None
    return ctx.clock.now() - started
