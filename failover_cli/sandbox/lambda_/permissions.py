"""Resource-based policies per version and per alias, as Lambda keeps them.

moto keeps one policy per function: AddPermission with a Qualifier lands in
the policy `$LATEST` shares with every version, and RemovePermission ignores
the Qualifier. Lambda keeps one policy per qualified ARN, and a permission
covers only the ARN it was added to: one on the function does not let API
Gateway invoke `function:live`, one on `function:live` does not cover the
version the alias points at (Lambda Developer Guide, "Using Lambda aliases in
event sources and permissions policies" and "Versioning, aliases, and resource
policies"; AddPermission: "Lambda does not support adding policies to version
$LATEST"). Here AddPermission, GetPolicy and RemovePermission with a version or
alias (as `Qualifier` or in the name) act on that version's or alias' own
policy; unqualified calls (and `$LATEST` reads) stay moto's. `statements_for`
is what API Gateway's invoke check reads (apigateway.execute_api).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote

from failover_cli.sandbox.lambda_ import catalog
from failover_cli.sandbox.lambda_.functions import (
    LambdaApiError,
    named_in,
    parse_function_id,
    query_qualifier,
)
from failover_cli.sandbox.lambda_.invoke import lambda_error
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_response

_POLICY = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/policy(?:/(?P<sid>[^/]+))?/?$")
NO_LATEST_POLICY = "We currently do not support adding policies for $LATEST."


class QualifiedPermissions(Interceptor):
    def wants(self, request: AwsRequest) -> bool:
        found = _POLICY.match(request.path) if request.service == "lambda" else None
        if found is None:
            return False
        if (request.method, bool(found["sid"])) not in (
            ("POST", False),
            ("GET", False),
            ("DELETE", True),
        ):
            return False
        qualifier = _qualifier(request, found["function"])
        if request.method == "POST":
            return qualifier is not None  # $LATEST too: Lambda refuses it
        return qualifier not in (None, catalog.LATEST)

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        found = _POLICY.match(request.path)
        assert found is not None
        try:
            function_id = unquote(found["function"])
            name, qualifier = parse_function_id(function_id, query_qualifier(request.query))
            assert qualifier is not None
            if request.method == "POST" and qualifier == catalog.LATEST:
                raise LambdaApiError("InvalidParameterValueException", NO_LATEST_POLICY)
            policy = _policy(request.account_id, request.region, name, qualifier)
            if request.method == "POST":
                return _add(policy, request.body, qualifier)
            if request.method == "GET":
                document = _moto(lambda: json.loads(policy.wire_format()))
                return json_response(document, content_type="application/json")
            revision = (parse_qs(request.query).get("RevisionId") or [""])[0]
            sid = unquote(found["sid"])
            with catalog.lock:
                _moto(lambda: policy.del_statement(sid, revision))
            return Response(204, (), b"")
        except LambdaApiError as error:
            return lambda_error(error)


def statements_for(
    account: str, region: str, name: str, qualifier: str | None
) -> list[dict[str, Any]] | None:
    """The statements that decide who may invoke `name[:qualifier]` (None: no such target)."""
    function = catalog.find(account, region, name)
    target = function.target(qualifier) if function is not None else None
    if function is None or target is None:
        return None
    if target is function.latest:
        return list(function.latest.policy.statements)
    return list(catalog.policy_of(target, function.arn).statements)


def _add(policy: Any, body: bytes, qualifier: str) -> Response:
    try:
        sid = json.loads(body or b"{}").get("StatementId")
    except ValueError:
        sid = None
    if sid and any(s.get("Sid") == sid for s in policy.statements):
        raise LambdaApiError(
            "ResourceConflictException",
            f"The statement id ({sid}) provided already exists. Please provide a new statement "
            "id, or remove the existing statement.",
            409,
        )
    with catalog.lock:
        statement = _moto(lambda: policy.add_statement(body.decode(), qualifier)[0])
    return json_response(
        {"Statement": json.dumps(statement)}, status=201, content_type="application/json"
    )


def _policy(account: str, region: str, name: str, qualifier: str) -> Any:
    function = catalog.find(account, region, name)
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    if function is None:
        raise LambdaApiError("ResourceNotFoundException", f"Function not found: {arn}", 404)
    target = function.target(qualifier)
    if target is None:
        raise LambdaApiError(
            "ResourceNotFoundException", f"Function not found: {arn}:{qualifier}", 404
        )
    return catalog.policy_of(target, function.arn)


def _moto(call: Any) -> Any:
    """Run a moto Policy call, turning moto's errors into Lambda's answer."""
    from moto.core.exceptions import JsonRESTError

    try:
        return call()
    except JsonRESTError as error:
        raise LambdaApiError(error.error_type, error.message, int(error.code)) from None


def _qualifier(request: AwsRequest, function_id: str) -> str | None:
    named = named_in(function_id, request.query)
    return named[1] if named else None
