"""`failover sandbox --enforce-policy FILE`: every AWS API call is held to one IAM policy.

moto grants everything, so without this no test can see a permission the tool needs
and the documented operator policy lacks. With it, the sandbox's first interceptor
authorises each signed request, its own action and the ones AWS checks implicitly
(`iam_actions`), against the policy (`iam_policy`), and answers AccessDenied in the
service's own shape (`access_denied`) before anything else sees the request.
GetFunction by a caller without `lambda:ListTags` succeeds with a `TagsError` and
no `Tags`, as on AWS (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html).

Not held to the policy: the sandbox's own calls (health checkers, alarms, running
functions sign with `INTERNAL_ACCESS_KEY`) and callers signing with
`ADMIN_ACCESS_KEY`, the account administrator who made what the operator only uses
(the hosted zone). Unsigned requests (execute-api, custom domains, the watch page,
e-mail links) are not AWS API calls. `GET /_sandbox/iam` reports what was
authorised and refused.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from failover_cli.sandbox.access_denied import access_denied, denial_message
from failover_cli.sandbox.iam_actions import Need, needs, operation
from failover_cli.sandbox.iam_policy import Decision, Policy, PolicyError
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import ADMIN_ACCESS_KEY, INTERNAL_ACCESS_KEY, AwsRequest
from failover_cli.sandbox.responses import Response, json_error, json_response

REPORT_PATH = "/_sandbox/iam"


def load_policy(path: str | Path) -> Policy:
    """The policy in `path`; PolicyError (with the file's name) when it cannot be enforced."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path}: cannot read it ({error})") from None
    try:
        return Policy.parse(text)
    except PolicyError as error:
        raise PolicyError(f"{path}: {error}") from None


class PolicyEnforcer(Interceptor):
    """Authorises every signed request of the operator; keeps a report of the decisions."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self._lock = threading.Lock()
        self._linked_roles: set[str] = set()  # service-linked roles AWS has created
        self._allowed: Counter[str] = Counter()
        self._denied: list[dict[str, Any]] = []

    def wants(self, request: AwsRequest) -> bool:
        if request.access_key is None:
            return request.path == REPORT_PATH and request.method == "GET"
        return request.access_key not in (INTERNAL_ACCESS_KEY, ADMIN_ACCESS_KEY)

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        if request.access_key is None:
            return json_response(self.report(), content_type="application/json")
        required = needs(request)
        for need in required:
            if need.once and need.resource in self._linked_roles:
                continue  # the role exists now: AWS no longer asks
            decision = self.policy.decide(need.action, need.resource, dict(need.context))
            self._record(need, decision)
            if decision is not Decision.ALLOWED:
                message = denial_message(
                    request.account_id,
                    need.action,
                    need.resource,
                    explicit=decision is Decision.DENIED,
                    why=need.why,
                )
                if need.refusal:  # the service's own check of the caller, in its words
                    return json_error(need.refusal, message, status=400)
                return access_denied(request, message)
        response = forward(request)
        if not response.ok:
            return response
        with self._lock:
            self._linked_roles.update(str(n.resource) for n in required if n.once)
        if request.service == "lambda" and operation(request) == "GetFunction":
            return self._tags_if_allowed(request, required[0], response)
        return response

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {"allowed": dict(self._allowed), "denied": list(self._denied)}

    def _record(self, need: Need, decision: Decision) -> None:
        with self._lock:
            if decision is Decision.ALLOWED:
                self._allowed[need.action] += 1
            else:
                entry = {"action": need.action, "resource": need.resource, "why": need.why}
                self._denied.append({**entry, "decision": decision.value})

    def _tags_if_allowed(self, request: AwsRequest, need: Need, response: Response) -> Response:
        """GetFunction shows Tags only to a caller allowed lambda:ListTags on the function."""
        decision = self.policy.decide("lambda:ListTags", need.resource, dict(need.context))
        listed = Need("lambda:ListTags", need.resource, need.context, "GetFunction's Tags")
        self._record(listed, decision)
        if decision is Decision.ALLOWED:
            return response
        answer = response.json()
        answer.pop("Tags", None)
        answer["TagsError"] = {
            "ErrorCode": "AccessDeniedException",
            "Message": denial_message(
                request.account_id,
                "lambda:ListTags",
                need.resource,
                explicit=decision is Decision.DENIED,
            ),
        }
        return response.with_body(json.dumps(answer).encode())
