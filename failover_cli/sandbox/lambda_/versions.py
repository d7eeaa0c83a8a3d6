"""Published versions as Lambda keeps them: immutable snapshots, numbers never reused.

moto's PublishVersion numbers a version "how many there are + 1" (after a
version is deleted the next one repeats a number), ignores `RevisionId` and
`CodeSha256`, publishes whenever `$LATEST` was written to (even unchanged), and
lets a qualified UpdateFunctionCode/Configuration rewrite a published version.
Here:

- PublishVersion snapshots `$LATEST`'s code and configuration under the next
  number never used by this function; nothing changed since the newest version:
  that version is answered, no new one. A new version is Pending (not
  invocable) for as long as an update stays in progress
  (`function_update_seconds`). `RevisionId` must be `$LATEST`'s
  (PreconditionFailedException) and `CodeSha256` its code's hash
  (InvalidParameterValueException), as Lambda checks them (API Reference,
  PublishVersion; messages as Lambda words them). UpdateFunctionCode with
  `Publish` publishes the same way once the code is in. While an update is in
  progress PublishVersion is refused (updates.py, before this).
- DeleteFunction with a Qualifier deletes that version only, and is refused
  for `$LATEST`, for an alias name, and for a version an alias routes to
  (ResourceConflictException "Unable to delete version because the following
  aliases reference it: [live]"); a version that does not exist is a 204, as
  Lambda answers (API Reference, DeleteFunction: "You can't delete a version
  that an alias references"; the other answers measured on Lambda).
- UpdateFunctionCode/Configuration naming a version or alias is refused:
  published versions are immutable (Lambda Developer Guide, "Lambda function
  versions"). The wording of that refusal is the sandbox's.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Any

from failover_cli.sandbox.aws_rules import AwsRules
from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.lambda_ import catalog
from failover_cli.sandbox.lambda_.aliases import STALE_REVISION, AliasRules
from failover_cli.sandbox.lambda_.functions import (
    LambdaApiError,
    named_in,
)
from failover_cli.sandbox.lambda_.invoke import lambda_error
from failover_cli.sandbox.lambda_.lists import Pages
from failover_cli.sandbox.lambda_.permissions import QualifiedPermissions
from failover_cli.sandbox.lambda_.revisions import Revisions
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_response
from failover_cli.sandbox.scheduler import Scheduler

_FUNCTION = r"^/2015-03-31/functions/(?P<function>[^/]+)"
_PUBLISH = re.compile(_FUNCTION + r"/versions/?$")
_UPDATE = re.compile(_FUNCTION + r"/(?:code|configuration)/?$")
_CODE = re.compile(_FUNCTION + r"/code/?$")
_DELETE = re.compile(_FUNCTION + r"/?$")
IMMUTABLE = "Published versions are immutable: update $LATEST and publish a new version."


def install(context: SandboxContext) -> None:
    """Revisions outermost: a stale RevisionId is refused before anything changes."""
    versions = Versions(context.rules, context.scheduler)
    for interceptor in (Revisions(), versions, AliasRules(), QualifiedPermissions(), Pages()):
        context.layer.add(interceptor)


class Versions(Interceptor):
    def __init__(self, rules: AwsRules, scheduler: Scheduler):
        self.rules = rules
        self.scheduler = scheduler

    def pending_seconds(self) -> float:
        """Real seconds a new version stays Pending: as long as an update is in progress."""
        return self.scheduler.real_seconds(self.rules.settings()["function_update_seconds"])

    def wants(self, request: AwsRequest) -> bool:
        if request.service != "lambda":
            return False
        routes = {"POST": _PUBLISH, "PUT": _UPDATE, "DELETE": _DELETE}
        pattern = routes.get(request.method)
        return pattern is not None and pattern.match(request.path) is not None

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        routes = {"POST": _PUBLISH, "PUT": _UPDATE, "DELETE": _DELETE}
        found = routes[request.method].match(request.path)
        assert found is not None
        named = named_in(found["function"], request.query)
        if named is None:
            return forward(request)
        name, qualifier = named
        try:
            if request.method == "POST":
                body = request.json()
                version = publish(request.account_id, request.region, name, body)
                return _answer(version, self.pending_seconds())
            if request.method == "DELETE":
                return _delete(request, forward, name, qualifier)
            if qualifier not in (None, catalog.LATEST):
                raise LambdaApiError("InvalidParameterValueException", IMMUTABLE)
            if _CODE.match(request.path) and request.json().get("Publish"):
                return _update_and_publish(request, forward, name, self.pending_seconds())
            return forward(request)
        except LambdaApiError as error:
            return lambda_error(error)


def publish(account: str, region: str, name: str, body: dict[str, Any]) -> Any:
    """The version `$LATEST` is now (a new one, or the newest when nothing changed)."""
    with catalog.lock:
        function = catalog.find(account, region, name)
        if function is None:
            arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
            raise LambdaApiError("ResourceNotFoundException", f"Function not found: {arn}", 404)
        latest = function.latest
        if body.get("RevisionId") and body["RevisionId"] != catalog.revision(latest):
            raise LambdaApiError("PreconditionFailedException", STALE_REVISION, 412)
        wanted, current = body.get("CodeSha256"), str(latest.code_sha_256)
        if wanted and wanted != current:
            raise LambdaApiError(
                "InvalidParameterValueException",
                f"CodeSHA256 ({wanted}) is different from current CodeSHA256 in $LATEST "
                f"({current}). Please try again with the CodeSHA256 in $LATEST.",
            )
        newest = function.newest()
        if newest is not None and _content(newest) == _content(latest):
            return newest
        number = catalog.next_version_number(function)
        version = _snapshot(latest, number, body.get("Description"))
        function.storage._functions[name]["versions"].append(version)
        function.storage._arns[version.function_arn] = version
        catalog.remember_version_number(function, number)
        latest.code_or_config_updated = False
        catalog.new_revision(version)
        catalog.new_revision(latest)  # Lambda gives $LATEST a new RevisionId on publish
        return version


def _snapshot(latest: Any, number: int, description: str | None) -> Any:
    """A copy of `$LATEST` that shares nothing mutable with it."""
    from moto.awslambda.policy import Policy

    version = copy.copy(latest)
    version.__dict__.pop(catalog.REVISION_KEY, None)
    version.__dict__.pop(catalog.LAST_NUMBER_KEY, None)
    version.__dict__.pop(catalog.POLICY_KEY, None)
    version.set_version(number)
    version.code = dict(latest.code)
    version.environment_vars = dict(latest.environment_vars or {})
    version.layers = list(latest.layers)
    version.policy = Policy(version)  # never read: qualified policies are permissions.py's
    version.architectures = list(latest.architectures)
    if description is not None:
        version.description = description
    return version


def _content(fn: Any) -> str:
    """What makes two versions the same release: code and configuration, not the number."""
    return json.dumps(
        [
            fn.code_sha_256,
            fn.handler,
            fn.run_time,
            fn.timeout,
            fn.memory_size,
            fn.role,
            sorted((fn.environment_vars or {}).items()),
            fn.layers,
            fn.architectures,
            fn.ephemeral_storage,
            fn._vpc_config,
        ],
        sort_keys=True,
        default=str,
    )


def _answer(version: Any, pending_s: float) -> Response:
    configuration = _described(version, pending_s)
    return json_response(configuration, status=201, content_type="application/json")


def _described(version: Any, pending_s: float) -> dict[str, Any]:
    """A new version starts Pending (Lambda prepares it); the newest one answered again
    because nothing changed keeps its state."""
    if catalog.ACTIVE_AT_KEY not in version.__dict__:
        version.__dict__[catalog.ACTIVE_AT_KEY] = 0.0  # answered once: later publishes skip
        catalog.set_pending(version, pending_s)
    return catalog.describe(version, version.get_configuration())


def _update_and_publish(
    request: AwsRequest, forward: Forward, name: str, pending_s: float
) -> Response:
    body = {k: v for k, v in request.json().items() if k != "Publish"}
    response = forward(dataclasses.replace(request, body=json.dumps(body).encode()))
    if not response.ok or body.get("DryRun"):
        return response
    version = publish(request.account_id, request.region, name, {})
    return response.with_json(_described(version, pending_s))


def _delete(request: AwsRequest, forward: Forward, name: str, qualifier: str | None) -> Response:
    if qualifier is None:
        return forward(request)
    if qualifier == catalog.LATEST:
        raise LambdaApiError(
            "InvalidParameterValueException",
            "$LATEST version cannot be deleted without deleting the function.",
        )
    if catalog.is_alias(qualifier):
        raise LambdaApiError(
            "InvalidParameterValueException", "Deletion of aliases is not currently supported."
        )
    with catalog.lock:
        function = catalog.find(request.account_id, request.region, name)
        if function is None:
            return forward(request)  # moto's ResourceNotFoundException
        if function.version(qualifier) is None:
            return Response(204, (), b"")
        referencing = function.aliases_on(qualifier)
        if referencing:
            raise LambdaApiError(
                "ResourceConflictException",
                "Unable to delete version because the following aliases reference it: "
                f"[{', '.join(referencing)}]",
                409,
            )
        return forward(request)
