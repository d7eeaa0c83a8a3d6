"""Route 53 reads and writes shared by the certificate and record kinds.

The stack never creates or deletes its hosted zone: `domain.hosted_zone` must
exist as a public zone. Route 53 is global; calls go through the primary
region's client. DNS names are compared normalised (lower case, no trailing
dot, Route 53's octal escapes decoded), so `Hello.Example.com` and
`hello.example.com.` are one name and a converged stack shows no diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from failover_cli.config.rules import within_zone
from failover_cli.engine.context import Context
from failover_cli.engine.model import GLOBAL
from failover_cli.errors import BadInput, FailoverError

_ESCAPE = re.compile(r"\\(\d{3})")  # Route 53 returns e.g. "*" as "\052"
_PAGE = "300"


@dataclass(frozen=True)
class Zone:
    id: str  # the bare id, e.g. Z0123456789ABC
    name: str  # normalised


def normalise(name: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name).lower().removesuffix(".")


def route53(ctx: Context) -> Any:
    return ctx.client("route53", GLOBAL)


def find_zone(ctx: Context) -> Zone | None:
    """The public hosted zone named `domain.hosted_zone`, or None (memoised per run)."""
    return ctx.memo("route53:zone", lambda: _lookup_zone(ctx))


def require_zone(ctx: Context) -> Zone:
    """The zone, or a clear error before anything is written into it."""
    domain = ctx.config.domain
    assert domain is not None
    zone = find_zone(ctx)
    if zone is None:
        raise FailoverError(
            f"The hosted zone {domain.hosted_zone} does not exist in Route 53 as a public zone "
            "of this account",
            hint="Create it and delegate the domain to its name servers first; failover never "
            "creates or deletes hosted zones. Or fix domain.hosted_zone in the config.",
        )
    if not within_zone(normalise(domain.name), zone.name):
        raise FailoverError(
            f"{domain.name} is not inside the hosted zone {zone.name}",
            hint="Use the zone's apex or a name below it as domain.name.",
        )
    return zone


def preflight(ctx: Context) -> None:
    """Before planning: with a domain, its hosted zone must exist (read-only check).

    A missing zone is a config problem the user must fix first, so it stops
    `plan` and `up` with exit 2 before anything is created in any region.
    """
    if ctx.config.domain is None:
        return
    try:
        require_zone(ctx)
    except BadInput:
        raise
    except FailoverError as error:
        raise BadInput(error.message, hint=error.hint) from error


def _lookup_zone(ctx: Context) -> Zone | None:
    domain = ctx.config.domain
    assert domain is not None
    wanted = normalise(domain.hosted_zone)
    r53 = route53(ctx)
    public: list[str] = []
    params: dict[str, str] = {"DNSName": wanted}
    while True:
        page = r53.list_hosted_zones_by_name(**params)
        zones = page.get("HostedZones", [])
        same = [z for z in zones if normalise(z["Name"]) == wanted]
        public.extend(
            z["Id"].rsplit("/", 1)[-1]
            for z in same
            if not (z.get("Config") or {}).get("PrivateZone", False)
        )
        # Zones come sorted by name from DNSName on: stop at the first other name.
        if not page.get("IsTruncated") or len(same) < len(zones):
            break
        params = {"DNSName": page["NextDNSName"], "HostedZoneId": page["NextHostedZoneId"]}
    if len(public) > 1:
        # Only one of them can be delegated to; guessing would wait for a validation
        # that never comes, or publish records nobody resolves.
        raise FailoverError(
            f"There are {len(public)} public hosted zones named {wanted} ({', '.join(public)})",
            hint="Delete the one your registrar does not delegate to, then re-run.",
        )
    return Zone(public[0], wanted) if public else None


def record_sets(
    ctx: Context, zone: Zone, name: str, rtype: str, *, fresh: bool = False
) -> list[dict[str, Any]]:
    """Every record set of exactly `name` and `rtype` (all SetIdentifiers), as Route 53 lists them.

    Observe calls are memoised (both regions ask about the same name); writers pass
    `fresh=True` to decide on current data.
    """
    key = _memo_key(zone, name, rtype)
    if fresh:
        ctx.forget(key)
    return ctx.memo(key, lambda: _list(ctx, zone, normalise(name), rtype))


def forget_record_sets(ctx: Context, zone: Zone, name: str, rtype: str) -> None:
    ctx.forget(_memo_key(zone, name, rtype))


def change(
    ctx: Context, zone: Zone, changes: list[dict[str, Any]], comment: str, name: str, rtype: str
) -> None:
    """One atomic change batch (all of it or nothing, as Route 53 applies it)."""
    try:
        route53(ctx).change_resource_record_sets(
            HostedZoneId=zone.id, ChangeBatch={"Comment": comment, "Changes": changes}
        )
    finally:
        forget_record_sets(ctx, zone, name, rtype)


def _memo_key(zone: Zone, name: str, rtype: str) -> str:
    return f"route53:records:{zone.id}:{normalise(name)}:{rtype}"


def _list(ctx: Context, zone: Zone, name: str, rtype: str) -> list[dict[str, Any]]:
    r53 = route53(ctx)
    found: list[dict[str, Any]] = []
    params: dict[str, str] = {"StartRecordName": name, "StartRecordType": rtype}
    while True:
        page = r53.list_resource_record_sets(HostedZoneId=zone.id, MaxItems=_PAGE, **params)
        sets = page.get("ResourceRecordSets", [])
        for record in sets:
            if normalise(record["Name"]) == name and record["Type"] == rtype:
                found.append(record)
        # Listed in DNS order from the start name: once another name shows up, we have all.
        if not page.get("IsTruncated") or any(
            normalise(r["Name"]) != name or r["Type"] != rtype for r in sets
        ):
            return found
        params = {
            "StartRecordName": page["NextRecordName"],
            "StartRecordType": page["NextRecordType"],
        }
        if page.get("NextRecordIdentifier"):
            params["StartRecordIdentifier"] = page["NextRecordIdentifier"]
