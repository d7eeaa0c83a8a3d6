"""Base path mapping `domain.base_path` -> the region's API and stage (SPEC §4.6).

One mapping per region on the stack's custom domain name. Mappings have no
tags: they belong to the stack when the domain name does. An empty base path
is API Gateway's "(none)": the API answers at the domain's root.

Changing `domain.base_path` moves the stack's mapping (the one pointing at
the stack's API) to the new path instead of leaving the old one behind.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.tags import is_owned
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import FailoverError
from failover_cli.resources.api import find_api
from failover_cli.resources.domain_name import read_domain

KIND = "base_path_mapping"
NO_BASE_PATH = "(none)"  # how API Gateway names the empty base path
API = "<the stack's REST API in this region>"  # desired; the id is learnt online


@dataclass(frozen=True)
class BasePathMappingProps:
    base_path: str  # NO_BASE_PATH when domain.base_path is empty
    api: str
    stage: str


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    domain = config.domain
    if domain is None:
        return []
    props = BasePathMappingProps(
        base_path=domain.base_path or NO_BASE_PATH, api=API, stage=config.api.stage
    )
    return [
        Spec(
            KIND,
            region,
            domain.name,
            props,
            depends_on=(f"domain_name:{region}:{domain.name}", f"api:{region}:{config.api_name}"),
        )
        for region in config.regions
    ]


class BasePathMappingHandler(Handler):
    kind = KIND
    compared_fields = ("base_path", "api", "stage")

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: BasePathMappingProps = spec.props
        domain = read_domain(ctx, spec.region)
        if domain is None:
            return Observed.missing()
        api_id = _api_id(ctx, spec.region)
        mappings = _mappings(ctx, spec)
        mapping = next((m for m in mappings if m.get("basePath") == props.base_path), None)
        if mapping is None:  # the base path changed in the config: ours is the one to our API
            mapping = next((m for m in mappings if api_id and m.get("restApiId") == api_id), None)
        if mapping is None:
            return Observed.missing()
        owned = is_owned(domain.get("tags") or {}, ctx.config.stack)
        return Observed(
            exists=True,
            owned=owned,
            props={
                "base_path": mapping.get("basePath"),
                "api": API
                if api_id and mapping.get("restApiId") == api_id
                else mapping.get("restApiId"),
                "stage": mapping.get("stage"),
            },
            raw={"mapping": mapping},
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        props: BasePathMappingProps = spec.props
        ag = ctx.client("apigateway", spec.region)
        api_id = _require_api(ctx, spec)
        params: dict[str, str] = {
            "domainName": spec.name,
            "restApiId": api_id,
            "stage": props.stage,
        }
        if props.base_path != NO_BASE_PATH:
            params["basePath"] = props.base_path
        try:
            ag.create_base_path_mapping(**params)
        except ag.exceptions.ConflictException:
            # Left by an interrupted run on our own domain name: converge it.
            seen = self.observe(ctx, spec)
            changes = self.diff(spec, seen)
            if seen.exists and changes:
                self.update(ctx, spec, seen, changes)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        props: BasePathMappingProps = spec.props
        ag = ctx.client("apigateway", spec.region)
        current = observed.raw["mapping"]["basePath"]
        if "base_path" in {c.field for c in changes}:
            # The path is the mapping's identity ("(none)" cannot be patched in or out):
            # move it by re-creating it; the old URL goes away either way.
            with contextlib.suppress(ag.exceptions.NotFoundException):
                ag.delete_base_path_mapping(domainName=spec.name, basePath=current)
            self.create(ctx, spec)
            return
        operations = [
            {"op": "replace", "path": "/restapiId", "value": _require_api(ctx, spec)},
            {"op": "replace", "path": "/stage", "value": props.stage},
        ]
        ag.update_base_path_mapping(
            domainName=spec.name, basePath=current, patchOperations=operations
        )

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        ag = ctx.client("apigateway", spec.region)
        with contextlib.suppress(ag.exceptions.NotFoundException):
            ag.delete_base_path_mapping(
                domainName=spec.name, basePath=observed.raw["mapping"]["basePath"]
            )


def _mappings(ctx: Context, spec: Spec) -> list[dict[str, Any]]:
    ag = ctx.client("apigateway", spec.region)
    found: list[dict[str, Any]] = []
    try:
        for page in ag.get_paginator("get_base_path_mappings").paginate(domainName=spec.name):
            found.extend(page.get("items", []))
    except ag.exceptions.NotFoundException:
        return []  # the domain name went away meanwhile
    return found


def _api_id(ctx: Context, region: str) -> str | None:
    known = ctx.outputs.get(f"api_id:{region}")
    if known:
        return str(known)
    api = find_api(ctx, region)
    if api is None or not is_owned(api.get("tags") or {}, ctx.config.stack):
        return None
    return str(api["id"])


def _require_api(ctx: Context, spec: Spec) -> str:
    api_id = _api_id(ctx, spec.region)
    if api_id is None:
        raise FailoverError(
            f"The stack's REST API {ctx.config.api_name} does not exist",
            region=spec.where,
            hint="`failover up` creates it before the mapping; re-run it.",
        )
    return api_id


HANDLER = BasePathMappingHandler()
