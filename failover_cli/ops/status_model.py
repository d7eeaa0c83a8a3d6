"""What `failover status` reports: frozen plain data, the health rules, and the JSON shape.

Nothing here calls AWS or the network (`status.py` gathers), so the rules are
tested on plain values. Missing pieces are kept as data ("missing" / None), never
as errors: a half-deleted stack is something to show, not a crash. No field ever
holds the health-checker secret; URLs carry it masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from failover_cli.errors import ExitCode
from failover_cli.resources.health_check_lookup import HEALTHY_SHARE  # Route 53's 18% rule

MISSING = "missing"
ACTIVE_STATE = "Active"
HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
UNKNOWN = "unknown"  # the check exists but no checker has reported yet


@dataclass(frozen=True)
class TableView:
    name: str
    status: str  # this region's own TableStatus, or "missing"
    replica_status: str | None = None  # as the primary lists this region; None for the primary


@dataclass(frozen=True)
class FunctionView:
    name: str
    state: str  # State (Active, Pending, Inactive, Failed) or "missing"
    last_update_status: str | None = None
    force_fail: bool = False

    @property
    def exists(self) -> bool:
        return self.state != MISSING


@dataclass(frozen=True)
class ApiView:
    id: str | None = None
    url: str | None = None  # https://<id>.execute-api.<R>.amazonaws.com/<stage>


@dataclass(frozen=True)
class CheckerReport:
    """One checker's last observation, as GetHealthCheckStatus lists it."""

    region: str
    status: str  # "Success: HTTP Status Code 200, OK" / "Failure: ..."
    checked_at: datetime | None = None

    @property
    def success(self) -> bool:
        return self.status.startswith("Success")


@dataclass(frozen=True)
class HealthCheckView:
    id: str | None
    status: str  # healthy | unhealthy | unknown | missing
    healthy_checkers: int = 0
    checkers: int = 0
    last_failure: str | None = None  # the newest failing observation's text

    @property
    def failing(self) -> bool:
        return self.status == UNHEALTHY


@dataclass(frozen=True)
class AlarmView:
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA | missing


@dataclass(frozen=True)
class ProbeView:
    """One live GET of the region's /health (shallow or deep)."""

    kind: str  # shallow | deep
    url: str  # with the secret masked
    status: int  # HTTP status; 0 when no answer came back
    latency_ms: float
    message: str | None = None  # the answer's "message", or the network error
    region: str | None = None  # X-Failover-Region of the answer

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class RegionStatus:
    region: str
    primary: bool
    table: TableView
    function: FunctionView
    api: ApiView
    health_check: HealthCheckView
    alarm: AlarmView
    probes: tuple[ProbeView, ...] = ()  # empty when there is nothing to probe

    @property
    def problems(self) -> list[str]:
        """Why the region is not healthy, in a few words each (empty when healthy)."""
        found = []
        fn = self.function
        if not fn.exists:
            found.append("function missing")
        elif fn.state != ACTIVE_STATE:
            found.append(f"function {fn.state}")
        if fn.force_fail:
            found.append("FORCE_FAIL is on")
        check = self.health_check
        if check.failing:
            found.append(f"health check unhealthy ({check.healthy_checkers}/{check.checkers})")
        if self.api.id is None:
            found.append("API missing")
        if fn.exists and self.api.id is not None and not self.probes:
            found.append("not probed")
        for probe in self.probes:
            if not probe.ok:
                answer = f"HTTP {probe.status}" if probe.status else "no answer"
                found.append(f"{probe.kind} probe: {answer}")
        return found

    @property
    def healthy(self) -> bool:
        # Function Active and not forced to fail, health check not failing (a check
        # that has not reported yet counts as healthy, as Route 53 treats it), and
        # the live probes answer 200.
        return not self.problems

    @property
    def exists(self) -> bool:
        return (
            self.table.status != MISSING
            or self.function.exists
            or self.api.id is not None
            or self.health_check.id is not None
            or self.alarm.state != MISSING
        )


@dataclass(frozen=True)
class DnsView:
    """Route 53's TestDNSAnswer for the custom domain."""

    name: str
    zone_id: str | None  # None when the hosted zone does not exist
    record_type: str = "A"
    record_data: tuple[str, ...] = ()
    response_code: str | None = None
    error: str | None = None  # why there is no answer to show


@dataclass(frozen=True)
class ServingView:
    """A request through the custom domain right now: who answered."""

    url: str  # with the secret masked
    status: int
    latency_ms: float
    region: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    pending: bool


@dataclass(frozen=True)
class StackStatus:
    stack: str
    regions: tuple[RegionStatus, ...]
    dns: DnsView | None = None  # None without a domain
    serving: ServingView | None = None  # None without a domain
    topic_arn: str | None = None
    subscriptions: tuple[Subscription, ...] = field(default_factory=tuple)

    @property
    def deployed(self) -> bool:
        return any(r.exists for r in self.regions) or self.topic_arn is not None

    @property
    def healthy(self) -> bool:
        return self.deployed and all(r.healthy for r in self.regions)

    @property
    def serving_region(self) -> str | None:
        return self.serving.region if self.serving is not None else None

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.healthy else ExitCode.DEGRADED

    def to_json(self) -> dict[str, Any]:
        """SPEC §2's object, plus replica status, probes, DNS answer and subscriptions."""
        return {
            "stack": self.stack,
            "deployed": self.deployed,
            "healthy": self.healthy,
            "serving_region": self.serving_region,
            "regions": [_region_json(r) for r in self.regions],
            "dns": _dns_json(self.dns),
            "serving": _plain(self.serving),
            "alarms": {
                "topic": self.topic_arn,
                "subscriptions": [_plain(s) for s in self.subscriptions],
            },
        }


def summarise_check(
    check_id: str,
    reports: Sequence[CheckerReport],
    *,
    disabled: bool = False,
    inverted: bool = False,
) -> HealthCheckView:
    """Route 53's verdict from raw observations: healthy above 18% of healthy checkers.

    A disabled check counts as healthy; an inverted one flips each report.
    """
    checkers = len(reports)
    healthy = sum(1 for r in reports if r.success != inverted)
    failures = [r for r in reports if r.success == inverted]
    newest = max(failures, key=_checked_at, default=None)
    last_failure = newest.status if newest is not None else None
    if disabled:
        status = HEALTHY
    elif checkers == 0:
        status = UNKNOWN
    else:
        status = HEALTHY if healthy / checkers > HEALTHY_SHARE else UNHEALTHY
    return HealthCheckView(check_id, status, healthy, checkers, last_failure)


def missing_check() -> HealthCheckView:
    return HealthCheckView(None, MISSING)


def _checked_at(report: CheckerReport) -> float:
    return report.checked_at.timestamp() if report.checked_at is not None else 0.0


def _region_json(region: RegionStatus) -> dict[str, Any]:
    probes = {p.kind: {**_fields(p), "ok": p.ok} for p in region.probes}
    return {
        "region": region.region,
        "primary": region.primary,
        "healthy": region.healthy,
        "problems": region.problems,
        "force_fail": region.function.force_fail,
        "table": _plain(region.table),
        "function": _plain(region.function),
        "api": _plain(region.api),
        "health_check": _plain(region.health_check),
        "alarm": _plain(region.alarm),
        "probe": probes or None,
    }


def _dns_json(dns: DnsView | None) -> dict[str, Any] | None:
    if dns is None:
        return None
    data = _fields(dns)
    data["record_data"] = list(dns.record_data)
    return data


def _plain(view: Any) -> dict[str, Any] | None:
    return None if view is None else _fields(view)


def _fields(view: Any) -> dict[str, Any]:
    return {name: getattr(view, name) for name in view.__dataclass_fields__}
