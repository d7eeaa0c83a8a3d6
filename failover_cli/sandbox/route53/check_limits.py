"""Route 53's limits on a health check's settings, which moto does not check.

CreateHealthCheck and UpdateHealthCheck answer `InvalidInput` when `ResourcePath` or
`SearchString` is longer than 255 characters, or when fewer than 3 checker `Regions`
are named (https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html,
https://docs.aws.amazon.com/Route53/latest/APIReference/API_UpdateHealthCheck.html).
botocore checks the minimum of Regions before sending; the sandbox checks all three for
any client.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response
from failover_cli.sandbox.route53.dns_answer import error

MAX_LENGTH = 255
MIN_REGIONS = 3
_PATH = re.compile(r"^/2013-04-01/healthcheck(?:/[^/]+)?/?$")  # create, or update by id


def install(context: SandboxContext) -> None:
    context.layer.add(HealthCheckLimits())


class HealthCheckLimits(Interceptor):
    def wants(self, request: AwsRequest) -> bool:
        return (
            request.service == "route53"
            and request.method == "POST"
            and _PATH.match(request.path) is not None
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        try:
            root = ElementTree.fromstring(request.body)
        except ElementTree.ParseError:
            return forward(request)  # moto answers the malformed body
        problem = _problem(root)
        if problem:
            return error("InvalidInput", problem, 400)
        return forward(request)


def _problem(root: ElementTree.Element) -> str | None:
    values: dict[str, list[str]] = {}
    regions: list[str] | None = None
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in ("ResourcePath", "SearchString"):
            values.setdefault(tag, []).append(element.text or "")
        elif tag == "Regions":
            regions = [(child.text or "") for child in element]
    for field, texts in values.items():
        for text in texts:
            if len(text) > MAX_LENGTH:
                member = field[0].lower() + field[1:]
                return (
                    f"1 validation error detected: Value at 'healthCheckConfig.{member}' failed "
                    f"to satisfy constraint: Member must have length less than or equal to "
                    f"{MAX_LENGTH}"
                )
    if regions is not None and len(regions) < MIN_REGIONS:
        return (
            "1 validation error detected: Value at 'healthCheckConfig.regions' failed to "
            f"satisfy constraint: Member must have length greater than or equal to {MIN_REGIONS}"
        )
    return None
