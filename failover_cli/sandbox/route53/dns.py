"""What Route 53 answers for a name, as pure logic: routing policies and health.

No moto here: records come in as `Record`s and health as a function of a
health check id, so the rules are testable on plain data. The rules follow
Route 53's documentation:

- failover: the PRIMARY while it is healthy, else the SECONDARY if healthy;
- latency: the healthy record whose Region is nearest the client;
- weighted: a healthy record at random in proportion to its weight (all
  weights 0: equal chances);
- geolocation: the most specific healthy location containing the client,
  then the default (`*`) record;
- multivalue: up to eight healthy records;
- simple: the one record, health checks are not consulted by policy;
- in every policy, if every record of the name is unhealthy Route 53
  answers as if all were healthy.

A record is unhealthy when its health check is, or when it is an alias with
EvaluateTargetHealth to names in the zone none of which is healthy.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from failover_cli.sandbox.route53.geography import REGION_INDEX, REGION_LOCATIONS, latency_ms

DEFAULT_CLIENT_REGION = "us-east-1"
MAX_ALIAS_DEPTH = 8  # alias chains inside a zone; deeper means a loop
MULTIVALUE_LIMIT = 8  # Route 53 answers with up to eight healthy multivalue records

HealthFn = Callable[[str], bool]  # health check id -> healthy now

# A region label inside an AWS host name: d-abc.execute-api.us-west-2.amazonaws.com
_REGION_IN_HOST = re.compile(r"(?:^|[.-])([a-z]{2}(?:-gov)?-[a-z]+-\d+)\.")


class ResponseCode(StrEnum):
    NOERROR = "NOERROR"
    NXDOMAIN = "NXDOMAIN"
    REFUSED = "REFUSED"  # the name is outside the zone asked about


class Policy(StrEnum):
    SIMPLE = "simple"
    FAILOVER = "failover"
    LATENCY = "latency"
    WEIGHTED = "weighted"
    GEOLOCATION = "geolocation"
    MULTIVALUE = "multivalue"


@dataclass(frozen=True)
class AliasTarget:
    dns_name: str  # normalised, see `normalise`
    hosted_zone_id: str = ""
    evaluate_target_health: bool = False


@dataclass(frozen=True)
class Record:
    """One resource record set, as Route 53 stores it."""

    name: str  # normalised
    type: str
    values: tuple[str, ...] = ()
    ttl: int | None = None
    set_identifier: str | None = None
    health_check_id: str | None = None
    failover: str | None = None  # PRIMARY | SECONDARY
    region: str | None = None  # latency routing
    weight: int | None = None
    continent: str | None = None  # geolocation
    country: str | None = None  # "*" is the default location
    subdivision: str | None = None
    multivalue: bool = False
    alias: AliasTarget | None = None

    @property
    def policy(self) -> Policy:
        if self.failover:
            return Policy.FAILOVER
        if self.region:
            return Policy.LATENCY
        if self.weight is not None:
            return Policy.WEIGHTED
        if self.continent or self.country:
            return Policy.GEOLOCATION
        if self.multivalue:
            return Policy.MULTIVALUE
        return Policy.SIMPLE


@dataclass(frozen=True)
class Answer:
    """What a resolver gets back for (name, type), and where it came from."""

    code: ResponseCode
    name: str
    type: str
    data: tuple[str, ...] = ()
    records: tuple[Record, ...] = ()  # the record sets chosen at the name asked about
    region: str | None = None  # the region of the resource that answers
    target: str | None = None  # the alias target's name, else the first value

    @property
    def record(self) -> Record | None:
        return self.records[0] if self.records else None


def normalise(name: str) -> str:
    """Lower case with one trailing dot, as Route 53 compares names."""
    return name.strip().lower().rstrip(".") + "."


def answer(
    records: Sequence[Record],
    name: str,
    record_type: str,
    healthy: HealthFn,
    client_region: str = DEFAULT_CLIENT_REGION,
    rng: random.Random | None = None,
) -> Answer:
    """Route 53's answer for `name`/`record_type` from one zone's `records`."""
    resolver = _Resolver(records, healthy, client_region, rng or random.Random())
    return resolver.lookup(normalise(name), record_type.upper(), 0)


def region_of_host(host: str) -> str | None:
    """The AWS region named inside a host name (execute-api, ELB, S3 website ...)."""
    match = _REGION_IN_HOST.search(host.lower().rstrip(".") + ".")
    return match.group(1) if match else None


class _Resolver:
    def __init__(
        self,
        records: Sequence[Record],
        healthy: HealthFn,
        client_region: str,
        rng: random.Random,
    ):
        self.records = records
        self.check_healthy = healthy
        self.client_region = client_region
        self.rng = rng

    def lookup(self, name: str, record_type: str, depth: int) -> Answer:
        at_name = self._at(name)
        if not at_name:
            return Answer(ResponseCode.NXDOMAIN, name, record_type)
        group = [r for r in at_name if r.type == record_type]
        if not group and record_type != "CNAME":
            group = [r for r in at_name if r.type == "CNAME"]  # a CNAME answers any type
        if not group:
            return Answer(ResponseCode.NOERROR, name, record_type)  # the name exists: NODATA
        chosen = self.choose(group, depth)
        data: list[str] = []
        region = target = None
        for record in chosen:
            part = self.record_data(record, record_type, depth)
            data.extend(v for v in part.data if v not in data)
            region = region or part.region
            target = target or part.target
        return Answer(
            ResponseCode.NOERROR, name, record_type, tuple(data), tuple(chosen), region, target
        )

    def _at(self, name: str) -> list[Record]:
        exact = [r for r in self.records if r.name == name]
        if exact:
            return exact
        # Wildcards: *.example.com. covers a.example.com. and a.b.example.com.
        labels = name.split(".")
        for i in range(1, len(labels) - 1):
            wildcard = "*." + ".".join(labels[i:])
            matches = [r for r in self.records if r.name == wildcard]
            if matches:
                return matches
        return []

    # -- choosing among the record sets of one name and type ---------------

    def choose(self, group: list[Record], depth: int) -> list[Record]:
        policy = group[0].policy
        healthy = [r for r in group if self.record_healthy(r, depth)]
        # Every record unhealthy: Route 53 answers as if all were healthy.
        pool = healthy or group
        if policy is Policy.FAILOVER:
            for role in ("PRIMARY", "SECONDARY"):
                match = [r for r in healthy if (r.failover or "").upper() == role]
                if match:
                    return match[:1]
            primary = [r for r in group if (r.failover or "").upper() == "PRIMARY"]
            return (primary or group)[:1]
        if policy is Policy.LATENCY:
            best = min(
                pool,
                key=lambda r: (
                    latency_ms(self.client_region, r.region or ""),
                    r.set_identifier or "",
                ),
            )
            return [best]
        if policy is Policy.WEIGHTED:
            weighted = [r for r in pool if (r.weight or 0) > 0]
            if not weighted:
                return [self.rng.choice(pool)]  # all weights 0: equal chances
            return self.rng.choices(weighted, weights=[r.weight or 0 for r in weighted])
        if policy is Policy.GEOLOCATION:
            return self.geolocation(group, healthy)
        if policy is Policy.MULTIVALUE:
            return self.rng.sample(pool, min(len(pool), MULTIVALUE_LIMIT))
        return group[:1]

    def geolocation(self, group: list[Record], healthy: list[Record]) -> list[Record]:
        continent, country, subdivision = REGION_LOCATIONS.get(self.client_region, ("", "", ""))

        def rank(record: Record) -> int | None:
            """How specifically `record` covers the client: 0 best, None not at all."""
            if record.country == country and record.subdivision:
                return 0 if record.subdivision == subdivision else None
            if record.country == country:
                return 1
            if record.continent == continent and not record.country:
                return 2
            if record.country == "*":
                return 3
            return None

        covering = sorted((r for r in group if rank(r) is not None), key=lambda r: rank(r) or 0)
        live = [r for r in covering if r in healthy]
        # An unhealthy location falls back to the next larger one that is healthy.
        return (live or covering)[:1]

    # -- health and data of one record set ----------------------------------

    def record_healthy(self, record: Record, depth: int) -> bool:
        if record.health_check_id and not self.check_healthy(record.health_check_id):
            return False
        alias = record.alias
        if alias and alias.evaluate_target_health and depth < MAX_ALIAS_DEPTH:
            targets = [r for r in self._at(alias.dns_name) if r.type == record.type]
            if targets:  # names outside the zone (API Gateway ...) count as healthy
                return any(self.record_healthy(t, depth + 1) for t in targets)
        return True

    def record_data(self, record: Record, record_type: str, depth: int) -> Answer:
        alias = record.alias
        if alias is None:
            return self._data(record, record_type, record.values, record.region, None)
        if self._at(alias.dns_name) and depth < MAX_ALIAS_DEPTH:
            inner = self.lookup(alias.dns_name, record.type, depth + 1)
            region = inner.region or record.region
            return self._data(record, record_type, inner.data, region, inner.target)
        region = region_of_host(alias.dns_name) or record.region
        data = alias_data(alias.dns_name, record.type, region)
        return self._data(record, record_type, data, region, alias.dns_name.rstrip("."))

    @staticmethod
    def _data(
        record: Record,
        record_type: str,
        data: tuple[str, ...],
        region: str | None,
        target: str | None,
    ) -> Answer:
        target = target or (data[0] if data else None)
        return Answer(
            ResponseCode.NOERROR, record.name, record_type, data, (record,), region, target
        )


def alias_data(target: str, record_type: str, region: str | None) -> tuple[str, ...]:
    """RecordData for an alias to a name outside the zone (API Gateway, ELB ...).

    Route 53 would answer with the target's own addresses. The sandbox has none
    (nothing connects to them), so it gives a fake but stable address per region
    (documentation ranges, RFC 5737 / RFC 3849) and, after it, the target's name:
    the way `dig` shows the name an answer came through. That name
    (d-….execute-api.us-west-2.amazonaws.com) is what lets a user see which
    region answered; a client wanting addresses takes the entries that parse as
    IP addresses.
    """
    name = target.rstrip(".")
    if record_type == "A":
        return (fake_ipv4(region, name), name)
    if record_type == "AAAA":
        return (fake_ipv6(region, name), name)
    return (name,)


def fake_ipv4(region: str | None, name: str) -> str:
    """192.0.2.N for a known region (N its place in REGION_LOCATIONS), else a hash."""
    if region in REGION_INDEX:
        return f"192.0.2.{REGION_INDEX[region] + 1}"
    return f"198.51.100.{zlib.crc32((region or name).encode()) % 254 + 1}"


def fake_ipv6(region: str | None, name: str) -> str:
    if region in REGION_INDEX:
        return f"2001:db8::{REGION_INDEX[region] + 1:x}"
    return f"2001:db8:1::{zlib.crc32((region or name).encode()) % 0xFFFF + 1:x}"
