"""What the sandbox needs to know about a function at invoke time, read from moto.

Read afresh on every invoke, so a configuration update (FORCE_FAIL=true) or a
code update is seen by the very next call. `FunctionSpec.fingerprint` is what
a warm worker must match to be reused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

LATEST = "$LATEST"
DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128

# arn:aws:lambda:us-east-1:123456789012:function:name[:qualifier]
# 123456789012:function:name[:qualifier]    (partial ARN)
# name[:qualifier]
_FUNCTION_ID = re.compile(
    r"^(?:(?:arn:[\w-]+:lambda:[a-z0-9-]+:)?(?P<account>\d{12}):function:)?"
    r"(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[A-Za-z0-9_$-]+))?$"
)


class LambdaApiError(Exception):
    """An error answer of the Lambda API (code, message, HTTP status)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class FunctionSpec:
    account: str
    region: str
    name: str
    version: str  # "$LATEST" or a published version number
    arn: str  # unqualified
    handler: str
    runtime: str
    timeout_s: int
    memory_mb: int
    code_sha: str  # base64 SHA-256, as CodeSha256
    environment: tuple[tuple[str, str], ...]  # the function's own variables, sorted
    reserved_concurrency: int | None
    package_type: str
    role: str = (
        ""  # execution role ARN: its permissions decide whether Lambda may create the log group
    )

    @property
    def key(self) -> tuple[str, str, str, str]:
        """One pool of execution environments per (account, region, function, version)."""
        return (self.account, self.region, self.name, self.version)

    @property
    def fingerprint(self) -> tuple[Any, ...]:
        """Warm workers are reused only while all of this is unchanged (as on Lambda)."""
        return (
            self.code_sha,
            self.handler,
            self.runtime,
            self.timeout_s,
            self.memory_mb,
            self.environment,
        )

    @property
    def qualified_arn(self) -> str:
        return f"{self.arn}:{self.version}"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"


def query_qualifier(query: str) -> str | None:
    """The `Qualifier` of a query string (None when absent)."""
    from urllib.parse import parse_qs

    found = parse_qs(query).get("Qualifier")
    return found[0] if found else None


def named_in(path_function: str, query: str) -> tuple[str, str | None] | None:
    """(name, qualifier) a request names in its path and `Qualifier`; None when that is
    malformed (moto then answers the validation error)."""
    from urllib.parse import unquote

    try:
        return parse_function_id(unquote(path_function), query_qualifier(query))
    except LambdaApiError:
        return None


def parse_function_id(function_id: str, qualifier: str | None) -> tuple[str, str | None]:
    """(name, qualifier) from a name, partial ARN or ARN, with or without a qualifier."""
    match = _FUNCTION_ID.match(function_id)
    if match is None:
        raise LambdaApiError(
            "ValidationException",
            f"1 validation error detected: Value '{function_id}' at 'functionName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
            "(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
        )
    derived = match.group("qualifier")
    if derived and qualifier and derived != qualifier:
        raise LambdaApiError(
            "InvalidParameterValueException",
            "The derived qualifier from the function name does not match the specified qualifier.",
        )
    return match.group("name"), derived or qualifier or None


def lookup(
    account: str, region: str, function_id: str, qualifier: str | None
) -> tuple[FunctionSpec, bytes | None]:
    """The function's current spec and moto's copy of its code (None when moto has none)."""
    from moto.awslambda.models import lambda_backends
    from moto.core.exceptions import JsonRESTError

    name, qualifier = parse_function_id(function_id, qualifier)
    try:
        backend = lambda_backends[account][region]
        function = backend.get_function(name, qualifier)
        # Reserved concurrency is the function's, whichever version runs (moto copies it
        # into a version when it is published and never updates the copy).
        reserved = backend.get_function(name).reserved_concurrency
    except JsonRESTError as error:
        raise LambdaApiError(error.error_type, error.message, int(error.code)) from None
    code = getattr(function, "code_bytes", None) or None
    return _spec(account, region, function, reserved), code


def _spec(account: str, region: str, function: Any, reserved: Any) -> FunctionSpec:
    variables = function.environment_vars or {}
    return FunctionSpec(
        account=account,
        region=region,
        name=function.function_name,
        version=LATEST if _is_latest(function) else str(function.version),
        arn=f"arn:aws:lambda:{region}:{account}:function:{function.function_name}",
        handler=str(function.handler or ""),
        runtime=str(function.run_time or ""),
        timeout_s=int(function.timeout or DEFAULT_TIMEOUT_S),
        memory_mb=int(function.memory_size or DEFAULT_MEMORY_MB),
        code_sha=str(function.code_sha_256 or ""),
        environment=tuple(sorted((str(k), str(v)) for k, v in variables.items())),
        reserved_concurrency=None if reserved in (None, "") else int(reserved),
        package_type=str(function.package_type or "Zip"),
        role=str(function.role or ""),
    )


def _is_latest(function: Any) -> bool:
    """moto numbers $LATEST as version 1 too: a published version has a qualified ARN."""
    arn = str(function.function_arn)
    return arn.rsplit(":", 1)[-1] == function.function_name
