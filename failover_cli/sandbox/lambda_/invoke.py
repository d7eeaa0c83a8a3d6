"""The feature that makes functions run: the Lambda API's code and invoke paths.

- CreateFunction / UpdateFunctionCode: the uploaded zip is checked as Lambda
  checks it and kept (`ZipStore`); moto stores the function as usual.
  UpdateFunctionCode's `Architectures` sticks (moto ignores it).
- Invoke (RequestResponse, Event, DryRun): the handler of the function's
  current code runs with its current environment in a worker process
  (`LambdaRuntime`); errors and timeouts are answered as Lambda answers them.
- Invoke of an alias runs the version the alias routes that call to
  (catalog.resolve: weighted routing drawn per call); a version just published
  answers ResourceConflictException while it is Pending.
- DeleteFunction: the function's (or the deleted version's) warm workers are stopped.

Everything else about functions is moto's.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.lambda_ import catalog
from failover_cli.sandbox.lambda_.catalog import resolve as resolve_alias
from failover_cli.sandbox.lambda_.functions import (
    FunctionSpec,
    LambdaApiError,
    lookup,
    parse_function_id,
    query_qualifier,
)
from failover_cli.sandbox.lambda_.logs import MotoLogs
from failover_cli.sandbox.lambda_.runtime import InvokeResult, LambdaRuntime, Throttled
from failover_cli.sandbox.lambda_.store import BadZip, ZipStore, decode_upload
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_response
from failover_cli.sandbox.stop_hooks import on_stop

REAP_EVERY_S = 60.0  # real seconds between looks for idle workers
SYNC_REQUEST_LIMIT = 6 * 1024 * 1024
ASYNC_REQUEST_LIMIT = 256 * 1024
RESPONSE_LIMIT = 6 * 1024 * 1024
ARCHITECTURES = ("x86_64", "arm64")

_ROUTES = {
    ("POST", re.compile(r"^/2015-03-31/functions/?$")): "CreateFunction",
    ("PUT", re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/code/?$")): (
        "UpdateFunctionCode"
    ),
    ("POST", re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/invocations/?$")): "Invoke",
    ("DELETE", re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/?$")): "DeleteFunction",
}


def install(context: SandboxContext) -> None:
    runtime = LambdaRuntime(MotoLogs(), context.endpoint)
    context.layer.add(LambdaInterceptor(ZipStore(), runtime))
    # The scheduler counts emulated seconds: scale so reaping stays on real time.
    context.scheduler.call_every(REAP_EVERY_S * context.time_scale, runtime.reap)
    on_stop(context, runtime.stop)


def _route(request: AwsRequest) -> tuple[str, str] | None:
    for (method, pattern), operation in _ROUTES.items():
        if request.method == method and (match := pattern.match(request.path)):
            return operation, unquote(match.groupdict().get("function") or "")
    return None


class LambdaInterceptor(Interceptor):
    def __init__(self, store: ZipStore, runtime: LambdaRuntime):
        self.store = store
        self.runtime = runtime
        self._handlers: dict[str, Callable[[AwsRequest, Forward, str], Response]] = {
            "CreateFunction": self._create_function,
            "UpdateFunctionCode": self._update_code,
            "Invoke": self._invoke,
            "DeleteFunction": self._delete_function,
        }

    def wants(self, request: AwsRequest) -> bool:
        return request.service == "lambda" and _route(request) is not None

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        route = _route(request)
        assert route is not None
        operation, function_id = route
        try:
            return self._handlers[operation](request, forward, function_id)
        except BadZip as error:
            return lambda_error(LambdaApiError("InvalidParameterValueException", str(error)))
        except LambdaApiError as error:
            return lambda_error(error)

    # -- code -----------------------------------------------------------------

    def _create_function(self, request: AwsRequest, forward: Forward, _: str) -> Response:
        encoded = (request.json().get("Code") or {}).get("ZipFile")
        data = decode_upload(encoded) if encoded is not None else None
        response = forward(request)
        if response.ok and data is not None:
            self.store.put(data)
        return response

    def _update_code(self, request: AwsRequest, forward: Forward, function_id: str) -> Response:
        body = request.json()
        encoded = body.get("ZipFile")
        data = decode_upload(encoded) if encoded is not None else None
        architectures = body.get("Architectures")
        if architectures is not None:
            _check_architectures(architectures)
        response = forward(request)
        if not response.ok or body.get("DryRun"):
            return response
        if data is not None:
            self.store.put(data)
        if architectures is None:
            return response
        configuration = response.json()
        _set_architectures(request, function_id, configuration.get("Version"), architectures)
        configuration["Architectures"] = architectures
        return response.with_json(configuration)

    def _delete_function(self, request: AwsRequest, forward: Forward, function_id: str) -> Response:
        response = forward(request)
        if response.ok:
            name, version = parse_function_id(function_id, query_qualifier(request.query))
            self.runtime.forget(request.account_id, request.region, name, version)
        return response

    # -- invoke ---------------------------------------------------------------

    def _invoke(self, request: AwsRequest, _: Forward, function_id: str) -> Response:
        qualifiers = parse_qs(request.query).get("Qualifier")
        qualifier = qualifiers[0] if qualifiers else None
        kind = request.headers.get("x-amz-invocation-type") or "RequestResponse"
        if kind not in ("RequestResponse", "Event", "DryRun"):
            raise LambdaApiError("InvalidParameterValueException", f"Bad invocation type {kind}")
        limit = ASYNC_REQUEST_LIMIT if kind == "Event" else SYNC_REQUEST_LIMIT
        if len(request.body) > limit:
            raise LambdaApiError(
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
                413,
            )
        name, qualifier = parse_function_id(function_id, qualifier)
        # An alias runs the version it routes this call to (its weights drawn per call).
        version = resolve_alias(request.account_id, request.region, name, qualifier)
        spec, moto_code = lookup(request.account_id, request.region, name, version)
        function = catalog.find(request.account_id, request.region, name)
        if function is not None and catalog.is_pending(function.target(version)):
            raise LambdaApiError("ResourceConflictException", catalog.PENDING, 409)
        event = _event(request.body)
        if kind == "DryRun":
            return Response(204, _headers(spec.version), b"")
        code = self._code(spec, moto_code)
        if kind == "Event":
            self.runtime.invoke_async(spec, code, event)
            return Response(202, _headers(spec.version), b"")
        result = self.runtime.invoke(spec, code, event, _client_context(request))
        return _invoke_response(result, tail=request.headers.get("x-amz-log-type") == "Tail")

    def _code(self, spec: FunctionSpec, moto_code: bytes | None) -> bytes:
        if spec.package_type != "Zip":
            raise LambdaApiError(
                "InvalidParameterValueException",
                f"The sandbox runs .zip functions only; {spec.name} is a container image.",
            )
        code = self.store.get(spec.code_sha)
        if code is None and moto_code:
            self.store.put(moto_code)  # uploaded another way (S3): moto kept the bytes
            code = moto_code
        if code is None:
            raise LambdaApiError(
                "ServiceException", f"The sandbox has no code for {spec.name}.", 500
            )
        return code


def _event(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError as error:
        raise LambdaApiError(
            "InvalidRequestContentException",
            f"Could not parse request body into json: Could not parse payload into json: {error}",
        ) from None


def _client_context(request: AwsRequest) -> Any:
    raw = request.headers.get("x-amz-client-context")
    if not raw:
        return None
    try:
        return json.loads(base64.b64decode(raw))
    except (ValueError, binascii.Error):
        raise LambdaApiError(
            "InvalidRequestContentException", "Client context must be base64-encoded JSON"
        ) from None


def _check_architectures(architectures: Any) -> None:
    if (
        not isinstance(architectures, list)
        or len(architectures) != 1
        or architectures[0] not in ARCHITECTURES
    ):
        raise LambdaApiError(
            "ValidationException",
            f"1 validation error detected: Value '{architectures}' at 'architectures' failed "
            "to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum "
            "value set: [x86_64, arm64], Member must not be null]",
        )


def _set_architectures(
    request: AwsRequest, function_id: str, version: Any, architectures: list[str]
) -> None:
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[request.account_id][request.region]
    name = function_id.split(":function:")[-1].split(":")[0]
    backend.get_function(name).architectures = architectures
    if version and str(version) != "$LATEST":  # Publish=True made a version of the new code
        backend.get_function(name, str(version)).architectures = architectures


def _headers(version: str, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (
        ("Content-Type", "application/json"),
        ("X-Amz-Executed-Version", version),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        *extra,
    )


def _invoke_response(result: InvokeResult, tail: bool) -> Response:
    payload, error = result.payload, result.function_error
    if len(payload) > RESPONSE_LIMIT:
        message = f"Response payload size exceeded maximum allowed payload size ({RESPONSE_LIMIT})."
        payload = json.dumps(
            {"errorMessage": message, "errorType": "Function.ResponseSizeTooLarge"}
        ).encode()
        error = "Unhandled"
    extra: list[tuple[str, str]] = [("Content-Length", str(len(payload)))]
    if error:
        extra.append(("X-Amz-Function-Error", error))
    if tail:
        extra.append(("X-Amz-Log-Result", result.log.tail()))
    return Response(200, _headers(result.executed_version, *extra), payload)


def lambda_error(error: LambdaApiError) -> Response:
    """An error answer of Lambda's REST-JSON API (botocore reads x-amzn-ErrorType)."""
    body: dict[str, Any] = {"Type": "User", "message": error.message}
    if isinstance(error, Throttled):
        body["Reason"] = error.reason
    response = json_response(body, status=error.status, content_type="application/json")
    return Response(
        response.status, (*response.headers, ("x-amzn-ErrorType", error.code)), response.body
    )
