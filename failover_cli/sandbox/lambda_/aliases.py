"""Aliases as Lambda validates and routes them (moto stores whatever it is given).

- CreateAlias / UpdateAlias: the name may not be a number or `$LATEST`; the
  alias points at `$LATEST` or a published version (never another alias); a
  routing configuration adds at most one other published version with a weight
  in [0, 1), not the primary, not with `$LATEST` as primary, and with the
  primary's execution role; an existing name
  is a ResourceConflictException. UpdateAlias honours `RevisionId`
  (PreconditionFailedException) and every update gives the alias a new one
  (moto keeps the first forever). Messages are Lambda's (botocore's Alias,
  Version and AdditionalVersionWeights shapes; Lambda Developer Guide, "Lambda
  function aliases" and "Implement Lambda canary deployments using a weighted alias").
- Which version an invocation of an alias runs is `catalog.resolve`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from failover_cli.sandbox.lambda_ import catalog
from failover_cli.sandbox.lambda_.functions import LambdaApiError, parse_function_id
from failover_cli.sandbox.lambda_.invoke import lambda_error
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response

_ALIASES = re.compile(
    r"^/2015-03-31/functions/(?P<function>[^/]+)/aliases(?:/(?P<alias>[^/]+))?/?$"
)
_ALIAS_NAME = re.compile(r"^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$")
_VERSION = re.compile(r"^(\$LATEST|[0-9]+)$")
STALE_REVISION = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)


class AliasRules(Interceptor):
    def wants(self, request: AwsRequest) -> bool:
        found = _ALIASES.match(request.path) if request.service == "lambda" else None
        if found is None:
            return False
        return (request.method, bool(found["alias"])) in (("POST", False), ("PUT", True))

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        found = _ALIASES.match(request.path)
        assert found is not None
        try:
            name, _ = parse_function_id(unquote(found["function"]), None)
        except LambdaApiError:
            return forward(request)  # moto answers the validation error
        body = request.json()
        with catalog.lock:
            function = catalog.find(request.account_id, request.region, name)
            if function is None:
                return forward(request)  # moto's ResourceNotFoundException
            try:
                if request.method == "POST":
                    _check_create(function, body)
                    return forward(request)
                return self._update(request, forward, function, unquote(found["alias"]), body)
            except LambdaApiError as error:
                return lambda_error(error)

    def _update(
        self,
        request: AwsRequest,
        forward: Forward,
        function: catalog.Function,
        alias_name: str,
        body: dict[str, Any],
    ) -> Response:
        alias = function.aliases.get(alias_name)
        if alias is None:
            return forward(request)  # moto's "Cannot find alias arn"
        if body.get("RevisionId") and body["RevisionId"] != alias.revision_id:
            raise LambdaApiError("PreconditionFailedException", STALE_REVISION, 412)
        primary = body.get("FunctionVersion") or str(alias.function_version)
        if body.get("FunctionVersion") is not None:
            _check_version(function, str(body["FunctionVersion"]), "functionVersion")
        routing = body.get("RoutingConfig", alias.routing_config)
        _check_routing(function, primary, routing)
        response = forward(request)
        if not response.ok:
            return response
        alias.revision_id = catalog.new_revision(alias)
        return response.with_json({**response.json(), "RevisionId": alias.revision_id})


def _check_create(function: catalog.Function, body: dict[str, Any]) -> None:
    name = str(body.get("Name") or "")
    if not _ALIAS_NAME.match(name):
        raise _pattern_error(name, "name", "(?!^[0-9]+$)([a-zA-Z0-9-_]+)")
    if name in function.aliases:
        raise LambdaApiError(
            "ResourceConflictException", f"Alias already exists: {function.arn}:{name}", 409
        )
    primary = str(body.get("FunctionVersion") or "")
    _check_version(function, primary, "functionVersion")
    _check_routing(function, primary, body.get("RoutingConfig"))


def _check_version(function: catalog.Function, version: str, field: str) -> None:
    if not _VERSION.match(version):
        raise _pattern_error(version, field, "(\\$LATEST|[0-9]+)")
    if function.target(version) is None:
        raise LambdaApiError(
            "ResourceNotFoundException", f"Function not found: {function.arn}:{version}", 404
        )


def _check_routing(function: catalog.Function, primary: str, routing: Any) -> None:
    extra = (routing or {}).get("AdditionalVersionWeights") if isinstance(routing, dict) else None
    if not extra:
        return
    if len(extra) > 1:
        raise LambdaApiError(
            "InvalidParameterValueException",
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        )
    ((version, weight),) = extra.items()
    where = "routingConfig.additionalVersionWeights"
    if not isinstance(weight, int | float) or not 0.0 <= float(weight) < 1.0:
        raise LambdaApiError(
            "ValidationException",
            f"1 validation error detected: Value '{{{version}={weight}}}' at '{where}' failed "
            "to satisfy constraint: Map value must satisfy constraint: [Member must have value "
            "less than or equal to 1.0, Member must have value greater than or equal to 0.0, "
            "Member must not be null]",
        )
    if not catalog.VERSION.match(str(version)):
        raise LambdaApiError(
            "ValidationException",
            f"1 validation error detected: Value '{{{version}={weight}}}' at '{where}' failed "
            "to satisfy constraint: Map keys must satisfy constraint: [Member must have length "
            "less than or equal to 1024, Member must have length greater than or equal to 1, "
            "Member must satisfy regular expression pattern: [0-9]+, Member must not be null]",
        )
    if str(version) == primary:
        raise LambdaApiError(
            "InvalidParameterValueException",
            f"Invalid function version {primary}. Function version {primary} is already "
            "included in routing configuration.",
        )
    if primary == catalog.LATEST:
        raise LambdaApiError(
            "InvalidParameterValueException",
            "$LATEST is not supported for an alias pointing to more than 1 version",
        )
    _check_version(function, str(version), where)
    first, second = function.target(primary), function.target(str(version))
    if first is not None and second is not None and first.role != second.role:
        # "Lambda function aliases" -> weighted aliases: both versions need the same
        # execution role (the wording of this refusal is the sandbox's).
        raise LambdaApiError(
            "InvalidParameterValueException",
            f"Versions {primary} and {version} of the alias must have the same execution role.",
        )


def _pattern_error(value: str, field: str, pattern: str) -> LambdaApiError:
    return LambdaApiError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {pattern}",
    )
