"""Route 53 routing record per region: `domain.name` A alias -> that region's custom domain.

Each region gets one record with SetIdentifier `<stack>-<R>`, the region's
health check and `latency` (Region=R) or `failover` (PRIMARY for the first
region, SECONDARY for the other) routing (SPEC §4.8). `EvaluateTargetHealth`
is off: the health check is what decides. Alias records have no TTL (Route 53
answers with the target's), so `domain.ttl` does not apply to them.

Records have no tags. A record with our name and SetIdentifier is the stack's
only when we can prove it: it aliases to the stack's custom domain target in
that region, or it carries the stack's (tagged) health check. Records with
another SetIdentifier are never touched.

Route 53 refuses records of one name and type with different routing policies,
and an UPSERT cannot turn a latency record into a failover one. So a routing
switch is one change batch that deletes the old records of every region and
creates the new ones; a region whose record is already right is left alone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.errors import error_code
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Former, Handler
from failover_cli.engine.leftovers import looks_like_region
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import ConflictError, FailoverError
from failover_cli.resources.domain_name import domain_target
from failover_cli.services.health_checks import find_health_check, routed_check_id
from failover_cli.services.route53_zone import (
    Zone,
    change,
    find_zone,
    normalise,
    preflight,
    record_sets,
    require_zone,
)

KIND = "record"
TYPE = "A"
TARGET = "<the stack's custom domain in this region>"  # desired; learnt online
_LOCK = threading.Lock()  # regions of one name change one record set group: one at a time


@dataclass(frozen=True)
class RecordProps:
    set_identifier: str
    routing: str  # "latency <region>" | "failover PRIMARY" | "failover SECONDARY"
    target: str
    health_check: str  # "<health check NAME>": the stack's check of this region
    evaluate_target_health: bool


def routing_for(policy: str, region: str, regions: tuple[str, ...]) -> str:
    if policy == "failover":
        return f"failover {'PRIMARY' if region == regions[0] else 'SECONDARY'}"
    return f"latency {region}"


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    domain = config.domain
    if domain is None:
        return []
    specs = []
    for region in config.regions:
        check = config.region_check_name(region)
        props = RecordProps(
            set_identifier=f"{config.stack}-{region}",
            routing=routing_for(domain.routing, region, config.regions),
            target=TARGET,
            health_check=f"<health check {check}>",
            evaluate_target_health=False,
        )
        specs.append(
            Spec(
                KIND,
                region,
                domain.name,
                props,
                # Every region's CALCULATED check first: an older stack's records all move
                # onto them in one change batch (`_converge`).
                depends_on=(
                    f"domain_name:{region}:{domain.name}",
                    *(f"region_check:{r}:{config.region_check_name(r)}" for r in config.regions),
                ),
            )
        )
    return specs


def health_check_id(ctx: Context, region: str) -> str | None:
    """The id of the check `region`'s record uses: its CALCULATED check (switch readers
    included), the freshest one `up` has learnt."""
    return routed_check_id(ctx, region)


def probe_id(ctx: Context, region: str) -> str | None:
    """The region's own probe, which records used before the switch."""
    known = ctx.outputs.get(f"health_check_id:{region}")
    if known:
        return str(known)
    found = find_health_check(ctx, region)
    return str(found["Id"]) if found else None


class RecordHandler(Handler):
    kind = KIND
    compared_fields = ("routing", "target", "health_check", "evaluate_target_health")

    def preflight(self, ctx: Context) -> None:
        preflight(ctx)  # with a domain, its hosted zone must exist

    def leftovers(self, ctx: Context) -> Former:
        return Former(regions=tuple(_record_regions(ctx)))

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: RecordProps = spec.props
        zone = find_zone(ctx)
        if zone is None:
            return Observed.missing()  # no zone, no record (`up` says so when creating)
        current = _by_identifier(ctx, zone).get(props.set_identifier)
        if current is None:
            return Observed.missing()
        if not _provably_ours(ctx, spec.region, current):
            return Observed(exists=True, owned=False, raw={"record": current})
        return Observed(exists=True, props=_props(ctx, spec, current), raw={"record": current})

    def create(self, ctx: Context, spec: Spec) -> None:
        self._join_when_healthy(ctx, spec)
        self._converge(ctx, spec)

    def _join_when_healthy(self, ctx: Context, spec: Spec) -> None:
        """A region joining a name that already serves (a region added to a live stack)
        enters DNS only once its health check reports healthy: Route 53 counts a check
        without data as healthy, and would send users to a region not yet answering."""
        from failover_cli.services.health_check_swap import wait_for_reports

        zone = find_zone(ctx)
        if zone is None:
            return
        current = _by_identifier(ctx, zone, fresh=True)
        others = [f"{ctx.config.stack}-{r}" for r in ctx.config.regions if r != spec.region]
        # The region's own probe: its CALCULATED check has no checker reports to wait
        # for (GetHealthCheckStatus refuses calculated checks), and its readers only
        # say whether the switch holds it out, not whether it answers.
        check = probe_id(ctx, spec.region)
        if check is not None and any(o in current for o in others):
            ctx.progress(spec.region, "waiting for the health check to report healthy first")
            wait_for_reports(ctx, spec.region, check)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        self._converge(ctx, spec)

    def _converge(self, ctx: Context, spec: Spec) -> None:
        props: RecordProps = spec.props
        zone = require_zone(ctx)
        wanted = _record_set(ctx, spec.region, props)
        policy = _policy(props.routing)
        with _LOCK:
            current = _by_identifier(ctx, zone, fresh=True)
            _refuse_plain_record(ctx, zone, spec)
            batch: list[dict[str, Any]] = []
            mine = current.get(props.set_identifier)
            if mine is None:
                batch.append(_action("CREATE", wanted))
            elif not _provably_ours(ctx, spec.region, mine):
                raise ConflictError(
                    f"A record {spec.name} with SetIdentifier {props.set_identifier} appeared "
                    "meanwhile that the stack cannot prove is its own",
                    region=spec.where,
                )
            elif _policy_of(mine) == policy:
                if _comparable(mine) != _comparable(wanted):
                    batch.append(_action("UPSERT", wanted))
            else:
                batch += [_action("DELETE", mine), _action("CREATE", wanted)]
            batch += _move_others_onto_switch(ctx, spec.region, current, policy)
            # The other regions' records move in the same batch when the policy changes.
            for region in ctx.config.regions:
                other = current.get(f"{ctx.config.stack}-{region}")
                if region == spec.region or other is None or _policy_of(other) == policy:
                    continue
                if not _provably_ours(ctx, region, other):
                    continue  # its own spec reports it; never touched here
                batch.append(_action("DELETE", other))
                renewed = _other_region_record(ctx, region)
                if renewed is not None:
                    batch.append(_action("CREATE", renewed))
            if batch:
                _change(ctx, zone, batch)

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        props: RecordProps = spec.props
        zone = find_zone(ctx)
        if zone is None:
            return
        seen = (observed.raw or {}).get("record")
        if seen is not None and observed.owned and _deleted_as_seen(ctx, zone, seen):
            return
        with _LOCK:
            current = _by_identifier(ctx, zone, fresh=True).get(props.set_identifier)
            if current is not None and _provably_ours(ctx, spec.region, current):
                _change(ctx, zone, [_action("DELETE", current)])


def _by_identifier(ctx: Context, zone: Zone, *, fresh: bool = False) -> dict[str, dict[str, Any]]:
    domain = ctx.config.domain
    assert domain is not None
    return {
        r["SetIdentifier"]: r
        for r in record_sets(ctx, zone, domain.name, TYPE, fresh=fresh)
        if "SetIdentifier" in r
    }


def _provably_ours(ctx: Context, region: str, record: dict[str, Any]) -> bool:
    alias = record.get("AliasTarget") or {}
    target = domain_target(ctx, region)
    if target is not None and normalise(alias.get("DNSName", "")) == normalise(
        target["regionalDomainName"]
    ):
        return True
    check = record.get("HealthCheckId")
    return check is not None and check in (health_check_id(ctx, region), probe_id(ctx, region))


def _move_others_onto_switch(
    ctx: Context, region: str, current: dict[str, dict[str, Any]], policy: str
) -> list[dict[str, Any]]:
    """UPSERTs moving the other regions' records from their own probe onto their CALCULATED
    check, in the same batch as this region's: an upgrade never has some regions switched
    and some not, and no moment without a healthy region."""
    moves = []
    for other_region in ctx.config.regions:
        other = current.get(f"{ctx.config.stack}-{other_region}")
        if other_region == region or other is None or _policy_of(other) != policy:
            continue
        wanted = routed_check_id(ctx, other_region)
        old = other.get("HealthCheckId")
        if wanted is None or old == wanted or old != probe_id(ctx, other_region):
            continue
        moves.append(_action("UPSERT", {**other, "HealthCheckId": wanted}))
    return moves


def _props(ctx: Context, spec: Spec, record: dict[str, Any]) -> dict[str, Any]:
    """The observed record in exactly the desired representation."""
    props: RecordProps = spec.props
    alias = record.get("AliasTarget") or {}
    target = domain_target(ctx, spec.region)
    points_home = target is not None and (
        normalise(alias.get("DNSName", "")),
        alias.get("HostedZoneId"),
    ) == (normalise(target["regionalDomainName"]), target["regionalHostedZoneId"])
    check = record.get("HealthCheckId")
    probe = f"<health check {ctx.config.health_check_name(spec.region)}>"
    return {
        "routing": _routing_of(record),
        "target": TARGET if points_home else alias.get("DNSName"),
        "health_check": props.health_check
        if check is not None and check == health_check_id(ctx, spec.region)
        else probe
        if check is not None and check == probe_id(ctx, spec.region)
        else check,
        "evaluate_target_health": alias.get("EvaluateTargetHealth"),
    }


def _routing_of(record: dict[str, Any]) -> str:
    if "Region" in record:
        return f"latency {record['Region']}"
    if "Failover" in record:
        return f"failover {record['Failover']}"
    if "Weight" in record:
        return f"weighted {record['Weight']}"
    return "other"


def _policy(routing: str) -> str:
    return routing.split(" ", 1)[0]


def _policy_of(record: dict[str, Any]) -> str:
    return _policy(_routing_of(record))


def _record_set(ctx: Context, region: str, props: RecordProps) -> dict[str, Any]:
    """What Route 53 should hold for `region` (no TTL: alias records take the target's)."""
    domain = ctx.config.domain
    assert domain is not None
    target = domain_target(ctx, region)
    if target is None:
        raise FailoverError(
            f"The stack's custom domain name {domain.name} does not exist",
            region=region,
            hint="`failover up` creates it before the record; re-run it.",
        )
    check = health_check_id(ctx, region)
    if check is None:
        raise FailoverError(
            f"The stack's health check {ctx.config.region_check_name(region)} does not exist",
            region=region,
            hint="`failover up` creates it before the record; re-run it.",
        )
    record: dict[str, Any] = {
        "Name": domain.name,
        "Type": TYPE,
        "SetIdentifier": props.set_identifier,
        "AliasTarget": {
            "HostedZoneId": target["regionalHostedZoneId"],
            "DNSName": target["regionalDomainName"],
            "EvaluateTargetHealth": props.evaluate_target_health,
        },
        "HealthCheckId": check,
    }
    policy, value = props.routing.split(" ", 1)
    record["Region" if policy == "latency" else "Failover"] = value
    return record


def _other_region_record(ctx: Context, region: str) -> dict[str, Any] | None:
    """Another region's desired record, for a routing switch; None if it cannot be built yet
    (its own spec creates it once its domain name and health check exist)."""
    domain = ctx.config.domain
    assert domain is not None
    props = RecordProps(
        set_identifier=f"{ctx.config.stack}-{region}",
        routing=routing_for(domain.routing, region, ctx.config.regions),
        target=TARGET,
        health_check="",
        evaluate_target_health=False,
    )
    try:
        return _record_set(ctx, region, props)
    except FailoverError:
        return None


def _comparable(record: dict[str, Any]) -> tuple[Any, ...]:
    alias = record.get("AliasTarget") or {}
    return (
        _routing_of(record),
        normalise(alias.get("DNSName", "")),
        alias.get("HostedZoneId"),
        bool(alias.get("EvaluateTargetHealth")),
        record.get("HealthCheckId"),
    )


def _refuse_plain_record(ctx: Context, zone: Zone, spec: Spec) -> None:
    """A simple A record of the same name cannot live next to routed ones: say so plainly."""
    for record in record_sets(ctx, zone, spec.name, TYPE):
        if "SetIdentifier" not in record:
            raise ConflictError(
                f"The hosted zone {zone.name} has a simple A record for {spec.name}, which "
                "Route 53 cannot combine with latency or failover records",
                hint="Remove it (it is not this stack's), or choose another domain.name.",
            )


def _action(action: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"Action": action, "ResourceRecordSet": record}


def _deleted_as_seen(ctx: Context, zone: Zone, record: dict[str, Any]) -> bool:
    """Delete the record exactly as the plan saw it: one call, no lock (each region's
    record is its own set). Route 53 refuses a DELETE that no longer matches exactly
    (changed or gone since), or a listing it cannot take back as it was: False, and the
    caller reads it again."""
    from botocore.exceptions import ClientError

    try:
        _change(ctx, zone, [_action("DELETE", record)])
    except ClientError as error:
        if error_code(error) in ("InvalidChangeBatch", "InvalidInput"):
            return False
        raise
    return True


def _change(ctx: Context, zone: Zone, batch: list[dict[str, Any]]) -> None:
    domain = ctx.config.domain
    assert domain is not None
    change(ctx, zone, batch, f"failover stack {ctx.config.stack}", domain.name, TYPE)


def _record_regions(ctx: Context) -> list[str]:
    """The regions of the alias records with SetIdentifier `<stack>-<R>` at the domain."""
    domain = ctx.config.domain
    if domain is None:
        return []
    zone = find_zone(ctx)
    if zone is None:
        return []
    prefix = f"{ctx.config.stack}-"
    identifiers = [
        str(r.get("SetIdentifier", "")) for r in record_sets(ctx, zone, domain.name, TYPE)
    ]
    return [
        i.removeprefix(prefix)
        for i in identifiers
        if i.startswith(prefix) and looks_like_region(i.removeprefix(prefix))
    ]


HANDLER = RecordHandler()
