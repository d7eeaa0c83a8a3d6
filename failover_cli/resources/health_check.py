"""Route 53 health check `<stack>-<R>` per region: HTTPS string match on the regional API.

Ours when tagged `Name=<stack>-<R>` plus the ownership tags. Route 53 cannot tag on
create, so the CallerReference (fresh on every create: Route 53 never accepts one twice)
starts with `<stack>:<R>:`: a check with no tags at all under that prefix is ours from
a create interrupted before its tagging; it is adopted (tagged) by `up`, deleted by `down`.
Props hold the host with the `<api-id>` placeholder and the path as a `MaskedPath`
(compared by its real value, printed with the secret as `…`).

Interval, latency measurement and type cannot change in place: the check is replaced
without a gap (create the new one, then `switch` moves the records and the alarm that
use the old id, with the steps of `services/health_check_swap`, and deletes the old
one). An interrupted replacement leaves two owned checks; the next run keeps the one
matching the config and finishes the move. Finding the stack's checks lives in
`services/health_checks`, shared with the alarm, the records and the operations.

force-fail's health-check override (`services/health_check_override`) is operator state, like
FORCE_FAIL: observe reports the original search string it carries, so `up` sees no
drift, and any update or replacement keeps the override; `up` says it is in place.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.tags import comparable_tags, tag_list
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Former, Handler
from failover_cli.engine.leftovers import looks_like_region
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import FailoverError
from failover_cli.resources.alarm import follow_health_check
from failover_cli.resources.api import API_ID, find_api
from failover_cli.services.health_check_override import OVERRIDE_OUTPUT, is_overridden, original_of
from failover_cli.services.health_check_swap import (
    adopt_new_check,
    delete_check,
    records_using,
    repoint,
    repoint_parents,
    wait_for_reports,
)
from failover_cli.services.health_checks import (
    CHECK_TYPE,
    KIND,
    NAME_TAG,
    ROUTE53_REGION,
    SECRET_PARAMETER,
    all_checks,
    candidates,
    check_key,
    forget_checks,
    owner_region,
    pick,
    reference_prefix,
    update_versioned,
)

PORT = 443
REPLACED_FIELDS = ("type", "interval", "measure_latency")  # Route 53 cannot change these
_SECRET = re.compile(rf"({SECRET_PARAMETER}=)[^&]*")


@dataclass(frozen=True, repr=False)
class MaskedPath:
    """A resource path compared by its real value and printed with the secret masked."""

    value: str

    def __repr__(self) -> str:
        return _SECRET.sub(r"\1…", self.value)


@dataclass(frozen=True)
class HealthCheckProps:
    type: str
    fqdn: str  # with the <api-id> placeholder
    port: int
    path: MaskedPath
    search_string: str
    interval: int
    failure_threshold: int
    regions: tuple[str, ...]  # sorted
    sni: bool
    measure_latency: bool
    inverted: bool
    disabled: bool  # a disabled check counts as healthy: drift worth fixing
    tags: tuple[tuple[str, str], ...]
    extra_checks: int = 0  # owned duplicates left by an interrupted replacement


def api_host(api_id: str, region: str) -> str:
    return f"{api_id}.execute-api.{region}.amazonaws.com"


def health_path(stage: str, secret: str) -> str:
    return f"/{stage}/health?{SECRET_PARAMETER}={secret}"


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    hc = config.health_check
    specs = []
    for region in config.regions:
        name = config.health_check_name(region)
        props = HealthCheckProps(
            type=CHECK_TYPE,
            fqdn=api_host(API_ID, region),
            port=PORT,
            path=MaskedPath(health_path(config.api.stage, inputs.secret)),
            search_string=hc.search_string,
            interval=hc.interval_s,
            failure_threshold=hc.failure_threshold,
            regions=tuple(sorted(hc.checker_regions)),
            sni=True,  # API Gateway serves many hosts on one address: it needs SNI
            measure_latency=False,
            inverted=False,
            disabled=False,
            tags=tuple(sorted({**config.ownership_tags(), NAME_TAG: name}.items())),
        )
        # Deep pings read the region's copy of the table: checked (and so routed) once
        # it exists, so DNS never points at a region that is not ready.
        table = f"table:{region}" if region == config.primary_region else f"replica:{region}"
        needs = (f"api:{region}:{config.api_name}", f"{table}:{config.table.name}")
        specs.append(Spec(KIND, region, name, props, depends_on=needs))
    return specs


class HealthCheckHandler(Handler):
    kind = KIND

    def leftovers(self, ctx: Context) -> Former:
        """The regions the stack still has a health check in."""
        found = [owner_region(check, tags, ctx.config.stack) for check, tags in all_checks(ctx)]
        return Former(regions=tuple(r for r in found if r is not None and looks_like_region(r)))

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def diff(self, spec: Spec, observed: Observed) -> list[FieldChange]:
        changes = super().diff(spec, observed)
        note = {name: "replaces the check" for name in REPLACED_FIELDS}
        return [FieldChange(c.field, c.old, c.new, note.get(c.field, "")) for c in changes]

    def observe(self, ctx: Context, spec: Spec, *, fresh: bool = False) -> Observed:
        props: HealthCheckProps = spec.props
        owned, others = candidates(ctx, check_key(ctx, spec), fresh)
        chosen = pick(ctx, owned, props.interval)
        if chosen is None:
            if others:
                return Observed(exists=True, owned=False, raw={"id": others[0][0]["Id"]})
            return Observed.missing()
        ctx.outputs[f"health_check_id:{check_key(ctx, spec)}"] = chosen["Id"]
        tags = next(t for c, t in owned if c is chosen)
        cfg = chosen["HealthCheckConfig"]
        host = cfg.get("FullyQualifiedDomainName", "")
        api_id = _api_id(ctx, spec.region, required=False)
        if api_id and host == api_host(api_id, spec.region):
            host = api_host(API_ID, spec.region)
        search = cfg.get("SearchString")
        override = search if is_overridden(search) else None
        if override is not None:
            # force-fail's override is operator state, like FORCE_FAIL: not drift to undo.
            search = original_of(override, props.search_string)
            ctx.outputs[f"{OVERRIDE_OUTPUT}:{spec.region}"] = chosen["Id"]
        return Observed(
            exists=True,
            props={
                "type": cfg.get("Type"),
                "fqdn": host,
                "port": cfg.get("Port"),
                "path": MaskedPath(cfg.get("ResourcePath", "")),
                "search_string": search,
                "interval": cfg.get("RequestInterval"),
                "failure_threshold": cfg.get("FailureThreshold"),
                "regions": tuple(sorted(cfg.get("Regions") or ())),
                "sni": cfg.get("EnableSNI", False),
                "measure_latency": cfg.get("MeasureLatency", False),
                "inverted": cfg.get("Inverted", False),
                "disabled": cfg.get("Disabled", False),
                "tags": comparable_tags(tags, props.tags),
                "extra_checks": len(owned) - 1,
            },
            # Ids only: the raw configuration carries the secret.
            raw={
                "id": chosen["Id"],
                "version": chosen.get("HealthCheckVersion"),
                "extra_ids": [c["Id"] for c, _ in owned if c is not chosen],
                "override": override,  # the overridden search string, kept by updates
            },
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        seen = self.observe(ctx, spec, fresh=True)  # another region may have just written
        if not (seen.exists and seen.owned):
            _create_check(ctx, spec)
        elif changes := self.diff(spec, seen):  # an earlier run created it: converge
            self.update(ctx, spec, seen, changes)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        props: HealthCheckProps = spec.props
        changed = {c.field for c in changes}
        current, extras = observed.raw["id"], list(observed.raw["extra_ids"])
        if changed & set(REPLACED_FIELDS):
            why = "; ".join(c.describe() for c in changes if c.field in REPLACED_FIELDS)
            ctx.progress(spec.region, f"replacing health check {spec.name} ({why})")
            new = _create_check(ctx, spec, search=observed.raw.get("override"))
            switch(ctx, spec, [current, *extras], new)
            return
        r53 = ctx.client("route53", ROUTE53_REGION)
        if changed - {"tags", "extra_checks"}:
            update_versioned(
                r53,
                current,
                observed.raw["version"],
                **_settings(ctx, spec, creating=False, search=observed.raw.get("override")),
            )
        if "tags" in changed:
            r53.change_tags_for_resource(
                ResourceType="healthcheck", ResourceId=current, AddTags=tag_list(dict(props.tags))
            )
        if extras:  # finish an interrupted replacement
            switch(ctx, spec, extras, current)
        forget_checks(ctx)

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        ids = [observed.raw["id"], *observed.raw.get("extra_ids", [])]
        # Route 53 lets a check in use be deleted and then routes unpredictably: refuse.
        _, in_use = records_using(ctx, ids)
        if in_use:
            labels = [
                f"{r['Name'].rstrip('.')} {r['Type']} ({r.get('SetIdentifier')})" for r in in_use
            ]
            raise FailoverError(
                f"Health check {spec.name} is still used by the record(s) {', '.join(labels)}",
                hint="`down` deletes the stack's records first; delete or repoint those "
                "records, then re-run `failover down`.",
                region=spec.region,
            )
        for check_id in ids:
            delete_check(ctx, spec, check_id)
        forget_checks(ctx)
        ctx.outputs.pop(f"health_check_id:{check_key(ctx, spec)}", None)


def switch(ctx: Context, spec: Spec, old_ids: list[str], new_id: str) -> None:
    """Move every user of the old checks to the new one, then delete the old ones."""
    wait_for_reports(ctx, spec.region, new_id)
    moved = repoint(ctx, old_ids, new_id)
    repoint_parents(ctx, old_ids, new_id)  # a reader is a child of a region's CALCULATED check
    if moved:
        ctx.progress(spec.region, f"moved {moved} record(s) to health check {new_id}")
    follow_health_check(ctx, spec.region, old_ids, new_id)
    for old in old_ids:
        delete_check(ctx, spec, old)
    forget_checks(ctx)


def _caller_reference(ctx: Context, region: str) -> str:
    """`<stack>:<R>:<random>`, at most the 64 characters Route 53 takes."""
    prefix = reference_prefix(ctx, region)
    return prefix + uuid.uuid4().hex[: max(64 - len(prefix), 12)]


def _api_id(ctx: Context, region: str, *, required: bool = True) -> str | None:
    api_id = ctx.outputs.get(f"api_id:{region}") or (find_api(ctx, region) or {}).get("id")
    if api_id is None and required:
        raise FailoverError(
            f"The REST API of stack {ctx.config.stack} does not exist, so its health check "
            "has nothing to probe",
            hint="Re-run `failover up`: it creates the API before the health check.",
            region=region,
        )
    return api_id


def _settings(
    ctx: Context, spec: Spec, *, creating: bool, search: str | None = None
) -> dict[str, Any]:
    """The configuration as Route 53 takes it; an update resends every changeable field
    (moto, for one, drops Regions from an update that leaves them out). `search` is
    force-fail's override when one is in place: it stays until `force-fail --restore`."""
    props: HealthCheckProps = spec.props
    settings: dict[str, Any] = {  # no Type/RequestInterval/MeasureLatency on update
        "FullyQualifiedDomainName": api_host(str(_api_id(ctx, spec.region)), spec.region),
        "Port": props.port,
        "ResourcePath": props.path.value,
        "SearchString": search or props.search_string,
        "FailureThreshold": props.failure_threshold,
        "Regions": list(props.regions),
        "EnableSNI": props.sni,
        "Inverted": props.inverted,
        "Disabled": props.disabled,
    }
    if creating:
        settings.update(Type=props.type, RequestInterval=props.interval)
        settings["MeasureLatency"] = props.measure_latency
    return settings


def _create_check(ctx: Context, spec: Spec, *, search: str | None = None) -> str:
    """Create and tag a new check; an untagged check would be invisible, so undo on failure."""
    props: HealthCheckProps = spec.props
    r53 = ctx.client("route53", ROUTE53_REGION)
    check_id: str = r53.create_health_check(
        CallerReference=_caller_reference(ctx, check_key(ctx, spec)),  # unique forever
        HealthCheckConfig=_settings(ctx, spec, creating=True, search=search),
    )["HealthCheck"]["Id"]
    adopt_new_check(ctx, spec, check_id, dict(props.tags))
    return check_id


HANDLER = HealthCheckHandler()
