"""Route 53's records and health, read from moto, answered by `dns`.

`resolve(context, name)` is the in-process DNS of the sandbox: which record,
target and region Route 53 would answer with right now. Custom domains use
it to pick the serving region; TestDNSAnswer uses `answer_in_zone`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.route53 import health as route53_health
from failover_cli.sandbox.route53.dns import (
    AliasTarget,
    Answer,
    Record,
    ResponseCode,
    answer,
    normalise,
)

DEFAULT_ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class Resolution:
    """The answer Route 53 gives for a name now, and where it leads."""

    region: str | None  # the region whose resource answers (alias target or record Region)
    record: Record  # the record set chosen
    target: str | None  # the alias target's DNS name, else the record's first value
    data: tuple[str, ...]  # RecordData as TestDNSAnswer shows it


def resolve(
    context: SandboxContext,
    name: str,
    record_type: str = "A",
    *,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> Resolution | None:
    """What Route 53 answers for `name` now, from the most specific public zone holding it.

    None when no zone holds the name or it has no record of that type. Only
    the most specific zone name answers, as delegation would have it; among
    zones of that same name (moto allows duplicates) the newest with an answer.
    """
    zones = zones_for(account_id, name)
    authoritative = [z for z in zones if normalise(z.name) == normalise(zones[0].name)]
    for zone in authoritative:
        found = answer_in_zone(context, zone, name, record_type, account_id)
        if found.code is ResponseCode.NOERROR and found.record is not None:
            return Resolution(found.region, found.record, found.target, found.data)
    return None


def answer_in_zone(
    context: SandboxContext, zone: Any, name: str, record_type: str, account_id: str
) -> Answer:
    """Route 53's answer from one of moto's hosted zones, with current health."""
    return answer(
        zone_records(zone),
        name,
        record_type,
        lambda check_id: route53_health.is_healthy(context, check_id, account_id),
        context.client_region,
    )


def find_zone(account_id: str, zone_id: str) -> Any:
    """moto's hosted zone for an id ("Z123" or "/hostedzone/Z123"), or None."""
    wanted = zone_id.rsplit("/", 1)[-1]
    for zone in _zones(account_id):
        if str(zone.id).rsplit("/", 1)[-1] == wanted:
            return zone
    return None


def zones_for(account_id: str, name: str) -> list[Any]:
    """Public zones that contain `name`, most specific first; among equals, the newest first."""
    wanted = normalise(name)
    matching = [
        zone
        for zone in _zones(account_id)
        if not route53_health.flag(getattr(zone, "private_zone", False))
        and (wanted == normalise(zone.name) or wanted.endswith("." + normalise(zone.name)))
    ]
    newest_first = list(reversed(matching))
    return sorted(newest_first, key=lambda zone: -len(normalise(zone.name)))


def in_zone(zone: Any, name: str) -> bool:
    zone_name, wanted = normalise(zone.name), normalise(name)
    return wanted == zone_name or wanted.endswith("." + zone_name)


def zone_records(zone: Any) -> list[Record]:
    return [_record(rrset) for rrset in list(zone.rrsets)]


def _zones(account_id: str) -> Iterable[Any]:
    from moto.route53.models import route53_backends

    regions = dict.get(route53_backends, account_id)  # plain lookup: never creates one
    for backend in list(regions.values()) if regions else ():
        yield from list(backend.zones.values())


def _record(rrset: Any) -> Record:
    alias = rrset.alias_target or None
    geo = rrset.geo_location or {}
    return Record(
        name=normalise(str(rrset.name)),
        type=str(rrset.type or "").upper(),
        # moto keeps most values as strings, the SOA as {"Value": ...}.
        values=tuple(
            str(v.get("Value", "")) if isinstance(v, dict) else str(v) for v in rrset.records or ()
        ),
        ttl=_int(rrset.ttl),
        set_identifier=rrset.set_identifier or None,
        health_check_id=rrset.health_check_id or None,
        failover=str(rrset.failover).upper() if rrset.failover else None,
        region=rrset.region or None,
        weight=_int(rrset.weight),
        continent=geo.get("ContinentCode") or None,
        country=geo.get("CountryCode") or None,
        subdivision=geo.get("SubdivisionCode") or None,
        multivalue=route53_health.flag(rrset.multi_value_answer),
        alias=AliasTarget(
            dns_name=normalise(str(alias.get("DNSName", ""))),
            hosted_zone_id=str(alias.get("HostedZoneId", "")),
            evaluate_target_health=route53_health.flag(alias.get("EvaluateTargetHealth")),
        )
        if isinstance(alias, dict)
        else None,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None
