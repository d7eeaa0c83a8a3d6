"""Account-level reads moto lacks, which `failover doctor` makes: limits and a policy simulation.

- Lambda `GetAccountSettings`: the default 1,000 concurrent executions per region, minus
  what functions reserve (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
  https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html);
- Route 53 `GetAccountLimit`: 200 health checks and 500 hosted zones per account, with
  the count in use (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html,
  https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetAccountLimit.html);
- IAM `SimulatePrincipalPolicy`: each action evaluated against `--enforce-policy`'s policy
  with the request's context entries, on each of its ResourceArns (none: "*", which the
  evaluator matches to every Resource pattern, as `access` does for calls whose ARN it
  does not derive) (no policy: the sandbox allows everything, so does the simulation)
  (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html).

Counts are read through the sandbox's own public API (loopback), as any client would;
the two limits are tunable rules (`aws_rules`), so a test can bring an account near one.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from xml.sax.saxutils import escape

from failover_cli.sandbox import loopback
from failover_cli.sandbox.aws_rules import AwsRules
from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.iam_policy import Decision, Policy
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_response

HOSTED_ZONES_PER_ACCOUNT = 500
_LAMBDA_SETTINGS = re.compile(r"^/2016-08-19/account-settings/?$")
_ROUTE53_LIMIT = re.compile(r"^/2013-04-01/accountlimit/(?P<type>[A-Z_]+)/?$")
_ROUTE53_NS = "https://route53.amazonaws.com/doc/2013-04-01/"
_IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
_DECISIONS = {
    Decision.ALLOWED: "allowed",
    Decision.NOT_ALLOWED: "implicitDeny",
    Decision.DENIED: "explicitDeny",
}


def install(context: SandboxContext) -> None:
    context.layer.add(AccountReads(context.endpoint, context.policy, context.rules))


class AccountReads(Interceptor):
    def __init__(self, endpoint: str, policy: Policy | None, rules: AwsRules):
        self.endpoint = endpoint
        self.policy = policy
        self.rules = rules  # the limits (tunable: /_sandbox/rules)

    def _limits(self) -> dict[str, int]:
        settings = self.rules.settings()
        return {
            "MAX_HEALTH_CHECKS_BY_OWNER": int(settings["health_checks_per_account"]),
            "MAX_HOSTED_ZONES_BY_OWNER": HOSTED_ZONES_PER_ACCOUNT,
        }

    def wants(self, request: AwsRequest) -> bool:
        if request.service == "lambda":
            return request.method == "GET" and bool(_LAMBDA_SETTINGS.match(request.path))
        if request.service == "route53":
            return request.method == "GET" and bool(_ROUTE53_LIMIT.match(request.path))
        return request.service == "iam" and request.operation == "SimulatePrincipalPolicy"

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        if request.service == "lambda":
            return self._lambda_settings(request)
        if request.service == "route53":
            return self._route53_limit(request)
        return self._simulate(request)

    def _client(self, request: AwsRequest, service: str) -> Any:
        region = "us-east-1" if service == "route53" else request.region
        return loopback.client(self.endpoint, service, region, account_id=request.account_id)

    def _lambda_settings(self, request: AwsRequest) -> Response:
        lam = self._client(request, "lambda")
        names = [
            f["FunctionName"]
            for page in lam.get_paginator("list_functions").paginate()
            for f in page.get("Functions", [])
        ]
        reserved = 0
        for name in names:
            concurrency = lam.get_function(FunctionName=name).get("Concurrency") or {}
            reserved += int(concurrency.get("ReservedConcurrentExecutions", 0))
        limit = int(self.rules.settings()["lambda_concurrency"])
        return json_response(
            {
                "AccountLimit": {
                    "TotalCodeSize": 80530636800,
                    "CodeSizeUnzipped": 262144000,
                    "CodeSizeZipped": 52428800,
                    "ConcurrentExecutions": limit,
                    "UnreservedConcurrentExecutions": limit - reserved,
                },
                "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(names)},
            },
            content_type="application/json",
        )

    def _route53_limit(self, request: AwsRequest) -> Response:
        found = _ROUTE53_LIMIT.match(request.path)
        kind = found["type"] if found else ""
        limits = self._limits()
        if kind not in limits:
            return _xml(
                400,
                f'<ErrorResponse xmlns="{_ROUTE53_NS}"><Error><Type>Sender</Type>'
                f"<Code>InvalidInput</Code><Message>Unsupported limit type {escape(kind)}"
                f"</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>",
            )
        r53 = self._client(request, "route53")
        if kind == "MAX_HEALTH_CHECKS_BY_OWNER":
            pages = r53.get_paginator("list_health_checks").paginate()
            count = sum(len(p.get("HealthChecks", [])) for p in pages)
        else:
            pages = r53.get_paginator("list_hosted_zones").paginate()
            count = sum(len(p.get("HostedZones", [])) for p in pages)
        return _xml(
            200,
            f'<GetAccountLimitResponse xmlns="{_ROUTE53_NS}"><Limit><Type>{kind}</Type>'
            f"<Value>{limits[kind]}</Value></Limit><Count>{count}</Count>"
            "</GetAccountLimitResponse>",
        )

    def _simulate(self, request: AwsRequest) -> Response:
        form = request.form
        actions, resources = _members(form, "ActionNames"), _members(form, "ResourceArns")
        context = _context_entries(form)
        members = []
        for action in actions:
            for resource in resources or ["*"]:
                decision = (
                    self.policy.decide(action, None if resource == "*" else resource, context)
                    if self.policy is not None
                    else Decision.ALLOWED
                )
                members.append(
                    f"<member><EvalActionName>{escape(action)}</EvalActionName>"
                    f"<EvalResourceName>{escape(resource)}</EvalResourceName>"
                    f"<EvalDecision>{_DECISIONS[decision]}</EvalDecision></member>"
                )
        return _xml(
            200,
            f'<SimulatePrincipalPolicyResponse xmlns="{_IAM_NS}"><SimulatePrincipalPolicyResult>'
            f"<EvaluationResults>{''.join(members)}</EvaluationResults>"
            "<IsTruncated>false</IsTruncated></SimulatePrincipalPolicyResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</SimulatePrincipalPolicyResponse>",
        )


def _members(form: dict[str, str], name: str) -> list[str]:
    """The query protocol's list `name`: name.member.1, name.member.2 ... in order."""
    keys = [k for k in form if re.fullmatch(rf"{name}\.member\.\d+", k)]
    return [form[k] for k in sorted(keys, key=_member_order)]


def _member_order(key: str) -> tuple[str, int]:
    head, _, number = key.rpartition(".")
    return head, int(number) if number.isdigit() else 0


def _context_entries(form: dict[str, str]) -> dict[str, str]:
    """ContextEntries.member.N.ContextKeyName and its first value (the evaluator's keys
    are single-valued)."""
    found: dict[str, str] = {}
    for key, value in form.items():
        matched = re.fullmatch(r"ContextEntries\.member\.(\d+)\.ContextKeyName", key)
        if matched:
            first = form.get(f"ContextEntries.member.{matched[1]}.ContextKeyValues.member.1")
            if first is not None:
                found[value] = first
    return found


def _xml(status: int, body: str) -> Response:
    data = ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()
    headers = (("Content-Type", "text/xml"), ("Content-Length", str(len(data))))
    return Response(status=status, headers=headers, body=data)
