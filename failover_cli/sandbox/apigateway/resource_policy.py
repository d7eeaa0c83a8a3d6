"""REST API resource policies on execute-api requests, as API Gateway evaluates them.

moto stores a REST API's `policy` and never applies it. API Gateway applies the
policy of the *deployed* stage (a policy change takes effect on the next
deployment) to every request, with the caller as `anonymous` for an API with
no authorizer (API Gateway Developer Guide, "Control access to a REST API with
API Gateway resource policies" and "How API Gateway resource policies affect
authorization workflow"):

- no policy: allowed;
- an explicit Deny that matches: 403, "... with an explicit deny";
- otherwise an Allow must match: 403 without the suffix when none does.

The answer is API Gateway's: 403 `{"Message": "User: anonymous is not authorized
to perform: execute-api:Invoke on resource: <arn>[ with an explicit deny]"}`,
the account id in the ARN masked but for its last four digits.

Evaluated: Effect, Principal `*` (or `{"AWS": "*"}`), Action/NotAction,
Resource/NotResource with `*`/`?` wildcards and the `execute-api:/...`
shorthand, and the `IpAddress`/`NotIpAddress` conditions on `aws:SourceIp`
(IAM User Guide, "IAM JSON policy elements: Condition operators" → IP address
condition operators; "AWS global condition context keys" → aws:SourceIp).
A statement with any other condition is judged the strict way: an Allow then
does not match, a Deny does.

The caller's address: the sandbox listens on loopback only, so it takes the
first address of an `X-Forwarded-For` header when one is sent (a test device,
never honoured by AWS) and 127.0.0.1 otherwise; its health checkers send their
own published address that way (route53/probe.py).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from enum import Enum
from functools import lru_cache
from typing import Any

from failover_cli.sandbox.responses import Response

LOOPBACK = "127.0.0.1"
_ACTIONS = ("execute-api:invoke", "execute-api:*", "*")


class Verdict(Enum):
    ALLOWED = "allowed"
    IMPLICIT_DENY = "implicit"
    EXPLICIT_DENY = "explicit"


def caller_address(headers: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """(the caller's address, the headers the function sees without the test device)."""
    rest = {k: v for k, v in headers.items() if k.lower() != "x-forwarded-for"}
    forwarded = next((v for k, v in headers.items() if k.lower() == "x-forwarded-for"), "")
    first = forwarded.split(",", 1)[0].strip()
    try:
        return str(ipaddress.ip_address(first)), rest
    except ValueError:
        return LOOPBACK, rest


def invoke_arn(
    region: str, account_id: str, api_id: str, stage: str, method: str, path: str
) -> str:
    """The execute-api ARN of one request: `.../<api>/<stage>/<METHOD>/<resource path>`."""
    where = f"{stage}/{method.upper()}/{path.lstrip('/')}"
    return f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{where}"


def evaluate(policy: str | None, resource_arn: str, source_ip: str) -> Verdict:
    if not policy:
        return Verdict.ALLOWED
    document = parse(policy)
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    api_arn = resource_arn.split("/", 1)[0]  # arn:aws:execute-api:R:ACCOUNT:API
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict) or not _applies(statement, resource_arn, api_arn):
            continue
        deny = str(statement.get("Effect")) == "Deny"
        holds = _conditions(statement.get("Condition") or {}, source_ip, strict_true=deny)
        if deny and holds:
            return Verdict.EXPLICIT_DENY
        allowed = allowed or (holds and str(statement.get("Effect")) == "Allow")
    return Verdict.ALLOWED if allowed else Verdict.IMPLICIT_DENY


def parse(policy: str) -> dict[str, Any]:
    """The policy document; API Gateway hands it back with its quotes escaped."""
    for text in (policy, policy.replace('\\"', '"')):
        try:
            parsed = json.loads(text)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}


def denied(verdict: Verdict, resource_arn: str) -> Response:
    """API Gateway's answer to a request its resource policy refuses."""
    parts = resource_arn.split(":")
    account = parts[4]
    parts[4] = "*" * max(len(account) - 4, 0) + account[-4:]
    suffix = " with an explicit deny" if verdict is Verdict.EXPLICIT_DENY else ""
    message = (
        "User: anonymous is not authorized to perform: execute-api:Invoke on resource: "
        f"{':'.join(parts)}{suffix}"
    )
    body = json.dumps({"Message": message}, separators=(",", ":")).encode()  # AWS's spacing
    headers = (
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("x-amzn-ErrorType", "AccessDeniedException"),
    )
    return Response(status=403, headers=headers, body=body)


def _applies(statement: dict[str, Any], resource_arn: str, api_arn: str) -> bool:
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principal = principal.get("AWS")
    principals = principal if isinstance(principal, list) else [principal]
    if "*" not in principals:
        return False  # a named principal is never the anonymous caller
    if "Action" in statement:
        if not any(str(a).lower() in _ACTIONS for a in _listed(statement["Action"])):
            return False
    elif any(str(a).lower() in _ACTIONS for a in _listed(statement.get("NotAction"))):
        return False
    if "Resource" in statement:
        return _matches(statement["Resource"], resource_arn, api_arn)
    return not _matches(statement.get("NotResource"), resource_arn, api_arn)


def _matches(resources: Any, resource_arn: str, api_arn: str) -> bool:
    return any(_glob(_expand(r, api_arn)).match(resource_arn) for r in _listed(resources))


def _conditions(condition: dict[str, Any], source_ip: str, *, strict_true: bool) -> bool:
    """Whether every condition holds; one the sandbox cannot judge counts as `strict_true`."""
    for operator, tests in condition.items():
        if operator not in ("IpAddress", "NotIpAddress") or not isinstance(tests, dict):
            return strict_true
        for key, values in tests.items():
            if str(key).lower() != "aws:sourceip":
                return strict_true
            inside = _inside(source_ip, _listed(values))
            if inside != (operator == "IpAddress"):
                return False
    return True


def _inside(address: str, cidrs: list[Any]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for cidr in cidrs:
        try:
            if ip in ipaddress.ip_network(str(cidr), strict=False):
                return True
        except ValueError:
            continue
    return False


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _expand(resource: Any, api_arn: str) -> str:
    """`execute-api:/stage/GET/path` is the API's own `arn:...:api/stage/GET/path`."""
    text = str(resource)
    return api_arn + text[len("execute-api:") :] if text.startswith("execute-api:/") else text


@lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z"
    )
