"""The three things a failover is seen through: a health check, the DNS answer, a request.

`AwsObserver` reads them from Route 53 and through the custom domain (with the
tool's HttpClient, so FAILOVER_RESOLVE applies); tests pass their own
`Observer`. Readings are plain data. The health-checker secret is used for
the request and never leaves this module.

A region's health is what its record routes on: its CALCULATED check, i.e. its probe AND
every switch reader of it (Route 53 reports no status for a CALCULATED check itself, so
its children are read and combined as Route 53 does). Every Route 53 call has a short
deadline; once Route 53's API does not answer (it lives in us-east-1 only), the health
phases are skipped and the DNS answer is asked of the hosted zone's own name servers
(net/authoritative.py, FAILOVER_NAMESERVERS), Route 53's data plane.
"""

from __future__ import annotations

import socket
import threading
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from failover_cli.aws.deadlines import Deadline
from failover_cli.aws.errors import error_code
from failover_cli.aws.outage import outage_region
from failover_cli.engine.context import Context
from failover_cli.engine.secret import reachable_secret
from failover_cli.net.authoritative import AuthoritativeDns
from failover_cli.net.http import HttpClient
from failover_cli.ops.status import serving_url
from failover_cli.ops.status_model import HEALTHY, UNHEALTHY, CheckerReport, summarise_check
from failover_cli.services.check_status import STATUS_READ_BUDGET, try_read_status
from failover_cli.services.health_checks import ROUTE53_REGION, find_health_check
from failover_cli.services.route53_zone import find_zone, normalise, record_sets

T = TypeVar("T")
REGION_HEADER = "X-Failover-Region"
REQUEST_TIMEOUT = 5.0
RESOLVE_TIMEOUT = 2.0  # a DNS lookup of an alias target; give up rather than stall a phase
# Answers meaning "this endpoint has no TestDNSAnswer" (moto answers 404).
_UNSUPPORTED = {"404", "NotImplemented", "NotImplementedException", "InvalidAction"}
# A watch's Route 53 reads: a Route 53 that does not answer is known within seconds, and
# the watch goes on without it (authoritative DNS) instead of waiting out a long budget.
WATCH_CALL = Deadline("watch", connect_timeout=3, read_timeout=5, max_attempts=3, call_budget=10)


class Unavailable(Exception):
    """This reading cannot be made at all here (e.g. no TestDNSAnswer): skip its phase."""


@dataclass(frozen=True)
class HealthReading:
    region: str
    check_id: str | None  # None: the region has no health check
    healthy: bool | None  # None: no check, or no checker has reported yet
    healthy_checkers: int = 0
    checkers: int = 0
    objection: str = ""  # the switch readers that see the region forced out, if any

    def describe(self) -> str:
        if self.check_id is None:
            return "no health check"
        if self.healthy is None:
            return "no observations yet"
        verdict = "healthy" if self.healthy else "unhealthy"
        if self.objection:
            return f"{verdict} (forced out, as read in {self.objection})"
        return f"{verdict} ({self.healthy_checkers}/{self.checkers} checkers)"


def _said(objecting: list[HealthReading]) -> str:
    return ", ".join(r.objection for r in objecting if r.objection)


@dataclass(frozen=True)
class DnsReading:
    data: tuple[str, ...]  # TestDNSAnswer's RecordData, or the name servers' answer
    regions: frozenset[str] | None  # regions it points at; None when no datum could be matched
    source: str = "TestDNSAnswer"  # or "name server <who answered>"

    def describe(self) -> str:
        where = ", ".join(sorted(self.regions)) if self.regions else "unmatched"
        return f"{', '.join(self.data) or 'empty'} ({where}; from {self.source})"


@dataclass(frozen=True)
class RequestReading:
    status: int  # 0: no HTTP answer
    region: str | None  # X-Failover-Region of a 2xx answer
    error: str = ""

    def describe(self) -> str:
        if self.status == 0:
            return f"no answer ({self.error})"
        return f"HTTP {self.status} from {self.region or 'an unknown region'}"


@dataclass(frozen=True)
class CheckSettings:
    interval_s: int
    failure_threshold: int

    @property
    def detection_seconds(self) -> int:
        """Route 53's documented time to notice a failure: about interval x threshold."""
        return self.interval_s * self.failure_threshold


class Observer(Protocol):
    @property
    def has_domain(self) -> bool: ...

    def health(self, region: str) -> HealthReading: ...

    def dns(self) -> DnsReading: ...

    def request(self) -> RequestReading: ...

    def settings(self, region: str) -> CheckSettings: ...

    def unreachable(self) -> str | None:
        """Why the requests the watch sends cannot reach their host (None: they can)."""
        ...


class AwsObserver:
    """Readings from Route 53 and through the custom domain; safe to call from threads."""

    def __init__(
        self,
        ctx: Context,
        http: HttpClient | None = None,
        nameservers: AuthoritativeDns | None = None,
    ) -> None:
        from dataclasses import replace

        self.ctx = replace(ctx, deadline=WATCH_CALL)  # shares the run's memo and outputs
        self.http = http or HttpClient()
        self.nameservers = nameservers
        self._lock = threading.Lock()
        self._secret: str | None = None
        self._route53_silent: str | None = None  # why Route 53's API is not asked any more
        self._known_targets: dict[str, str] = {}  # alias target -> region, last read

    @property
    def has_domain(self) -> bool:
        return self.ctx.config.domain is not None

    def _route53(self) -> Any:
        return self.ctx.client("route53", ROUTE53_REGION)

    def _ask_route53(self, call: Callable[[], T]) -> T:
        """A Route 53 read; once one meets an outage, every later one is Unavailable."""
        if self._route53_silent is not None:
            raise Unavailable(self._route53_silent)
        try:
            return call()
        except Exception as error:
            if outage_region(error, default=ROUTE53_REGION) is None:
                raise
            with self._lock:
                self._route53_silent = (
                    f"Route 53's API did not answer ({type(error).__name__}); it lives in "
                    "us-east-1 only"
                )
            raise Unavailable(self._route53_silent) from error

    def health(self, region: str) -> HealthReading:
        """The health R's record routes on: its probe AND each switch reader of R."""
        config = self.ctx.config
        names = [region, *(config.reader_check_name(region, q).removeprefix(f"{config.stack}-")
                           for q in config.regions if q != region)]  # fmt: skip
        routed = self._ask_route53(lambda: find_health_check(self.ctx, f"{region}-switched"))
        readings = []
        for name in names:  # probe first; a child that objects settles it
            reading = self._ask_route53(lambda name=name: self._check_health(region, name))  # type: ignore[misc]
            if reading.check_id is None and name != region:
                continue  # a reader not built yet: the record cannot route on it either
            readings.append(reading)
            if reading.healthy is False:
                break
        probe = readings[0]
        if probe.check_id is None:
            return probe
        check_id = str(routed["Id"]) if routed else probe.check_id
        if any(r.healthy is False for r in readings):
            verdict: bool | None = False
        elif all(r.healthy for r in readings):
            verdict = True
        else:
            verdict = None
        return HealthReading(
            region, check_id, verdict, probe.healthy_checkers, probe.checkers, objection=_said(
                [r for r in readings[1:] if r.healthy is False]))  # fmt: skip

    def _check_health(self, region: str, name: str) -> HealthReading:
        check = find_health_check(self.ctx, name)  # memoised: ids do not change meanwhile
        if check is None:
            return HealthReading(region, None, None)
        # Throttling (the account's quota, spent by another command) is retried; still
        # throttled after that, the reading is "not known yet" and the next poll asks again.
        answer = try_read_status(self.ctx, check["Id"], budget=STATUS_READ_BUDGET)
        if answer is None:
            return HealthReading(region, check["Id"], None)
        reports = [
            CheckerReport(o.get("Region", ""), (o.get("StatusReport") or {}).get("Status", ""))
            for o in answer.get("HealthCheckObservations") or []
        ]
        config = check.get("HealthCheckConfig") or {}
        # The same rule as `status` (the 18% share, disabled and inverted checks).
        view = summarise_check(
            check["Id"],
            reports,
            disabled=bool(config.get("Disabled")),
            inverted=bool(config.get("Inverted")),
        )
        verdict = {HEALTHY: True, UNHEALTHY: False}.get(view.status)
        reader = name.split("-read-in-")[-1] if "-read-in-" in name else ""
        return HealthReading(
            region, check["Id"], verdict, view.healthy_checkers, view.checkers, objection=reader
        )

    def settings(self, region: str) -> CheckSettings:
        """How fast a forced failover is noticed: the switch readers' interval and threshold."""
        switch = self.ctx.config.switch
        return CheckSettings(switch.interval_s, switch.failure_threshold)

    def dns(self) -> DnsReading:
        domain = self.ctx.config.domain
        if domain is None:
            raise Unavailable("there is no custom domain to ask about")
        try:
            zone = self._ask_route53(lambda: find_zone(self.ctx))
            if zone is None:
                raise Unavailable("there is no hosted zone to ask about")
            answer = self._ask_route53(
                lambda: self._route53().test_dns_answer(
                    HostedZoneId=zone.id, RecordName=domain.name, RecordType="A"
                )
            )
        except Unavailable as why:
            if self._route53_silent is None:
                raise
            return self._authoritative(str(why))
        except Exception as error:
            if error_code(error) in _UNSUPPORTED or isinstance(error, NotImplementedError):
                raise Unavailable("Route 53 TestDNSAnswer is not available here") from error
            raise
        data = tuple(str(d) for d in answer.get("RecordData") or [])
        return DnsReading(data, self._regions_of(data))

    def _authoritative(self, why: str) -> DnsReading:
        """The answer of the hosted zone's own name servers (Route 53's data plane)."""
        domain = self.ctx.config.domain
        assert domain is not None
        with self._lock:
            if self.nameservers is None:
                self.nameservers = AuthoritativeDns()
        found = self.nameservers.ask(domain.hosted_zone, domain.name, "A")
        if not found.ok:
            raise Unavailable(f"{why}, and {found.error}")
        regions = self._match(found.values, self._known_targets)
        return DnsReading(found.values, regions, f"name server {found.server}")

    def _regions_of(self, data: tuple[str, ...]) -> frozenset[str] | None:
        targets = self._ask_route53(self._targets)
        with self._lock:
            self._known_targets = targets  # for the name servers' answers, once Route 53 is out
        return self._match(data, targets)

    @staticmethod
    def _match(data: tuple[str, ...], targets: dict[str, str]) -> frozenset[str] | None:
        """Match record data to regions: by alias target name (emulators and `dig`-style
        answers name it), else by the addresses the targets resolve to right now.

        API Gateway's regional endpoints rotate their addresses, so the targets are looked
        up again at every reading, next to the answer they are compared with: addresses
        remembered from an earlier reading would stop matching and hide a move.
        """
        found = {targets[normalise(d)] for d in data if normalise(d) in targets}
        if not found and data:
            for name, addresses in resolve_all(list(targets)).items():
                if addresses & set(data):
                    found.add(targets[name])
        return frozenset(found) if found else None

    def _targets(self) -> dict[str, str]:
        """Alias target name -> region, from the stack's records (SetIdentifier <stack>-<R>)."""
        domain, zone = self.ctx.config.domain, find_zone(self.ctx)
        if domain is None or zone is None:
            return {}
        by_identifier = {f"{self.ctx.config.stack}-{r}": r for r in self.ctx.config.regions}
        targets = {}
        for record in record_sets(self.ctx, zone, domain.name, "A"):
            region = by_identifier.get(record.get("SetIdentifier", ""))
            alias = (record.get("AliasTarget") or {}).get("DNSName")
            if region and alias:
                targets[normalise(alias)] = region
        return targets

    def unreachable(self) -> str | None:
        """The custom domain (or the FAILOVER_RESOLVE address it goes to) must resolve here:
        otherwise every request reading fails at once and a watch waits its whole time-out."""
        if self.ctx.config.domain is None:
            return None
        return self.http.unresolvable(serving_url(self.ctx.config, ""))

    def request(self) -> RequestReading:
        if self.ctx.config.domain is None:
            raise Unavailable("there is no custom domain to send a request through")
        secret = urllib.parse.quote(self._health_secret(), safe="")
        answer = self.http.get(serving_url(self.ctx.config, secret), timeout=REQUEST_TIMEOUT)
        region = answer.header(REGION_HEADER) if 200 <= answer.status < 300 else None
        return RequestReading(answer.status, region, answer.error)

    def _health_secret(self) -> str:
        with self._lock:
            if self._secret is None:
                self._secret = reachable_secret(self.ctx)
            return self._secret


def resolve_all(names: list[str]) -> dict[str, frozenset[str]]:
    """Each name's addresses, looked up together now; a lookup that stalls counts as none."""
    if not names:
        return {}
    pool = ThreadPoolExecutor(max_workers=len(names))
    futures = {
        name: pool.submit(socket.getaddrinfo, name, 443, proto=socket.IPPROTO_TCP) for name in names
    }
    found: dict[str, frozenset[str]] = {}
    try:
        for name, future in futures.items():
            try:
                found[name] = frozenset(str(a[4][0]) for a in future.result(RESOLVE_TIMEOUT))
            except Exception:
                found[name] = frozenset()
    finally:
        pool.shutdown(wait=False)  # a stuck lookup must not hold the phase
    return found
