"""Regional custom domain name `domain.name` in each region (SPEC §4.6).

API Gateway custom domain names are per region: the same name exists once in
every region, each with that region's certificate and its own regional target
(`d-….execute-api.<R>.amazonaws.com` and a hosted zone id), which is what the
Route 53 alias record of that region points at. The target is shared through
`ctx.outputs["domain_target:<R>"]`.

A domain name is the stack's only when it carries the ownership tags; names
are unique per region, so a look-alike blocks `up` instead of being adopted.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from failover_cli.aws.tags import comparable_tags, is_owned
from failover_cli.config.schema import DomainConfig
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Former, Handler
from failover_cli.engine.leftovers import detached
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import ConflictError, FailoverError
from failover_cli.services.acm_certificates import certificate_arn, find_certificate
from failover_cli.services.route53_zone import find_zone

KIND = "domain_name"
ENDPOINT = "REGIONAL"
SECURITY_POLICY = "TLS_1_2"
CERTIFICATE = "<the stack's certificate in this region>"  # desired; ARNs are learnt online


@dataclass(frozen=True)
class DomainNameProps:
    endpoint: str
    security_policy: str
    certificate: str
    tags: tuple[tuple[str, str], ...]


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    domain = config.domain
    if domain is None:
        return []
    props = DomainNameProps(
        endpoint=ENDPOINT,
        security_policy=SECURITY_POLICY,
        certificate=CERTIFICATE,
        tags=tuple(sorted(config.ownership_tags().items())),
    )
    return [
        Spec(KIND, region, domain.name, props, depends_on=(f"certificate:{region}:{domain.name}",))
        for region in config.regions
    ]


def read_domain(ctx: Context, region: str, *, fresh: bool = False) -> dict[str, Any] | None:
    """GetDomainName for `domain.name` in `region` (memoised per run), or None."""
    key = f"apigateway:domain_name:{region}"
    if fresh:
        ctx.forget(key)
    return ctx.memo(key, lambda: _get(ctx, region))


def domain_target(ctx: Context, region: str) -> dict[str, str] | None:
    """The stack's regional target in `region`: {"regionalDomainName", "regionalHostedZoneId"}."""
    known = ctx.outputs.get(f"domain_target:{region}")
    if known:
        return dict(known)
    found = read_domain(ctx, region)
    if found is None or not is_owned(found.get("tags") or {}, ctx.config.stack):
        return None
    return _remember(ctx, region, found)


class DomainNameHandler(Handler):
    kind = KIND
    compared_fields = ("endpoint", "security_policy", "certificate", "tags")

    def leftovers(self, ctx: Context) -> Former:
        """The stack's custom domain names other than `domain.name`, in its regions."""
        return Former(domains=_former(ctx, owned_domain_names(ctx, ctx.config.regions)))

    def leftovers_in(self, ctx: Context, regions: tuple[str, ...]) -> Former:
        """The same in regions the config no longer names (the first round is memoised)."""
        seen = set(owned_domain_names(ctx, ctx.config.regions))
        found = [n for n in owned_domain_names(ctx, regions) if n not in seen]
        return Former(domains=_former(ctx, found))

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: DomainNameProps = spec.props
        found = read_domain(ctx, spec.region)
        if found is None:
            return Observed.missing()
        tags = found.get("tags") or {}
        if not is_owned(tags, ctx.config.stack):
            return Observed(exists=True, owned=False, raw={"domain": found})
        _remember(ctx, spec.region, found)
        ours = find_certificate(ctx, spec.region)
        arn = found.get("regionalCertificateArn")
        return Observed(
            exists=True,
            props={
                "endpoint": ",".join(
                    sorted((found.get("endpointConfiguration") or {}).get("types") or [])
                ),
                "security_policy": found.get("securityPolicy"),
                "certificate": CERTIFICATE if ours is not None and arn == ours.arn else arn,
                "tags": comparable_tags(tags, props.tags),
            },
            raw={"domain": found},
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        props: DomainNameProps = spec.props
        ag = ctx.client("apigateway", spec.region)
        try:
            found = ag.create_domain_name(
                domainName=spec.name,
                regionalCertificateArn=_issued_certificate(ctx, spec),
                endpointConfiguration={"types": [props.endpoint]},
                securityPolicy=props.security_policy,
                tags=dict(props.tags),
            )
        except ag.exceptions.ConflictException:
            # An interrupted run made it, or someone else did: converge only if ours.
            ctx.forget(f"apigateway:domain_name:{spec.region}")
            seen = self.observe(ctx, spec)
            if not seen.owned:
                raise ConflictError(
                    f"The custom domain name {spec.name} appeared meanwhile without the stack's "
                    "tags",
                    region=spec.where,
                ) from None
            changes = self.diff(spec, seen)
            if changes:
                self.update(ctx, spec, seen, changes)
            return
        ctx.forget(f"apigateway:domain_name:{spec.region}")
        _remember(ctx, spec.region, found)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        props: DomainNameProps = spec.props
        ag = ctx.client("apigateway", spec.region)
        found: dict[str, Any] = observed.raw["domain"]
        changed = {c.field for c in changes}
        operations: list[dict[str, str]] = []
        if "endpoint" in changed:
            old = ((found.get("endpointConfiguration") or {}).get("types") or ["EDGE"])[0]
            operations.append(
                {
                    "op": "replace",
                    "path": f"/endpointConfiguration/types/{old}",
                    "value": props.endpoint,
                }
            )
        if "certificate" in changed or "endpoint" in changed:
            operations.append(
                {
                    "op": "replace",
                    "path": "/regionalCertificateArn",
                    "value": _issued_certificate(ctx, spec),
                }
            )
        if "security_policy" in changed:
            operations.append(
                {"op": "replace", "path": "/securityPolicy", "value": props.security_policy}
            )
        if operations:
            # In place: a new domain name would get a new target, and DNS would point nowhere.
            updated = ag.update_domain_name(domainName=spec.name, patchOperations=operations)
            _remember(ctx, spec.region, updated)
        if "tags" in changed:
            ag.tag_resource(
                resourceArn=f"arn:aws:apigateway:{spec.region}::/domainnames/{spec.name}",
                tags=dict(props.tags),
            )
        ctx.forget(f"apigateway:domain_name:{spec.region}")

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        ag = ctx.client("apigateway", spec.region)
        with contextlib.suppress(ag.exceptions.NotFoundException):
            ag.delete_domain_name(domainName=spec.name)
        ctx.outputs.pop(f"domain_target:{spec.region}", None)
        ctx.forget(f"apigateway:domain_name:{spec.region}")


def _get(ctx: Context, region: str) -> dict[str, Any] | None:
    domain = ctx.config.domain
    assert domain is not None
    ag = ctx.client("apigateway", region)
    try:
        found: dict[str, Any] = ag.get_domain_name(domainName=domain.name)
    except ag.exceptions.NotFoundException:
        return None
    found.pop("ResponseMetadata", None)
    return found


def _remember(ctx: Context, region: str, found: dict[str, Any]) -> dict[str, str] | None:
    name, zone_id = found.get("regionalDomainName"), found.get("regionalHostedZoneId")
    if not name or not zone_id:
        return None
    target = {"regionalDomainName": str(name), "regionalHostedZoneId": str(zone_id)}
    ctx.outputs[f"domain_target:{region}"] = target
    return dict(target)


def _issued_certificate(ctx: Context, spec: Spec) -> str:
    arn = certificate_arn(ctx, spec.region)
    if arn is None:
        raise FailoverError(
            f"The stack has no issued certificate for {spec.name}",
            region=spec.where,
            hint="`failover up` requests and validates it before the domain name; re-run it.",
        )
    return arn


def owned_domain_names(ctx: Context, regions: tuple[str, ...]) -> list[str]:
    """Custom domain names tagged with the stack in `regions` (one GetDomainNames each)."""

    def read(region: str) -> list[str]:
        def listing() -> list[str]:
            api = ctx.client("apigateway", region)
            items: list[dict[str, Any]] = []
            for page in api.get_paginator("get_domain_names").paginate():
                items += page.get("items", [])
            return [
                str(d["domainName"])
                for d in items
                if is_owned(d.get("tags") or {}, ctx.config.stack)
            ]

        return ctx.memo(f"apigateway:domain_names:{region}", listing)

    with ThreadPoolExecutor(max_workers=max(1, len(regions))) as pool:
        return [name for names in pool.map(read, regions) for name in names]


def _former(ctx: Context, found: list[str]) -> tuple[DomainConfig, ...]:
    wanted = ctx.config.domain.name.rstrip(".").lower() if ctx.config.domain else None
    names = sorted({n for n in found if n.rstrip(".").lower() != wanted})
    return tuple(_domain_config(ctx, n) for n in names)


def _domain_config(ctx: Context, name: str) -> DomainConfig:
    """A DomainConfig for a former domain: its hosted zone is the nearest public zone above
    it (the configured zone first, when it is one; with none left, its records are gone)."""
    labels = name.rstrip(".").split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    if ctx.config.domain is not None and ctx.config.domain.hosted_zone in candidates:
        candidates.remove(ctx.config.domain.hosted_zone)
        candidates.insert(0, ctx.config.domain.hosted_zone)
    for zone_name in candidates:
        probe = detached(ctx, replace(ctx.config, domain=DomainConfig(name, zone_name)))
        if find_zone(probe) is not None:
            return DomainConfig(name, zone_name)
    return DomainConfig(name, candidates[-1] if candidates else name)


HANDLER = DomainNameHandler()
