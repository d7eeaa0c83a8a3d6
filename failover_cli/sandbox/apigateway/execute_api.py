"""HTTP requests to REST APIs: `<api-id>.execute-api.<region>.(amazonaws.com|localhost)`,
or the AWS name under `.localhost` (what `up` prints when FAILOVER_RESOLVE sends the
AWS name to a loopback address: `<AWS host>.localhost` reaches it by name).

moto stores APIs but never serves them. Here a request to an API's host (by
name, or by Host header on 127.0.0.1) goes API -> stage -> the stage's
deployment -> resource and method -> AWS_PROXY integration -> the function,
which is invoked through the sandbox's own Lambda `Invoke`, made in process
(in_process.py: it runs exactly as any other invocation does). Errors are API Gateway's:

- unknown API or stage: 403 {"message": "Forbidden"};
- refused by the deployed resource policy (resource_policy.py, `aws:SourceIp`
  from X-Forwarded-For, a test device): 403 {"Message": "User: anonymous is not
  authorized to perform: execute-api:Invoke on resource: ..."};
- past the stage's throttle (rate and burst of its `*/*` method settings):
  429 {"message": "Too Many Requests"}, the function not invoked (throttle.py);
- no resource or method for the path: 403 {"message": "Missing Authentication Token"}
  (what REST APIs really answer, not a 404);
- API Gateway may not invoke the function (no permission on the ARN the
  integration names: the function, or that version or alias), or it is gone: 500;
- the function failed or its answer is not a valid proxy answer: 502;
- no answer within the integration timeout (29 s by default): 504.

`dispatch_execute_api` is the entry point for other features (custom domains
call it after resolving the base path mapping).
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from failover_cli.sandbox import in_process
from failover_cli.sandbox.apigateway.proxy_event import (
    HttpRequest,
    MalformedProxyAnswer,
    RouteContext,
    build_event,
    parse_proxy_answer,
    trace_id,
)
from failover_cli.sandbox.apigateway.resource_policy import (
    Verdict,
    caller_address,
    denied,
    evaluate,
    invoke_arn,
)
from failover_cli.sandbox.apigateway.routes import Deployments, Match, match
from failover_cli.sandbox.apigateway.throttle import StageThrottles, emulated_clock
from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.execute_api_hosts import execute_api_host
from failover_cli.sandbox.lambda_.permissions import statements_for
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.outage_regions import Unanswered
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response

if TYPE_CHECKING:
    from moto.apigateway.models import RestAPI

log = logging.getLogger(__name__)

_FUNCTION_ARN = re.compile(r":lambda:path/[^/]+/functions/(?P<arn>arn:[^/]+)/invocations$")
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
_DEPLOYMENTS_PATH = re.compile(r"^/restapis/(?P<api>[^/]+)/deployments/?$")
APIGATEWAY_PRINCIPAL = "apigateway.amazonaws.com"

# One deployment store per running sandbox (a process may start several, one after another).
_warned: set[tuple[str, str]] = set()  # (route, kind of problem) already logged
_deployments: weakref.WeakKeyDictionary[SandboxContext, Deployments] = weakref.WeakKeyDictionary()
_throttles: weakref.WeakKeyDictionary[SandboxContext, StageThrottles] = weakref.WeakKeyDictionary()


def install(context: SandboxContext) -> None:
    deployments = _deployments.setdefault(context, Deployments())
    context.layer.add(DeploymentSnapshots(deployments))
    context.layer.add(ExecuteApiInterceptor(context))


class ExecuteApiInterceptor(Interceptor):
    """Serves every request whose host names a REST API."""

    def __init__(self, context: SandboxContext):
        self.context = context

    def wants(self, request: AwsRequest) -> bool:
        host = execute_api_host(request.hostname)
        return host is not None and host.is_rest_api  # "d-…": a custom domain's target

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        host = execute_api_host(request.hostname)
        assert host is not None
        # WSGI hands the path over as latin-1 text: get the client's UTF-8 back.
        path = request.path.encode("latin-1", "replace").decode("utf-8", "replace")
        stage, _, rest = path.lstrip("/").partition("/")
        if not stage:
            return gateway_error(403, "Forbidden")
        return dispatch_execute_api(
            self.context,
            host.id,
            host.region,
            stage,
            "/" + rest,
            request.method,
            request.query,
            request.headers,
            request.body,
        )


class DeploymentSnapshots(Interceptor):
    """Snapshots an API's routes when CreateDeployment succeeds (API Gateway serves those)."""

    def __init__(self, deployments: Deployments):
        self.deployments = deployments

    def wants(self, request: AwsRequest) -> bool:
        return (
            request.service == "apigateway"
            and request.method == "POST"
            and _DEPLOYMENTS_PATH.match(request.path) is not None
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        response = forward(request)
        found = _DEPLOYMENTS_PATH.match(request.path)
        if response.ok and found is not None:
            api = _api(request.account_id, request.region, found["api"])
            deployment_id = response.json().get("id")
            if api is not None and isinstance(deployment_id, str):
                self.deployments.record(request.account_id, request.region, api, deployment_id)
        return response


def dispatch_execute_api(
    context: SandboxContext,
    api_id: str,
    region: str,
    stage: str,
    path: str,
    method: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    domain_name: str | None = None,
    base_path: str | None = None,
) -> Response:
    """Answer one request to `stage` of REST API `api_id` in `region`, as API Gateway would.

    `path` is the path within the stage ("/health"); `query` the raw query
    string. Behind a custom domain pass `domain_name` and the mapping's
    `base_path` ("" for the empty mapping): the event's `path` then includes
    the base path, while `pathParameters` do not, as on AWS. The caller's
    address is the first of `X-Forwarded-For` (resource_policy.caller_address).
    """
    found = find_api(api_id, region)
    if found is None:
        return gateway_error(403, "Forbidden")
    account_id, api = found
    stage_object = api.stages.get(stage)
    if stage_object is None:
        return gateway_error(403, "Forbidden")
    store = _deployments.get(context) or Deployments()
    table = store.table(account_id, region, api, stage_object.deployment_id)
    route = match(table, path, method)
    if route is None:
        return gateway_error(403, "Missing Authentication Token")
    source_ip, headers = caller_address(headers)
    resource_arn = invoke_arn(region, account_id, api_id, stage, method, path)
    verdict = evaluate(table.policy, resource_arn, source_ip)
    if verdict is not Verdict.ALLOWED:
        return denied(verdict, resource_arn)
    throttles = _throttles.get(context) or _throttles.setdefault(
        context, StageThrottles(emulated_clock(context.time_scale))
    )
    if not throttles.allow((account_id, region, api_id, stage), stage_object.method_settings):
        return gateway_error(429, "Too Many Requests")
    variables = {str(k): str(v) for k, v in (stage_object.variables or {}).items()}
    request = HttpRequest(method.upper(), path, query, headers, body, source_ip)
    where = RouteContext(
        account_id=account_id,
        api_id=api_id,
        region=region,
        stage=stage,
        resource_id=route.route.resource_id,
        resource_path=route.route.path,
        path_parameters=route.path_parameters,
        stage_variables=variables,
        deployment_id=stage_object.deployment_id,
        binary_media_types=table.binary_media_types,
        domain_name=domain_name,
        base_path=base_path.strip("/") if base_path is not None else None,
    )
    return _integrate(context, request, where, route, variables)


def find_api(api_id: str, region: str) -> tuple[str, RestAPI] | None:
    """(account id, moto's RestAPI) for an API id in `region`, whichever account owns it."""
    from moto.apigateway.models import apigateway_backends

    for account_id, regions in list(apigateway_backends.items()):
        backend = dict.get(regions, region)  # plain lookup: never creates a backend
        api = backend.apis.get(api_id) if backend is not None else None
        if api is not None:
            return account_id, api
    return None


@dataclass(frozen=True)
class _Call:
    request_id: str
    function_arn: str
    timeout_s: float


def _integrate(
    context: SandboxContext,
    request: HttpRequest,
    where: RouteContext,
    route: Match,
    variables: Mapping[str, str],
) -> Response:
    integration = route.integration
    request_id = str(uuid.uuid4())
    label = f"{where.api_id}/{where.stage} {request.method} {where.resource_path}"
    if integration is None or integration.type != "AWS_PROXY":
        kind = integration.type if integration else "no integration"
        _warn(label, "integration", "%s is not served by the sandbox", kind)
        return gateway_error(500, "Internal server error", request_id=request_id)
    uri = _STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1), ""), integration.uri)
    function = _FUNCTION_ARN.search(uri)
    if function is None:
        _warn(label, "uri", "integration uri is not a Lambda function: %s", uri)
        return gateway_error(500, "Internal server error", request_id=request_id)
    call = _Call(request_id, function["arn"], integration.timeout_ms / 1000)
    source_arn = (
        f"arn:aws:execute-api:{where.region}:{where.account_id}:{where.api_id}/"
        f"{where.stage}/{request.method}{request.path}"
    )
    if not _may_invoke(call.function_arn, source_arn):
        _warn(label, "permission", "API Gateway may not invoke %s", call.function_arn)
        return gateway_error(500, "Internal server error", request_id=request_id)
    event = build_event(request, where, request_id=request_id)
    return _invoke(context, call, event, where.account_id, label)


def _invoke(
    context: SandboxContext, call: _Call, event: dict[str, Any], account_id: str, label: str
) -> Response:
    region = call.function_arn.split(":")[3]
    invoke = in_process.request(
        context,
        service="lambda",
        region=region,
        account_id=account_id,
        method="POST",
        path=f"/2015-03-31/functions/{call.function_arn}/invocations",
        body=json.dumps(event).encode(),
        headers={"X-Amz-Invocation-Type": "RequestResponse"},
    )
    try:
        answer = in_process.call(context, invoke, timeout_s=call.timeout_s)
    except in_process.NoAnswerInTime:
        _warn(label, "timeout", "no answer within %.0f s", call.timeout_s)
        return gateway_error(504, "Endpoint request timed out", request_id=call.request_id)
    except Unanswered as error:  # an outage of Lambda's own (none gates AWS's traffic today)
        _warn(label, "invoke", "invoking %s got no answer: %s", call.function_arn, error)
        return gateway_error(500, "Internal server error", request_id=call.request_id)
    if not answer.ok:
        problem = answer.json()
        _warn(
            label,
            "invoke",
            "invoking %s failed: HTTP %s %s: %s",
            call.function_arn,
            answer.status,
            answer.header("x-amzn-ErrorType") or problem.get("__type") or problem.get("Type"),
            problem.get("Message") or problem.get("message"),
        )
        return gateway_error(500, "Internal server error", request_id=call.request_id)
    payload = answer.body
    if answer.header("X-Amz-Function-Error"):
        _warn(label, "function", "the function failed: %s", payload[:500])
        return gateway_error(502, "Internal server error", request_id=call.request_id)
    try:
        proxy = parse_proxy_answer(payload)
    except MalformedProxyAnswer as error:
        _warn(label, "malformed", "malformed Lambda proxy response: %s", error)
        return gateway_error(502, "Internal server error", request_id=call.request_id)
    headers = list(proxy.headers)
    names = {name.lower() for name, _ in headers}
    if "content-type" not in names:
        headers.append(("Content-Type", "application/json"))
    headers.extend(_gateway_headers(call.request_id))
    headers.append(("Content-Length", str(len(proxy.body))))
    return Response(status=proxy.status, headers=tuple(headers), body=proxy.body)


def _may_invoke(function_arn: str, source_arn: str) -> bool:
    """Whether the resource policy of the ARN the integration names (the function, or
    that version or alias: each has its own) lets API Gateway invoke it from `source_arn`.

    A missing function counts as allowed here: `Invoke` then says it is missing.
    """
    parts = function_arn.split(":")
    if len(parts) < 7:
        return True
    qualifier = parts[7] if len(parts) > 7 else None
    statements = statements_for(parts[4], parts[3], parts[6], qualifier)
    if statements is None:
        return True
    return any(_allows(statement, source_arn) for statement in statements)


def _allows(statement: Mapping[str, Any], source_arn: str) -> bool:
    if statement.get("Effect", "Allow") != "Allow":
        return False
    principal = statement.get("Principal")
    service = principal.get("Service") if isinstance(principal, dict) else principal
    if service not in (APIGATEWAY_PRINCIPAL, "*"):
        return False
    actions = statement.get("Action")
    actions = actions if isinstance(actions, list) else [actions]
    if not any(a in ("lambda:InvokeFunction", "lambda:*", "*") for a in actions):
        return False
    # Every condition on the source must hold (AddPermission's SourceArn, SourceAccount).
    facts = {"aws:sourcearn": source_arn, "aws:sourceaccount": source_arn.split(":")[4]}
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, expected in (tests or {}).items():
            value = facts.get(str(key).lower())
            if value is None:
                continue  # a condition on something API Gateway's call does not carry
            patterns = expected if isinstance(expected, list) else [expected]
            like = str(operator).endswith("Like")
            if not any(
                fnmatch.fnmatchcase(value, str(p)) if like else value == str(p) for p in patterns
            ):
                return False
    return True


def _warn(label: str, kind: str, message: str, *args: Any) -> None:
    """Log a problem of a route once at WARNING (health checkers repeat requests), then DEBUG."""
    key = (label, kind)
    level = logging.DEBUG if key in _warned else logging.WARNING
    _warned.add(key)
    log.log(level, "execute-api %s: " + message, label, *args)


def _gateway_headers(request_id: str) -> list[tuple[str, str]]:
    return [
        ("x-amzn-RequestId", request_id),
        ("x-amz-apigw-id", uuid.uuid4().hex[:16]),
        ("X-Amzn-Trace-Id", trace_id()),
    ]


_ERROR_TYPES = {
    "Forbidden": "ForbiddenException",
    "Missing Authentication Token": "MissingAuthenticationTokenException",
    "Internal server error": "InternalServerErrorException",
    "Too Many Requests": "TooManyRequestsException",
}


def gateway_error(status: int, message: str, *, request_id: str | None = None) -> Response:
    """An error answered by API Gateway itself (not the function), in its JSON shape."""
    body = json.dumps({"message": message}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    headers.extend(_gateway_headers(request_id or str(uuid.uuid4())))
    if message in _ERROR_TYPES:
        headers.append(("x-amzn-ErrorType", _ERROR_TYPES[message]))
    return Response(status=status, headers=tuple(headers), body=body)


def _api(account_id: str, region: str, api_id: str) -> RestAPI | None:
    from moto.apigateway.models import apigateway_backends

    backend = dict.get(apigateway_backends.get(account_id) or {}, region)
    return backend.apis.get(api_id) if backend is not None else None
