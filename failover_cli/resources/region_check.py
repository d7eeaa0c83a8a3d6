"""Route 53 CALCULATED check `<stack>-<R>-switched` per region: R's own probe AND every
switch reader of R (HealthThreshold = all children). R's record and alarm use it, so R
leaves DNS when its probe fails or when a live reader sees R forced out in the switch.

Children are held as names (`<health check NAME>`) and resolved to ids at apply time;
a calculated check has no type-dependent settings to replace, so every change is an
update in place. Ownership and the interrupted-create rule are the probe's
(`services/health_checks`), keyed by the name. Route 53 has no health data for a
calculated check through GetHealthCheckStatus (InvalidInput): before records rely on a
new one, its readers are waited on instead (`wait_for_no_objection`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from failover_cli.aws.tags import comparable_tags, tag_list
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import FailoverError
from failover_cli.resources import health_check, switch_reader
from failover_cli.services.health_check_swap import adopt_new_check, delete_check, records_using
from failover_cli.services.health_checks import (
    NAME_TAG,
    ROUTE53_REGION,
    candidates,
    check_key,
    find_health_check,
    forget_checks,
    pick,
    reference_prefix,
    update_versioned,
)
from failover_cli.services.switch_watch import wait_for_no_objection

KIND = "region_check"
CALCULATED = "CALCULATED"


@dataclass(frozen=True)
class RegionCheckProps:
    type: str
    children: tuple[str, ...]  # "<health check NAME>", sorted
    health_threshold: int
    inverted: bool
    disabled: bool
    tags: tuple[tuple[str, str], ...]


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    probes = health_check.desired(inputs)
    readers = switch_reader.desired(inputs)
    specs = []
    for region in config.regions:
        mine = [p for p in probes if p.region == region]
        mine += [r for r in readers if r.name.startswith(f"{config.stack}-{region}-read-in-")]
        name = config.region_check_name(region)
        props = RegionCheckProps(
            type=CALCULATED,
            children=tuple(sorted(_label(s.name) for s in mine)),
            health_threshold=len(mine),  # all of them: an AND
            inverted=False,
            disabled=False,
            tags=tuple(sorted({**config.ownership_tags(), NAME_TAG: name}.items())),
        )
        specs.append(Spec(KIND, region, name, props, depends_on=tuple(s.key for s in mine)))
    return specs


def _label(name: str) -> str:
    return f"<health check {name}>"


class RegionCheckHandler(Handler):
    kind = KIND

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec, *, fresh: bool = False) -> Observed:
        props: RegionCheckProps = spec.props
        owned, others = candidates(ctx, check_key(ctx, spec), fresh)
        chosen = pick(ctx, owned)
        if chosen is None:
            if others:
                return Observed(exists=True, owned=False, raw={"id": others[0][0]["Id"]})
            return Observed.missing()
        ctx.outputs[f"health_check_id:{check_key(ctx, spec)}"] = chosen["Id"]
        tags = next(t for c, t in owned if c is chosen)
        cfg = chosen["HealthCheckConfig"]
        names = {v: k for k, v in _child_ids(ctx, props, required=False).items()}
        children = cfg.get("ChildHealthChecks") or []
        return Observed(
            exists=True,
            props={
                "type": cfg.get("Type"),
                "children": tuple(sorted(names.get(c, c) for c in children)),
                "health_threshold": cfg.get("HealthThreshold"),
                "inverted": cfg.get("Inverted", False),
                "disabled": cfg.get("Disabled", False),
                "tags": comparable_tags(tags, props.tags),
            },
            raw={"id": chosen["Id"], "version": chosen.get("HealthCheckVersion"),
                 "extra_ids": [c["Id"] for c, _ in owned if c is not chosen]},
        )  # fmt: skip

    def create(self, ctx: Context, spec: Spec) -> None:
        seen = self.observe(ctx, spec, fresh=True)
        if seen.exists and seen.owned:
            if changes := self.diff(spec, seen):
                self.update(ctx, spec, seen, changes)
            return
        props: RegionCheckProps = spec.props
        children = _child_ids(ctx, props, required=True)
        r53 = ctx.client("route53", ROUTE53_REGION)
        prefix = reference_prefix(ctx, check_key(ctx, spec))
        check_id: str = r53.create_health_check(
            CallerReference=prefix + uuid.uuid4().hex[: max(64 - len(prefix), 12)],
            HealthCheckConfig={
                "Type": CALCULATED,
                "ChildHealthChecks": [children[c] for c in props.children],
                "HealthThreshold": props.health_threshold,
                "Inverted": props.inverted,
                "Disabled": props.disabled,
            },
        )["HealthCheck"]["Id"]
        adopt_new_check(ctx, spec, check_id, dict(props.tags))
        # Records move onto it next: let its readers report "no objection" first.
        wait_for_no_objection(ctx, spec.region, [children[c] for c in _oldest_first(props)])

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        props: RegionCheckProps = spec.props
        changed = {c.field for c in changes}
        r53 = ctx.client("route53", ROUTE53_REGION)
        current = observed.raw["id"]
        if changed - {"tags"}:
            children = _child_ids(ctx, props, required=True)
            ids = [children[c] for c in props.children]
            if "children" in changed:
                ordered = [children[c] for c in _oldest_first(props)]
                wait_for_no_objection(ctx, spec.region, ordered)
            update_versioned(  # a concurrent edit: the version read again, once
                r53,
                current,
                observed.raw["version"],
                ChildHealthChecks=ids,
                HealthThreshold=props.health_threshold,
                Inverted=props.inverted,
                Disabled=props.disabled,
            )
        if "tags" in changed:
            r53.change_tags_for_resource(
                ResourceType="healthcheck", ResourceId=current, AddTags=tag_list(dict(props.tags))
            )
        forget_checks(ctx)

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        ids = [observed.raw["id"], *observed.raw.get("extra_ids", [])]
        _, in_use = records_using(ctx, ids)
        if in_use:
            raise FailoverError(
                f"Health check {spec.name} is still used by {len(in_use)} record(s)",
                hint="`down` deletes the stack's records first; re-run `failover down`.",
                region=spec.region,
            )
        for check_id in ids:
            delete_check(ctx, spec, check_id)
        forget_checks(ctx)
        ctx.outputs.pop(f"health_check_id:{check_key(ctx, spec)}", None)


def _oldest_first(props: RegionCheckProps) -> list[str]:
    """The children with the probe first: `up` creates the readers last (just before this
    check), so a wait polling in this order gives them the most time to report (each poll
    of a check with no report yet costs a second of Route 53's quota)."""
    return sorted(props.children, key=lambda label: "-read-in-" in label)


def _child_ids(ctx: Context, props: RegionCheckProps, *, required: bool) -> dict[str, str]:
    """ "<health check NAME>" -> the id of that check (those that exist)."""
    found: dict[str, str] = {}
    for label in props.children:
        key = label.removeprefix("<health check ").removesuffix(">")
        key = key.removeprefix(f"{ctx.config.stack}-")
        known = ctx.outputs.get(f"health_check_id:{key}")
        check = None if known else find_health_check(ctx, key, fresh=required)
        if known or check is not None:
            found[label] = str(known or check["Id"])  # type: ignore[index]
        elif required:
            raise FailoverError(
                f"The health check {label[14:-1]} does not exist yet",
                hint="`failover up` creates the probes and readers first; re-run it.",
            )
    return found


HANDLER = RegionCheckHandler()
