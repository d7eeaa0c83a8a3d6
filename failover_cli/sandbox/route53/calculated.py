"""CALCULATED health checks held to Route 53's rules, and updates that keep what they omit.

moto stores a calculated check's children and threshold but checks nothing.
Route 53 answers `InvalidInput` (400) when:

- a CALCULATED check is created without `HealthThreshold` ("Calculated health
  checks must have a health threshold specified", as Route 53 words it;
  terraform-provider-aws#39428) or with one outside 0..256, or with more than
  256 `ChildHealthChecks` (Route 53 API Reference, HealthCheckConfig:
  https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html);
- a child is not a health check of the account, or (update) is the check itself.

UpdateHealthCheck changes only the elements it names, on Route 53; moto drops a
check's `ChildHealthChecks` and `Regions` when an update leaves them out. Here
such an update gets the current ones added before moto sees it, unless
`ResetElements` names them (then they reset, as Route 53 does:
https://docs.aws.amazon.com/Route53/latest/APIReference/API_UpdateHealthCheck.html).

How a calculated check's status follows its children is route53/health.py.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response
from failover_cli.sandbox.route53.dns_answer import error
from failover_cli.sandbox.route53.health import CALCULATED, find_check

MAX_CHILDREN = 256
MAX_THRESHOLD = 256
_CREATE = re.compile(r"^/2013-04-01/healthcheck/?$")
_UPDATE = re.compile(r"^/2013-04-01/healthcheck/(?P<id>[^/]+)/?$")


def install(context: SandboxContext) -> None:
    context.layer.add(CalculatedChecks())


class CalculatedChecks(Interceptor):
    def wants(self, request: AwsRequest) -> bool:
        return (
            request.service == "route53"
            and request.method == "POST"
            and (_CREATE.match(request.path) or _UPDATE.match(request.path)) is not None
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        try:
            root = ElementTree.fromstring(request.body)
        except ElementTree.ParseError:
            return forward(request)  # moto answers the malformed body
        updating = _UPDATE.match(request.path)
        check_id = updating["id"] if updating else None
        current = find_check(check_id, request.account_id) if check_id else None
        if check_id and current is None:
            return forward(request)  # moto answers NoSuchHealthCheck
        fields = _fields(root)
        calculated = (
            str(current.type_ if current is not None else fields.get("Type", "")).upper()
            == CALCULATED
        )
        problem = _problem(fields, calculated, creating=check_id is None, own_id=check_id)
        if problem is None:
            problem = _unknown_child(fields.get("ChildHealthChecks"), request.account_id)
        if problem:
            return error("InvalidInput", problem, 400)
        if current is None:
            return forward(request)
        return forward(_keep_omitted(request, root, fields, current))


def _fields(root: ElementTree.Element) -> dict[str, Any]:
    """The config's elements by local name; lists for ChildHealthChecks, Regions, ResetElements."""
    found: dict[str, Any] = {}
    for element in root.iter():
        tag = _local(element.tag)
        if tag in ("ChildHealthChecks", "Regions", "ResetElements"):
            found[tag] = [(child.text or "").strip() for child in element]
        elif tag in ("Type", "HealthThreshold"):
            found[tag] = (element.text or "").strip()
    return found


def _problem(
    fields: dict[str, Any], calculated: bool, *, creating: bool, own_id: str | None
) -> str | None:
    threshold = fields.get("HealthThreshold")
    if calculated and creating and threshold is None:
        return (
            "Invalid parameter : Calculated health checks must have a health threshold specified."
        )
    if threshold is not None and not (threshold.isdigit() and int(threshold) <= MAX_THRESHOLD):
        return (
            "1 validation error detected: Value at 'healthCheckConfig.healthThreshold' failed to "
            f"satisfy constraint: Member must have value between 0 and {MAX_THRESHOLD}"
        )
    children = fields.get("ChildHealthChecks") or []
    if len(children) > MAX_CHILDREN:
        return (
            "1 validation error detected: Value at 'healthCheckConfig.childHealthChecks' failed "
            f"to satisfy constraint: Member must have length less than or equal to {MAX_CHILDREN}"
        )
    if own_id is not None and own_id in children:
        return f"Invalid parameter : Health check {own_id} cannot be its own child."
    return None


def _unknown_child(children: list[str] | None, account_id: str) -> str | None:
    for child in children or ():
        if find_check(child, account_id) is None:
            return f"Invalid parameter : Child health check {child} does not exist."
    return None


def _keep_omitted(
    request: AwsRequest, root: ElementTree.Element, fields: dict[str, Any], current: Any
) -> AwsRequest:
    """The update with the check's current children and regions added where it names none."""
    reset = set(fields.get("ResetElements") or ())
    extra = ""
    if "ChildHealthChecks" not in fields and "ChildHealthChecks" not in reset and current.children:
        items = "".join(
            f"<ChildHealthCheck>{escape(c)}</ChildHealthCheck>" for c in current.children
        )
        extra += f"<ChildHealthChecks>{items}</ChildHealthChecks>"
    if "Regions" not in fields and "Regions" not in reset and current.regions:
        items = "".join(f"<Region>{escape(r)}</Region>" for r in current.regions)
        extra += f"<Regions>{items}</Regions>"
    if not extra:
        return request
    text = request.body.decode("utf-8")
    closing = f"</{root.tag.rsplit('}', 1)[-1]}>"
    at = text.rfind(closing)
    if at < 0:
        return request
    body = (text[:at] + extra + text[at:]).encode("utf-8")
    return dataclasses.replace(request, body=body)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
