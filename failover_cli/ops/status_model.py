"""What `failover status` reports: frozen plain data, the health rules, and the JSON shape.

Nothing here calls AWS or the network (`status.py` gathers), so the rules are
tested on plain values. Missing pieces are kept as data ("missing" / None), never
as errors: a half-deleted stack is something to show, not a crash. A fact that
could not be read (its region's endpoints did not answer in time) is None, and
the region says so (`reachable`, `error`, `unread`). No field ever holds the
health-checker secret; URLs carry it masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from failover_cli.aws.tags import NOT_OURS
from failover_cli.errors import ExitCode
from failover_cli.services.health_checks import HEALTHY_SHARE

MISSING = "missing"
ACTIVE_STATE = "Active"
HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
UNKNOWN = "unknown"  # the check exists but no checker has reported yet
DNS_API_SOURCE = "Route 53 TestDNSAnswer"


@dataclass(frozen=True)
class TableView:
    name: str
    status: str  # this region's own TableStatus, or "missing"
    replica_status: str | None = None  # as the primary lists this region; None for the primary
    not_ours: str | None = None  # why a table of this name is not the stack's (status NOT_OURS)

    @property
    def exists(self) -> bool:
        return self.status not in (MISSING, NOT_OURS)


@dataclass(frozen=True)
class FunctionView:
    name: str
    state: str  # State (Active, Pending, Inactive, Failed) or "missing"
    last_update_status: str | None = None
    force_fail: bool = False
    not_ours: str | None = None  # why a function of this name is not the stack's (NOT_OURS)
    live_version: str | None = None  # the version the `live` alias serves (None: no alias)
    live_code: str | None = None  # that version's CodeSha256
    # its code and settings (services/live_alias.release_id): a settings-only release
    # differs here, not in the code
    live_release: str | None = None
    live_since: str | None = None  # when that version was published (its LastModified)

    @property
    def exists(self) -> bool:
        return self.state not in (MISSING, NOT_OURS)


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
    override: bool = False  # force-fail's health-check override is in place
    note: str | None = None  # why the status is unknown: "throttled" (Route 53's quota)

    @property
    def failing(self) -> bool:
        return self.status == UNHEALTHY


@dataclass(frozen=True)
class AlarmView:
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA | missing


# How API Gateway's resource policy refuses a caller (its 403 body's "Message").
ALLOW_LIST_REFUSAL = "User: anonymous is not authorized to perform: execute-api:Invoke"


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

    @property
    def refused_by_allow_list(self) -> bool:
        """API Gateway's resource policy (access.allow) refused this machine: the probe
        says nothing about the region's health, only that the caller is not listed."""
        return self.status == 403 and (self.message or "").startswith(ALLOW_LIST_REFUSAL)


@dataclass(frozen=True)
class SwitchView:
    """Region R in the switch item, as each replica holds it, and the checks reading it.

    Route 53 takes R out when a live reader in another region Q finds R forced out in Q's
    replica: R is forced out when any other region's replica says so. A replica that
    says otherwise is lagging behind replication, or its region is impaired.
    """

    region: str
    seen_by: dict[str, bool | None]  # replica region -> sees R forced out (None: not read)
    entry: dict[str, str] | None = None  # at / by / why, from a replica that sees it out
    readers: dict[str, str] = field(default_factory=dict)  # reader region -> Route 53 verdict
    calculated: str | None = None  # R's CALCULATED check (probe AND readers); None: not read

    @property
    def forced_out(self) -> bool | None:
        """As the other regions' replicas hold it (their readers decide); with none of them
        read, as R's own replica holds it; None when no replica could be read."""
        seen = [v for q, v in self.seen_by.items() if q != self.region and v is not None]
        if not seen and self.seen_by.get(self.region) is not None:
            return self.seen_by[self.region]
        return any(seen) if seen else None

    @property
    def disagreeing(self) -> list[str]:
        """The replicas whose copy says otherwise than `forced_out`."""
        verdict = self.forced_out
        if verdict is None:
            return []
        return [q for q, v in self.seen_by.items() if v is not None and v != verdict]


# The facts of a region, by their JSON names. Its own (function, API) decide its health
# when unread; a health check or alarm unread (Route 53 and CloudWatch answer from
# us-east-1) is shown as such without making another region unhealthy.
HEALTH_FACTS = ("function", "api")
FACTS = ("table", *HEALTH_FACTS, "health_check", "alarm")


@dataclass(frozen=True)
class RegionStatus:
    region: str
    primary: bool
    # None: not read (the endpoints that hold it did not answer in time)
    table: TableView | None
    function: FunctionView | None
    api: ApiView | None
    health_check: HealthCheckView | None
    alarm: AlarmView | None
    probes: tuple[ProbeView, ...] = ()  # empty when there is nothing to probe
    reachable: bool = True  # False: this region's own endpoints did not answer
    error: str | None = None  # why, in a sentence ("no answer in 8s from lambda ...")
    switch: SwitchView | None = None  # None: a status gathered without the switch

    @property
    def unread(self) -> list[str]:
        return [name for name in FACTS if getattr(self, name) is None]

    @property
    def overrides(self) -> dict[str, bool | None]:
        """Which force-fail mechanism is active: FORCE_FAIL, the health-check override."""
        fn, check = self.function, self.health_check
        return {
            "function": None if fn is None else fn.force_fail,
            "health_check": None if check is None else check.override,
        }

    @property
    def force_fail(self) -> bool | None:
        """Forced out by the switch or an older lever (None: none could be read)."""
        levers = [*self.overrides.values(), self.switch.forced_out if self.switch else None]
        known = [v for v in levers if v is not None]
        return any(known) if known else None

    @property
    def problems(self) -> list[str]:
        """Why the region is not healthy, in a few words each (empty when healthy)."""
        found = []
        if not self.reachable:
            found.append(f"unreachable ({self.error or 'no answer'})")
        unread = [n.replace("_", " ") for n in HEALTH_FACTS if getattr(self, n) is None]
        if unread:
            found.append(f"not read: {', '.join(unread)}")
        fn, check, api = self.function, self.health_check, self.api
        if fn is not None:
            if fn.state == NOT_OURS:
                found.append(f"function {fn.name} is {fn.not_ours}")
            elif not fn.exists:
                found.append("function missing")
            elif fn.state != ACTIVE_STATE:
                found.append(f"function {fn.state}")
            if fn.force_fail:
                found.append("FORCE_FAIL is on")
        if self.switch is not None and self.switch.forced_out:
            found.append("forced out by the switch")
        if check is not None:
            if check.override:
                found.append("health-check override is on")
            if check.failing:
                found.append(f"health check unhealthy ({check.healthy_checkers}/{check.checkers})")
        if api is not None and api.id is None:
            found.append("API missing")
        probed = fn is not None and fn.exists and api is not None and api.id is not None
        if probed and not self.probes:
            found.append("not probed")
        for probe in self.probes:
            if not probe.ok and not probe.refused_by_allow_list:
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
        """Something of the stack is here (a region that could not be read counts)."""
        if not self.reachable or self.unread:
            return True
        assert self.table and self.function and self.api and self.health_check and self.alarm
        return (
            self.table.exists
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
    # Who gave the answer: Route 53's TestDNSAnswer, or (its API silent) a name server.
    source: str = DNS_API_SOURCE


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
    unread: tuple[str, ...] = ()  # stack-wide facts not read: "dns", "alarm topic"
    timeout: float | None = None  # the wall time each region was given

    @property
    def deployed(self) -> bool:
        return any(r.exists for r in self.regions) or self.topic_arn is not None

    @property
    def not_ours(self) -> list[str]:
        """Resources found under the stack's names that belong to someone else, one line each."""
        found = []
        for r in self.regions:
            if r.table is not None and r.table.not_ours:
                found.append(f"table {r.table.name} in {r.region} is {r.table.not_ours}")
            if r.function is not None and r.function.not_ours:
                found.append(f"function {r.function.name} in {r.region} is {r.function.not_ours}")
        return found

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
            "not_ours": self.not_ours,
            "healthy": self.healthy,
            "serving_region": self.serving_region,
            "regions": [_region_json(r) for r in self.regions],
            "dns": _dns_json(self.dns),
            "serving": _plain(self.serving),
            "alarms": {
                "topic": self.topic_arn,
                "subscriptions": [_plain(s) for s in self.subscriptions],
            },
            "unread": list(self.unread),
        }


def summarise_check(
    check_id: str,
    reports: Sequence[CheckerReport],
    *,
    disabled: bool = False,
    inverted: bool = False,
    override: bool = False,
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
    return HealthCheckView(check_id, status, healthy, checkers, last_failure, override)


def missing_check() -> HealthCheckView:
    return HealthCheckView(None, MISSING)


def _checked_at(report: CheckerReport) -> float:
    return report.checked_at.timestamp() if report.checked_at is not None else 0.0


def _region_json(region: RegionStatus) -> dict[str, Any]:
    probes = {
        p.kind: {**_fields(p), "ok": p.ok, "refused_by_allow_list": p.refused_by_allow_list}
        for p in region.probes
    }
    return {
        "region": region.region,
        "primary": region.primary,
        "healthy": region.healthy,
        "problems": region.problems,
        "reachable": region.reachable,
        "error": region.error,
        "unread": region.unread,
        "force_fail": region.force_fail,
        "switch": _switch_json(region.switch),
        "table": _plain(region.table),
        "function": _plain(region.function),
        "api": _plain(region.api),
        "health_check": _plain(region.health_check),
        "alarm": _plain(region.alarm),
        "probe": probes or None,
    }


def _switch_json(switch: SwitchView | None) -> dict[str, Any] | None:
    if switch is None:
        return None
    return {
        "forced_out": switch.forced_out,
        "seen_by": dict(switch.seen_by),
        "disagreeing": switch.disagreeing,
        "entry": switch.entry,
        "readers": dict(switch.readers),
        "calculated": switch.calculated,
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
