"""Lambda's control-plane timing that moto skips: updates in progress, and IAM's delay.

- After UpdateFunctionConfiguration or UpdateFunctionCode, the function's
  `LastUpdateStatus` is `InProgress` for `function_update_seconds` (emulated), and
  another update in that window answers `ResourceConflictException` ("An update is in
  progress for resource"), as Lambda does
  (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html,
  https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html).
  GetFunction and GetFunctionConfiguration show the status, so the
  `function_updated_v2` waiter works as on AWS. PublishVersion in that window is
  refused the same way (it would snapshot a half-applied update); a published
  version or an alias is never "being updated" (qualified reads show Successful).
- CreateFunction with a role created less than `role_assumable_after` real seconds
  ago answers `InvalidParameterValueException` "The role defined for the function
  cannot be assumed by Lambda.": IAM is eventually consistent
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency,
  https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html).
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime
from typing import Any

from failover_cli.sandbox.aws_rules import AwsRules
from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.lambda_.functions import (
    LATEST,
    LambdaApiError,
    named_in,
)
from failover_cli.sandbox.lambda_.invoke import lambda_error
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response
from failover_cli.sandbox.scheduler import Scheduler

_FUNCTION = r"/2015-03-31/functions/(?P<function>[^/]+)"
_UPDATES = re.compile(rf"^{_FUNCTION}/(?:configuration|code)/?$")
_PUBLISH = re.compile(rf"^{_FUNCTION}/versions/?$")
_READS = re.compile(rf"^{_FUNCTION}(?P<configuration>/configuration)?/?$")
_CREATE = re.compile(r"^/2015-03-31/functions/?$")
ROLE_NOT_READY = "The role defined for the function cannot be assumed by Lambda."


def install(context: SandboxContext) -> None:
    context.layer.add(LambdaUpdates(context.rules, context.scheduler))


class LambdaUpdates(Interceptor):
    def __init__(self, rules: AwsRules, scheduler: Scheduler):
        self.rules = rules
        self.scheduler = scheduler
        self._until: dict[tuple[str, str, str], float] = {}  # function -> end (monotonic)
        self._lock = threading.Lock()

    def wants(self, request: AwsRequest) -> bool:
        if request.service != "lambda":
            return False
        if request.method == "PUT":
            return _UPDATES.match(request.path) is not None
        if request.method == "GET":
            return _READS.match(request.path) is not None
        return request.method == "POST" and (
            _CREATE.match(request.path) is not None or _PUBLISH.match(request.path) is not None
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        if request.method == "POST" and _CREATE.match(request.path):
            return self._create(request, forward)
        found = _UPDATES.match(request.path) or _READS.match(request.path)
        found = found or _PUBLISH.match(request.path)
        assert found is not None
        named = named_in(found["function"], request.query)
        if named is None:
            return forward(request)
        name, qualifier = named
        key = (request.account_id, request.region, name)
        if request.method == "GET":
            if qualifier not in (None, LATEST):
                return forward(request)  # a published version is never being updated
            return self._read(request, forward, key, bool(found.groupdict().get("configuration")))
        if request.method == "POST":  # PublishVersion: not while an update is in progress
            return self._refused(key) or forward(request)
        return self._update(request, forward, key)

    def _refused(self, key: tuple[str, str, str]) -> Response | None:
        if not self._in_progress(key):
            return None
        arn = f"arn:aws:lambda:{key[1]}:{key[0]}:function:{key[2]}"
        return lambda_error(
            LambdaApiError(
                "ResourceConflictException",
                "The operation cannot be performed at this time. An update is in progress "
                f"for resource: {arn}",
                409,
            )
        )

    def _update(self, request: AwsRequest, forward: Forward, key: tuple[str, str, str]) -> Response:
        refused = self._refused(key)
        if refused is not None:
            return refused
        response = forward(request)
        seconds = self.scheduler.real_seconds(self.rules.settings()["function_update_seconds"])
        if not response.ok or seconds <= 0 or request.json().get("DryRun"):
            return response
        with self._lock:
            self._until[key] = time.monotonic() + seconds
        return response.with_json(_in_progress(response.json()))

    def _read(
        self, request: AwsRequest, forward: Forward, key: tuple[str, str, str], bare: bool
    ) -> Response:
        response = forward(request)
        if not response.ok or not self._in_progress(key):
            return response
        body = response.json()
        if bare:
            return response.with_json(_in_progress(body))
        body["Configuration"] = _in_progress(body.get("Configuration") or {})
        return response.with_json(body)

    def _in_progress(self, key: tuple[str, str, str]) -> bool:
        with self._lock:
            until = self._until.get(key)
            if until is not None and until <= time.monotonic():
                del self._until[key]
                until = None
        return until is not None

    def _create(self, request: AwsRequest, forward: Forward) -> Response:
        wait = self.rules.settings()["role_assumable_after"]
        created = _role_created(request.account_id, str(request.json().get("Role", "")))
        if wait > 0 and created is not None:
            age = (datetime.now(UTC) - created).total_seconds()
            if age < wait:
                refused = LambdaApiError("InvalidParameterValueException", ROLE_NOT_READY)
                return lambda_error(refused)
        return forward(request)


def _in_progress(configuration: dict[str, Any]) -> dict[str, Any]:
    return {
        **configuration,
        "LastUpdateStatus": "InProgress",
        "LastUpdateStatusReason": "The function is being updated.",
        "LastUpdateStatusReasonCode": "",
    }


def _role_created(account: str, role_arn: str) -> datetime | None:
    """When moto's IAM created the role `role_arn` (None: no such role, moto says so)."""
    from moto.iam.models import iam_backends

    name = role_arn.rsplit("/", 1)[-1]
    backend = iam_backends[account]["global"]
    try:
        role = backend.get_role(name)
    except Exception:  # not found: CreateFunction's own validation answers
        return None
    created = role.create_date
    if isinstance(created, datetime):
        return created if created.tzinfo else created.replace(tzinfo=UTC)
    return None
