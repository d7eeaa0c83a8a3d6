"""What to wait for after FORCE_FAIL changes in region R, and what "moved" means.

Failing R (the failover half):
1. `health_unhealthy`: R's health check is unhealthy (GetHealthCheckStatus, > 18% rule);
2. `dns_moved`: Route 53's TestDNSAnswer for the domain no longer points at R;
3. `request_moved`: a request through the custom domain is answered (2xx) by another
   region (its X-Failover-Region header).

Restoring R (the failback half): R's check healthy again (`health_healthy`); then,
only where R is the region Route 53 prefers, R back in the DNS answer (`dns_back`)
and a request answered by R (`request_back`). With failover routing R is preferred
when it is the PRIMARY (the first region). With latency routing preference depends
on where the client is (TestDNSAnswer answers as from us-east-1): a drill expects R
back when R was in the answer before it failed R; `force-fail --restore --wait`
cannot know, so it waits for R to be in the answer again.

The DNS phases match record data to regions through the records' alias targets
(or their addresses); when nothing matches, "moved" falls back to "the answer
differs from the one before the change" and "back" to "equals the one before".
Without a domain the DNS and request phases are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from failover_cli.config.schema import Config
from failover_cli.ops.failover_observer import DnsReading, HealthReading, Observer
from failover_cli.ops.phase_watch import Check, Goal

T = TypeVar("T")
NO_DOMAIN = "no custom domain in the config"


@dataclass(frozen=True)
class Baseline:
    """What was seen just before FORCE_FAIL changed (None: could not be read)."""

    health: HealthReading | None
    dns: DnsReading | None
    serving: str | None  # the region answering through the domain

    def describe(self) -> str:
        parts = [f"health check {self.health.describe()}" if self.health else ""]
        if self.dns is not None:
            parts.append(f"DNS answer {self.dns.describe()}")
        if self.serving is not None:
            parts.append(f"serving region {self.serving}")
        return "; ".join(p for p in parts if p)


def take_baseline(observer: Observer, region: str) -> Baseline:
    """The three readings at once; one that fails is recorded as unknown."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        health = pool.submit(_quietly, lambda: observer.health(region))
        dns = pool.submit(_quietly, observer.dns) if observer.has_domain else None
        serving = (
            pool.submit(_quietly, lambda: observer.request().region)
            if observer.has_domain
            else None
        )
        return Baseline(
            health.result(),
            dns.result() if dns else None,
            serving.result() if serving else None,
        )


def _quietly(read: Callable[[], T]) -> T | None:
    try:
        return read()
    except Exception:  # a baseline is best effort: unknown is a valid answer
        return None


def failover_goals(observer: Observer, region: str, before: Baseline) -> list[Goal]:
    """Phases after FORCE_FAIL=true in `region`."""

    def unhealthy() -> tuple[bool, str]:
        reading = observer.health(region)
        return reading.healthy is False, reading.describe()

    def dns_moved() -> tuple[bool, str]:
        reading = observer.dns()
        if not reading.data:
            return False, reading.describe()
        if reading.regions is not None:
            return region not in reading.regions, reading.describe()
        return before.dns is not None and reading.data != before.dns.data, reading.describe()

    def request_moved() -> tuple[bool, str]:
        reading = observer.request()
        return reading.region is not None and reading.region != region, reading.describe()

    dns_skip = request_skip = NO_DOMAIN if not observer.has_domain else None
    if dns_skip is None and before.dns and before.dns.regions and region not in before.dns.regions:
        dns_skip = f"{region} was not in the DNS answer before"
    if request_skip is None and before.serving and before.serving != region:
        request_skip = f"{before.serving}, not {region}, was answering before"
    return [
        _health_goal("health_unhealthy", f"health check of {region} unhealthy", unhealthy, before),
        Goal("dns_moved", f"DNS answer away from {region}", dns_moved, dns_skip),
        Goal("request_moved", "request answered by another region", request_moved, request_skip),
    ]


def failback_goals(
    observer: Observer,
    config: Config,
    region: str,
    now: Baseline,
    before_failure: Baseline | None = None,
) -> list[Goal]:
    """Phases after FORCE_FAIL=false in `region`. `now` is the baseline taken just
    before restoring; `before_failure` the one before it was failed (a drill has it)."""

    def healthy() -> tuple[bool, str]:
        reading = observer.health(region)
        return reading.healthy is True, reading.describe()

    def dns_back() -> tuple[bool, str]:
        reading = observer.dns()
        if reading.regions is not None:
            return region in reading.regions, reading.describe()
        if before_failure is not None and before_failure.dns is not None:
            return reading.data == before_failure.dns.data, reading.describe()
        return now.dns is not None and reading.data != now.dns.data, reading.describe()

    def request_back() -> tuple[bool, str]:
        reading = observer.request()
        return reading.region == region, reading.describe()

    not_preferred = _not_preferred(config, region, before_failure)
    skip = NO_DOMAIN if not observer.has_domain else not_preferred
    return [
        _health_goal("health_healthy", f"health check of {region} healthy", healthy, now),
        Goal("dns_back", f"{region} back in the DNS answer", dns_back, skip),
        Goal("request_back", f"request answered by {region}", request_back, skip),
    ]


def _health_goal(name: str, label: str, check: Check, seen: Baseline) -> Goal:
    no_check = seen.health is not None and seen.health.check_id is None
    return Goal(name, label, check, "the region has no health check" if no_check else None)


def _not_preferred(config: Config, region: str, before: Baseline | None) -> str | None:
    """Why Route 53 will not route back to `region` once healthy (None: it will)."""
    domain = config.domain
    if domain is None:
        return None
    if domain.routing == "failover":
        if region != config.primary_region:
            return f"{region} is SECONDARY: the PRIMARY {config.primary_region} keeps serving"
        return None
    if before is None:
        return None
    if before.dns is not None and before.dns.regions is not None:
        if region not in before.dns.regions:
            return f"{region} was not in the DNS answer before the drill"
        return None
    if before.serving is not None and before.serving != region:
        return f"{before.serving}, not {region}, was answering before the drill"
    return None
