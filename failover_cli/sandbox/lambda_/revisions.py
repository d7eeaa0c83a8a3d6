"""A function's RevisionId, which moto neither reports nor checks.

Lambda gives `$LATEST` and every published version a RevisionId; every change
to `$LATEST` (code, configuration, a publish) gives it a new one, and
UpdateFunctionCode / UpdateFunctionConfiguration / PublishVersion with a
`RevisionId` that is no longer current answer PreconditionFailedException (412)
(API Reference, UpdateFunctionConfiguration: "Update the function only if the
revision ID matches the ID that's specified"). Here the configurations moto
answers (CreateFunction, GetFunction, GetFunctionConfiguration, the updates,
ListVersionsByFunction) carry the current RevisionId of the version they
describe (and the Pending state of a version just published), and the updates
hold to theirs. PublishVersion's check is versions.py's.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from failover_cli.sandbox.lambda_ import catalog
from failover_cli.sandbox.lambda_.aliases import STALE_REVISION
from failover_cli.sandbox.lambda_.functions import LambdaApiError, parse_function_id
from failover_cli.sandbox.lambda_.invoke import lambda_error
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response

_FUNCTION = r"^/2015-03-31/functions/(?P<function>[^/]+)"
_ROUTES = {
    "POST": re.compile(r"^/2015-03-31/functions/?$"),
    "GET": re.compile(_FUNCTION + r"(?:/configuration|/versions)?/?$"),
    "PUT": re.compile(_FUNCTION + r"/(?:configuration|code)/?$"),
}


class Revisions(Interceptor):
    def wants(self, request: AwsRequest) -> bool:
        pattern = _ROUTES.get(request.method) if request.service == "lambda" else None
        return pattern is not None and pattern.match(request.path) is not None

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        if request.method == "PUT":
            refused = _stale(request)
            if refused is not None:
                return lambda_error(refused)
        response = forward(request)
        if not response.ok or not response.body:
            return response
        body = response.json()
        if request.method == "PUT" and not request.json().get("DryRun"):
            name = str(body.get("FunctionName") or "")
            function = catalog.find(request.account_id, request.region, name)
            if function is not None and body.get("Version") == catalog.LATEST:
                catalog.new_revision(function.latest)
        _stamp(request, body)
        if isinstance(body.get("Configuration"), dict):
            _stamp(request, body["Configuration"])
        for entry in body.get("Versions") or []:
            if isinstance(entry, dict):
                _stamp(request, entry)
        return response.with_json(body)


def _stale(request: AwsRequest) -> LambdaApiError | None:
    wanted = request.json().get("RevisionId")
    found = _ROUTES["PUT"].match(request.path)
    if not wanted or found is None:
        return None
    try:
        name, _ = parse_function_id(unquote(found["function"]), None)
    except LambdaApiError:
        return None  # moto answers the validation error
    function = catalog.find(request.account_id, request.region, name)
    if function is None or wanted == catalog.revision(function.latest):
        return None
    return LambdaApiError("PreconditionFailedException", STALE_REVISION, 412)


def _stamp(request: AwsRequest, configuration: dict[str, Any]) -> None:
    """Add the RevisionId of the version a configuration describes."""
    name, version = configuration.get("FunctionName"), configuration.get("Version")
    if not isinstance(name, str) or not isinstance(version, str):
        return
    function = catalog.find(request.account_id, request.region, name)
    target = function.target(version) if function is not None else None
    if target is not None:
        catalog.describe(target, configuration)
