"""REST API `<stack>` per region: REGIONAL endpoint, `/{proxy+}` ANY -> the region's function.

Sub-pieces (proxy resource, method, integration, stage, Lambda permission) are
each find-or-create, so an interrupted run resumes. The integration invokes the
function's `live` alias (resources/alias.py), with the invoke permission on the
alias' qualified ARN (a permission on the bare function does not cover it).
A stack made before the alias moves with no failed request: the alias
permission first, then the integration and a deployment, then the old
unqualified statement goes. Any change to the routes
is followed by a new deployment to the stage: API Gateway serves the last
deployment, not the current definition.

API names are not unique in API Gateway; the stack's API is the one with the
name and the ownership tags, the oldest if there are more: CreateRestApi is not
idempotent, so a create resent after a lost answer makes a second one. `up`
deletes such duplicates (a `duplicates` change), `down` every owned one.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from failover_cli.access.statement import deployment_description
from failover_cli.aws.tags import comparable_tags, is_owned
from failover_cli.config.schema import Throttle
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import FailoverError
from failover_cli.resources.role import ACCOUNT, with_account, without_account
from failover_cli.services import stage_throttle
from failover_cli.services.live_alias import ALIAS
from failover_cli.services.rest_apis import apis_named as _apis_named
from failover_cli.services.rest_apis import find_api as find_api  # callers import it here
from failover_cli.services.rest_apis import oldest as _oldest

KIND = "api"
PROXY_PATH = "/{proxy+}"
PROXY_METHOD = "ANY"
AUTHORIZATION = "NONE"
API_ID = "<api-id>"  # placeholder for the API id in the desired permission ARN
ENDPOINT = "REGIONAL"


@dataclass(frozen=True)
class ApiProps:
    endpoint: str
    route: str
    integration: str  # "<type> <method> <uri>", uri with the <account> placeholder
    stage: str
    throttle: str  # the stage's default method throttling (stage_throttle.describe)
    permission: str  # the permission's SourceArn, with <account> and <api-id>
    tags: tuple[tuple[str, str], ...]
    function_name: str  # whose resource policy holds the permission (not compared)
    statement_id: str  # the permission's statement id (not compared)
    limits: Throttle = field(default_factory=Throttle)  # `throttle` as numbers (not compared)
    duplicates: int = 0  # other owned APIs of the same name
    legacy_permission: bool = False  # the statement on the unqualified function (pre-alias)


def function_arn(region: str, function: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{function}"


def integration_uri(region: str, fn_arn: str) -> str:
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn}/invocations"


def source_arn(region: str, account: str, api_id: str) -> str:
    """Any stage, method and path of this one API (and no other) may invoke the function."""
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/*/*/*"


def route(authorization: str) -> str:
    return f"{PROXY_METHOD} {PROXY_PATH} (authorization {authorization})"


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    fn = config.function.name
    specs = []
    for region in config.regions:
        uri = integration_uri(region, f"{function_arn(region, fn)}:{ALIAS}")
        props = ApiProps(
            endpoint=ENDPOINT,
            route=route(AUTHORIZATION),
            integration=f"AWS_PROXY POST {uri}",
            stage=config.api.stage,
            throttle=stage_throttle.describe(config.api.throttle),
            limits=config.api.throttle,
            permission=source_arn(region, ACCOUNT, API_ID),
            tags=tuple(sorted(config.ownership_tags().items())),
            function_name=fn,
            statement_id=f"{config.stack}-apigateway",
        )
        specs.append(
            Spec(
                KIND,
                region,
                config.api_name,
                props,
                depends_on=(f"function:{region}:{fn}", f"alias:{region}:{ALIAS}"),
            )
        )
    return specs


@dataclass
class ApiState:
    """What exists under one REST API: read by observe, reused by update."""

    api: dict[str, Any]
    root_id: str | None
    proxy_id: str | None
    method: dict[str, Any] | None  # with its methodIntegration, if any
    stage: dict[str, Any] | None  # GetStage's answer; None when the stage does not exist
    source_arn: str | None  # SourceArn of the permission statement; None when absent
    legacy_permission: bool = False  # the stack's statement on the unqualified function
    duplicates: tuple[str, ...] = ()  # ids of the other owned APIs of that name


class ApiHandler(Handler):
    kind = KIND
    compared_fields = (
        "endpoint",
        "route",
        "integration",
        "stage",
        "throttle",
        "permission",
        "tags",
        "duplicates",
        "legacy_permission",
    )

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        named = _apis_named(ctx, spec.region, spec.name)
        owned = _owned(ctx, named)
        api = _oldest(owned or named)  # find_api's choice, from the same listing
        if api is None:
            return Observed.missing()
        if not owned:
            return Observed(exists=True, owned=False, raw={"api": api})
        ctx.outputs[f"api_id:{spec.region}"] = api["id"]
        state = _read_state(ctx, spec, api, owned)
        return Observed(exists=True, props=_props(ctx, spec, state), raw={"state": state})

    def create(self, ctx: Context, spec: Spec) -> None:
        props: ApiProps = spec.props
        # Find-or-create: an interrupted run may have made the API but not its pieces.
        owned = _owned(ctx, _apis_named(ctx, spec.region, spec.name))
        if not owned:
            ctx.client("apigateway", spec.region).create_rest_api(
                name=spec.name,
                description=f"failover stack {ctx.config.stack}",
                endpointConfiguration={"types": [props.endpoint]},
                tags=dict(props.tags),  # at create time: the only way moto keeps them
            )
            # Listed again: a resent create (lost answer) may have made two; keep the oldest.
            owned = _owned(ctx, _apis_named(ctx, spec.region, spec.name))
        api = _oldest(owned)
        if api is None:
            raise FailoverError(
                f"API Gateway does not list the REST API {spec.name} just created",
                hint="Re-run `failover up`.",
                region=spec.region,
            )
        ctx.outputs[f"api_id:{spec.region}"] = api["id"]
        state = _read_state(ctx, spec, api, owned)
        self._converge(ctx, spec, state, _props(ctx, spec, state))

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        self._converge(ctx, spec, observed.raw["state"], observed.props)

    def _converge(self, ctx: Context, spec: Spec, state: ApiState, now: dict[str, Any]) -> None:
        props: ApiProps = spec.props
        ag = ctx.client("apigateway", spec.region)
        api_id = state.api["id"]
        if now["endpoint"] != props.endpoint:
            old = (state.api.get("endpointConfiguration") or {}).get("types") or ["EDGE"]
            ag.update_rest_api(
                restApiId=api_id,
                patchOperations=[
                    {
                        "op": "replace",
                        "path": f"/endpointConfiguration/types/{old[0]}",
                        "value": props.endpoint,
                    }
                ],
            )
        redeploy = False
        proxy_id = state.proxy_id
        if proxy_id is None:
            proxy_id = ag.create_resource(
                restApiId=api_id, parentId=state.root_id, pathPart=PROXY_PATH.lstrip("/")
            )["id"]
            redeploy = True
        # The permission before the integration names the alias: no request finds it closed.
        if now["permission"] != props.permission:
            _grant(ctx, spec, api_id, replace=state.source_arn is not None)
        integration = now["integration"]
        if state.proxy_id is None or now["route"] != props.route:
            if state.method is not None:  # wrong authorization: replace the method
                ag.delete_method(restApiId=api_id, resourceId=proxy_id, httpMethod=PROXY_METHOD)
            ag.put_method(
                restApiId=api_id,
                resourceId=proxy_id,
                httpMethod=PROXY_METHOD,
                authorizationType=AUTHORIZATION,
            )
            integration, redeploy = None, True
        if integration != props.integration:
            kind, method, uri = props.integration.split(" ", 2)
            ag.put_integration(
                restApiId=api_id,
                resourceId=proxy_id,
                httpMethod=PROXY_METHOD,
                type=kind,
                integrationHttpMethod=method,
                uri=with_account(uri, ctx.account_id),
            )
            redeploy = True
        deployed = redeploy or now["stage"] != props.stage
        if deployed:
            # Marked with the policy it deploys, as read with the API (api_policy, which
            # writes the policy after this, reads the mark back).
            ag.create_deployment(
                restApiId=api_id,
                stageName=props.stage,
                description=deployment_description(
                    "deployed by failover up", state.api.get("policy")
                ),
            )
        # A new stage has no throttling yet; moto also drops it when redeploying: set it again.
        if deployed or now["throttle"] != props.throttle:
            ag.update_stage(
                restApiId=api_id,
                stageName=props.stage,
                patchOperations=stage_throttle.patch_operations(props.limits),
            )
        if now["legacy_permission"]:  # only once the deployed stage invokes the alias
            lam = ctx.client("lambda", spec.region)
            with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
                lam.remove_permission(
                    FunctionName=props.function_name, StatementId=props.statement_id
                )
        if now["tags"] != props.tags:
            ag.tag_resource(
                resourceArn=f"arn:aws:apigateway:{spec.region}::/restapis/{api_id}",
                tags=dict(props.tags),
            )
        for duplicate in state.duplicates:
            with contextlib.suppress(ag.exceptions.NotFoundException):
                ag.delete_rest_api(restApiId=duplicate)

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        props: ApiProps = spec.props
        ag = ctx.client("apigateway", spec.region)
        # Every owned API of that name, so duplicates from an interrupted run go too.
        for api in _apis_named(ctx, spec.region, spec.name):
            if is_owned(api.get("tags") or {}, ctx.config.stack):
                with contextlib.suppress(ag.exceptions.NotFoundException):
                    ag.delete_rest_api(restApiId=api["id"])
        lam = ctx.client("lambda", spec.region)
        # Gone already when the function is gone: fine either way.
        for qualifier in ({"Qualifier": ALIAS}, {}):
            with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
                lam.remove_permission(
                    FunctionName=props.function_name, StatementId=props.statement_id, **qualifier
                )
        ctx.outputs.pop(f"api_id:{spec.region}", None)


def _owned(ctx: Context, apis: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in apis if is_owned(a.get("tags") or {}, ctx.config.stack)]


def _read_state(
    ctx: Context, spec: Spec, api: dict[str, Any], owned: list[dict[str, Any]]
) -> ApiState:
    props: ApiProps = spec.props
    ag = ctx.client("apigateway", spec.region)
    api_id = api["id"]
    root = proxy = None
    for page in ag.get_paginator("get_resources").paginate(restApiId=api_id, embed=["methods"]):
        for resource in page.get("items", []):
            if resource.get("path") == "/":
                root = resource
            elif resource.get("path") == PROXY_PATH:
                proxy = resource
    method = ((proxy or {}).get("resourceMethods") or {}).get(PROXY_METHOD)
    if proxy is not None and method is not None and "methodIntegration" not in method:
        # An embedded method may leave out its integration: ask for the method itself.
        try:
            method = ag.get_method(
                restApiId=api_id, resourceId=proxy["id"], httpMethod=PROXY_METHOD
            )
        except ag.exceptions.NotFoundException:
            method = None
    try:
        stage: dict[str, Any] | None = ag.get_stage(restApiId=api_id, stageName=props.stage)
    except ag.exceptions.NotFoundException:
        stage = None
    return ApiState(
        api=api,
        root_id=(root or {}).get("id") or api.get("rootResourceId"),
        proxy_id=(proxy or {}).get("id"),
        method=method,
        stage=stage,
        source_arn=_permission_source(ctx, spec, ALIAS),
        legacy_permission=_permission_source(ctx, spec, None) is not None,
        duplicates=tuple(a["id"] for a in owned if a["id"] != api_id),
    )


def _permission_source(ctx: Context, spec: Spec, qualifier: str | None) -> str | None:
    """The SourceArn of the stack's statement in the resource policy of the alias
    (`qualifier`) or of the unqualified function (None)."""
    props: ApiProps = spec.props
    lam = ctx.client("lambda", spec.region)
    request = {"FunctionName": props.function_name}
    if qualifier is not None:
        request["Qualifier"] = qualifier
    try:
        policy = json.loads(lam.get_policy(**request)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        return None  # no function, no alias, or no policy yet
    suffix = f":function:{props.function_name}" + (f":{qualifier}" if qualifier else "")
    for statement in policy.get("Statement", []):
        # The Resource tells the alias' statement from the bare function's.
        if statement.get("Sid") == props.statement_id and str(
            statement.get("Resource", suffix)
        ).endswith(suffix):
            condition = (statement.get("Condition") or {}).get("ArnLike") or {}
            return str(condition.get("AWS:SourceArn", "unscoped"))
    return None


def _props(ctx: Context, spec: Spec, state: ApiState) -> dict[str, Any]:
    """The observed state in exactly the desired representation."""
    props: ApiProps = spec.props
    account = ctx.account_id
    api_id = state.api["id"]
    method = state.method
    integration = (method or {}).get("methodIntegration")
    permission = None
    if state.source_arn is not None:
        permission = without_account(state.source_arn, account).replace(
            f":{ACCOUNT}:{api_id}/", f":{ACCOUNT}:{API_ID}/"
        )
    types = (state.api.get("endpointConfiguration") or {}).get("types") or []
    return {
        "endpoint": ",".join(sorted(types)),
        "route": route(method.get("authorizationType", "")) if method else None,
        "integration": (
            f"{integration.get('type')} {integration.get('httpMethod')} "
            f"{without_account(integration.get('uri', ''), account)}"
            if integration
            else None
        ),
        "stage": props.stage if state.stage is not None else None,
        "throttle": stage_throttle.observed(state.stage),
        "permission": permission,
        "tags": comparable_tags(state.api.get("tags") or {}, props.tags),
        "duplicates": len(state.duplicates),
        "legacy_permission": state.legacy_permission,
    }


def _grant(ctx: Context, spec: Spec, api_id: str, *, replace: bool) -> None:
    """Let this API (only) invoke the function; a stale statement is replaced."""
    props: ApiProps = spec.props
    lam = ctx.client("lambda", spec.region)
    arn = with_account(props.permission, ctx.account_id).replace(API_ID, api_id)

    def remove() -> None:
        with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
            lam.remove_permission(
                FunctionName=props.function_name, StatementId=props.statement_id, Qualifier=ALIAS
            )

    def add() -> None:
        lam.add_permission(
            FunctionName=props.function_name,
            Qualifier=ALIAS,
            StatementId=props.statement_id,
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=arn,
        )

    if replace:
        remove()
    try:
        add()
    except lam.exceptions.ResourceConflictException:  # the statement id is taken: replace it
        remove()
        add()


HANDLER = ApiHandler()
