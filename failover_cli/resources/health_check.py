"""Route 53 health check `<stack>-<R>` per region: HTTPS string match on the regional API.

Ours when tagged `Name=<stack>-<R>` plus the ownership tags. Route 53 cannot tag on
create, so the CallerReference (fresh on every create: Route 53 never accepts one twice)
starts with `<stack>:<R>:`: a check with no tags at all under that prefix is ours from
a create interrupted before its tagging; it is adopted (tagged) by `up`, deleted by `down`.
Props hold the host with the `<api-id>` placeholder and the path as a `MaskedPath`
(compared by its real value, printed with the secret as `…`).

Interval, latency measurement and type cannot change in place: the check is replaced
without a gap (create the new one, move the records and the alarm that use the old
id, then delete the old one). An interrupted replacement leaves two owned checks; the
next run keeps the one matching the config and finishes the move.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.retry import wait_until
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import FailoverError, TimeoutExpired
from failover_cli.resources.api import API_ID, find_api
from failover_cli.resources.base import Handler, comparable_tags, is_owned, tag_dict, tag_list
from failover_cli.resources.hosted_zone import Zone, find_zone, forget_record_sets, route53

KIND = "health_check"
ROUTE53_REGION = "us-east-1"  # Route 53 is global; its API answers in us-east-1
CHECK_TYPE = "HTTPS_STR_MATCH"
PORT = 443
NAME_TAG = "Name"
SECRET_PARAMETER = "healthCheckerId"
REPLACED_FIELDS = ("type", "interval", "measure_latency")  # Route 53 cannot change these
HEALTHY_SHARE = 0.18  # Route 53 calls a check healthy above this share of healthy checkers
_LIST_KEY = "route53:health_checks"  # memo key of the tagged listing
_TAG_BATCH = 10  # ListTagsForResources takes at most 10 ids
_SECRET = re.compile(rf"({SECRET_PARAMETER}=)[^&]*")

Tagged = tuple[dict[str, Any], dict[str, str]]  # (ListHealthChecks item, its tags)


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
        specs.append(
            Spec(KIND, region, name, props, depends_on=(f"api:{region}:{config.api_name}",))
        )
    return specs


def find_health_check(ctx: Context, region: str, *, fresh: bool = False) -> dict[str, Any] | None:
    """The stack's health check in `region` (a ListHealthChecks item), or None.

    With two owned checks (an interrupted replacement) the one matching the
    config wins. The item holds the secret in its ResourcePath: never print it.
    Planning shares one listing per run; `fresh=True` (while applying) reads again.
    """
    return _pick(ctx, _candidates(ctx, region, fresh)[0])


def owned_health_checks(ctx: Context, region: str, *, fresh: bool = False) -> list[dict[str, Any]]:
    """Every check the stack owns in `region` (two after an interrupted replacement), as
    ListHealthChecks items; `rotate-secret` must move all of them. They hold the secret."""
    return [check for check, _ in _candidates(ctx, region, fresh)[0]]


class HealthCheckHandler(Handler):
    kind = KIND

    def diff(self, spec: Spec, observed: Observed) -> list[FieldChange]:
        changes = super().diff(spec, observed)
        note = {name: "replaces the check" for name in REPLACED_FIELDS}
        return [FieldChange(c.field, c.old, c.new, note.get(c.field, "")) for c in changes]

    def observe(self, ctx: Context, spec: Spec, *, fresh: bool = False) -> Observed:
        props: HealthCheckProps = spec.props
        owned, others = _candidates(ctx, spec.region, fresh)
        chosen = _pick(ctx, owned)
        if chosen is None:
            if others:
                return Observed(exists=True, owned=False, raw={"id": others[0][0]["Id"]})
            return Observed.missing()
        ctx.outputs[f"health_check_id:{spec.region}"] = chosen["Id"]
        tags = next(t for c, t in owned if c is chosen)
        cfg = chosen["HealthCheckConfig"]
        host = cfg.get("FullyQualifiedDomainName", "")
        api_id = _api_id(ctx, spec.region, required=False)
        if api_id and host == api_host(api_id, spec.region):
            host = api_host(API_ID, spec.region)
        return Observed(
            exists=True,
            props={
                "type": cfg.get("Type"),
                "fqdn": host,
                "port": cfg.get("Port"),
                "path": MaskedPath(cfg.get("ResourcePath", "")),
                "search_string": cfg.get("SearchString"),
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
            _switch(ctx, spec, [current, *extras], _create_check(ctx, spec))
            return
        r53 = ctx.client("route53", ROUTE53_REGION)
        if changed - {"tags", "extra_checks"}:
            r53.update_health_check(
                HealthCheckId=current,
                HealthCheckVersion=observed.raw["version"],
                **_settings(ctx, spec, creating=False),
            )
        if "tags" in changed:
            r53.change_tags_for_resource(
                ResourceType="healthcheck", ResourceId=current, AddTags=tag_list(dict(props.tags))
            )
        if extras:  # finish an interrupted replacement
            _switch(ctx, spec, extras, current)
        ctx.forget(_LIST_KEY)

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
            _delete_check(ctx, spec, check_id)
        ctx.forget(_LIST_KEY)
        ctx.outputs.pop(f"health_check_id:{spec.region}", None)


def _candidates(ctx: Context, region: str, fresh: bool) -> tuple[list[Tagged], list[Tagged]]:
    """(owned, look-alikes) among the checks whose Name tag is `<stack>-<R>`; owned also
    holds untagged checks under the stack's CallerReference prefix (an interrupted create)."""
    name = ctx.config.health_check_name(region)
    prefix = _reference_prefix(ctx, region)
    named, owned = [], []
    for check, tags in _all_checks(ctx, fresh):
        if tags.get(NAME_TAG) == name:
            named.append((check, tags))
        elif not tags and str(check.get("CallerReference", "")).startswith(prefix):
            owned.append((check, tags))
    owned += [(c, t) for c, t in named if is_owned(t, ctx.config.stack)]
    return owned, [(c, t) for c, t in named if not is_owned(t, ctx.config.stack)]


def _reference_prefix(ctx: Context, region: str) -> str:
    return f"{ctx.config.stack}:{region}:"


def _caller_reference(ctx: Context, region: str) -> str:
    """`<stack>:<R>:<random>`, at most the 64 characters Route 53 takes."""
    prefix = _reference_prefix(ctx, region)
    return prefix + uuid.uuid4().hex[: max(64 - len(prefix), 12)]


def _all_checks(ctx: Context, fresh: bool) -> list[Tagged]:
    """Every health check of the account with its tags: once per plan (all regions share
    it), afresh while applying (a memo filled concurrently with a write may be stale)."""

    def read() -> list[Tagged]:
        r53 = ctx.client("route53", ROUTE53_REGION)
        pages = r53.get_paginator("list_health_checks").paginate()
        checks = [check for page in pages for check in page["HealthChecks"]]
        ids = [c["Id"] for c in checks]
        tags: dict[str, dict[str, str]] = {}
        for start in range(0, len(ids), _TAG_BATCH):
            answer = r53.list_tags_for_resources(
                ResourceType="healthcheck", ResourceIds=ids[start : start + _TAG_BATCH]
            )
            for tag_set in answer["ResourceTagSets"]:
                tags[tag_set["ResourceId"]] = tag_dict(tag_set.get("Tags"))
        return [(c, tags.get(c["Id"], {})) for c in checks]

    return read() if fresh else ctx.memo(_LIST_KEY, read)


def _pick(ctx: Context, owned: list[Tagged]) -> dict[str, Any] | None:
    """The check to keep: one whose unchangeable settings match the config, tagged before
    untagged, lowest id first."""
    wanted = (CHECK_TYPE, ctx.config.health_check.interval_s, False)

    def rank(tagged: Tagged) -> tuple[bool, bool, str]:
        check, tags = tagged
        cfg = check["HealthCheckConfig"]
        fixed = (cfg.get("Type"), cfg.get("RequestInterval"), cfg.get("MeasureLatency", False))
        return fixed != wanted, not tags, check["Id"]

    return min(owned, key=rank, default=(None, {}))[0]


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


def _settings(ctx: Context, spec: Spec, *, creating: bool) -> dict[str, Any]:
    """The configuration as Route 53 takes it; an update resends every changeable field
    (moto, for one, drops Regions from an update that leaves them out)."""
    props: HealthCheckProps = spec.props
    settings: dict[str, Any] = {  # no Type/RequestInterval/MeasureLatency on update
        "FullyQualifiedDomainName": api_host(str(_api_id(ctx, spec.region)), spec.region),
        "Port": props.port,
        "ResourcePath": props.path.value,
        "SearchString": props.search_string,
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


def _create_check(ctx: Context, spec: Spec) -> str:
    """Create and tag a new check; an untagged check would be invisible, so undo on failure."""
    props: HealthCheckProps = spec.props
    r53 = ctx.client("route53", ROUTE53_REGION)
    check_id: str = r53.create_health_check(
        CallerReference=_caller_reference(ctx, spec.region),  # unique forever
        HealthCheckConfig=_settings(ctx, spec, creating=True),
    )["HealthCheck"]["Id"]
    try:
        r53.change_tags_for_resource(
            ResourceType="healthcheck", ResourceId=check_id, AddTags=tag_list(dict(props.tags))
        )
    except BaseException:
        _delete_check(ctx, spec, check_id)
        raise
    ctx.forget(_LIST_KEY)
    ctx.outputs[f"health_check_id:{spec.region}"] = check_id
    return check_id


def _delete_check(ctx: Context, spec: Spec, check_id: str) -> None:
    r53 = ctx.client("route53", ROUTE53_REGION)
    try:
        r53.delete_health_check(HealthCheckId=check_id)
    except r53.exceptions.NoSuchHealthCheck:
        pass  # already gone
    except r53.exceptions.HealthCheckInUse as error:
        raise FailoverError(
            f"Route 53 refuses to delete health check {spec.name} ({check_id}): it is in use",
            hint="Something still references it (a record or a calculated health check); "
            "remove that reference and re-run the command.",
            region=spec.region,
        ) from error


def _switch(ctx: Context, spec: Spec, old_ids: list[str], new_id: str) -> None:
    """Move every user of the old checks to the new one, then delete the old ones."""
    from failover_cli.resources.alarm import follow_health_check  # alarm imports this module

    _wait_for_reports(ctx, spec.region, new_id)
    moved = _repoint(ctx, old_ids, new_id)
    if moved:
        ctx.progress(spec.region, f"moved {moved} record(s) to health check {new_id}")
    follow_health_check(ctx, spec.region, old_ids, new_id)
    for old in old_ids:
        _delete_check(ctx, spec, old)
    ctx.forget(_LIST_KEY)


def _wait_for_reports(ctx: Context, region: str, check_id: str) -> None:
    """Let the new check report healthy before records rely on it. Route 53 counts a check
    without data as healthy, so once the budget is spent the move goes ahead anyway."""
    r53 = ctx.client("route53", ROUTE53_REGION)

    def healthy() -> bool:
        seen = r53.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
        ok = [o for o in seen if o["StatusReport"]["Status"].startswith("Success")]
        return bool(seen) and len(ok) / len(seen) > HEALTHY_SHARE

    budget = 3 * ctx.config.health_check.interval_s + 30
    try:
        wait_until(
            healthy, what="the new health check", timeout=budget, interval=5, clock=ctx.clock
        )
    except TimeoutExpired:
        ctx.progress(region, f"health check {check_id} reports no healthy majority yet")


def records_using(ctx: Context, check_ids: list[str]) -> tuple[Zone | None, list[dict[str, Any]]]:
    """(zone, record sets) of the stack's public hosted zone that use one of `check_ids`."""
    zone = find_zone(ctx) if ctx.config.domain else None
    if zone is None:
        return None, []  # no domain or no zone: no record can use the check
    pages = route53(ctx).get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone.id)
    using = [
        r for p in pages for r in p["ResourceRecordSets"] if r.get("HealthCheckId") in check_ids
    ]
    return zone, using


def _repoint(ctx: Context, old_ids: list[str], new_id: str) -> int:
    """UPSERT each record using an old check with the new id, all else equal; wait INSYNC."""
    zone, using = records_using(ctx, old_ids)
    if zone is None or not using:
        return 0
    r53 = route53(ctx)
    changes = [
        {"Action": "UPSERT", "ResourceRecordSet": {**r, "HealthCheckId": new_id}} for r in using
    ]
    change = r53.change_resource_record_sets(
        HostedZoneId=zone.id,
        ChangeBatch={"Comment": "failover: replacement health check", "Changes": changes},
    )["ChangeInfo"]
    for record in using:  # the record kind's memoised reads are stale now
        forget_record_sets(ctx, zone, record["Name"], record["Type"])
    # The old check may go only once every Route 53 server answers with the new one.
    wait_until(
        lambda: r53.get_change(Id=change["Id"])["ChangeInfo"]["Status"] == "INSYNC",
        what="Route 53 to apply the record change",
        timeout=600,
        interval=5,
        clock=ctx.clock,
    )
    return len(changes)


HANDLER = HealthCheckHandler()
