"""GetHealthCheckStatus from the sandbox's own checkers (moto always says Success).

moto still answers first, so an unknown id gets its NoSuchHealthCheck error;
the observations in a successful answer are replaced by each checker's last
report from `context.health`. A check whose checkers have not reported yet
has no observations, as on Route 53 right after creation; a CALCULATED check has
none at all, and the call answers InvalidInput (Route 53 API Reference,
GetHealthCheckStatus: its status is read from CloudWatch). Past Route 53's rate for
this call (a burst of 4, then 1 per second per account) it answers Throttling.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from failover_cli.sandbox.aws_rules import AwsRules
from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.health_state import HealthState, Observation
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.outage_regions import INTERNAL_AGENT
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response
from failover_cli.sandbox.route53.dns_answer import error
from failover_cli.sandbox.route53.health import CALCULATED, find_check
from failover_cli.sandbox.token_buckets import TokenBuckets

XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/"
CALCULATED_REFUSAL = (
    "Invalid parameter : GetHealthCheckStatus does not report calculated health checks; "
    "read the HealthCheckStatus metric in CloudWatch (us-east-1)."
)
_STATUS_PATH = re.compile(r"^/2013-04-01/healthcheck/(?P<id>[^/]+)/status/?$")


def install(context: SandboxContext) -> None:
    context.layer.add(HealthCheckStatus(context.health, context.rules))


class HealthCheckStatus(Interceptor):
    def __init__(self, health: HealthState, rules: AwsRules | None = None):
        self.health = health
        self.rules = rules or AwsRules()
        self._buckets = TokenBuckets()  # real seconds

    def wants(self, request: AwsRequest) -> bool:
        return (
            request.service == "route53"
            and request.method == "GET"
            and _STATUS_PATH.match(request.path) is not None
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        # The sandbox's own reads (the watch page) are not the account's calls: on AWS
        # they would not spend its quota, so here they must not throttle the user's.
        internal = INTERNAL_AGENT in request.headers.get("user-agent", "")
        if not internal and not self._within_rate(request.account_id):
            return error("Throttling", "Rate exceeded", 400)
        response = forward(request)
        found = _STATUS_PATH.match(request.path)
        if not response.ok or found is None:
            return response
        check = find_check(found["id"], request.account_id)
        if check is not None and str(check.type_ or "").upper() == CALCULATED:
            # "You can't use GetHealthCheckStatus to get the status of a calculated health
            # check" (API Reference, GetHealthCheckStatus): its status is the metric.
            return error("InvalidInput", CALCULATED_REFUSAL, 400)
        return response.with_body(status_xml(self.health.observations(found["id"])))

    def _within_rate(self, account_id: str) -> bool:
        """Route 53 quotas: GetHealthCheckStatus, a burst of 4 then 1 request per second per
        account (Route 53 Developer Guide, "Quotas on API requests"); real seconds."""
        rate = self.rules.health_check_status_per_second
        if rate <= 0:
            return True
        burst = max(self.rules.health_check_status_burst, 1.0)
        return self._buckets.take((account_id, burst, rate), burst, rate)


def status_xml(observations: list[Observation]) -> bytes:
    """A GetHealthCheckStatusResponse document, in the shape of botocore's route53 model."""
    items = "".join(
        "<HealthCheckObservation>"
        f"<Region>{escape(o.region)}</Region>"
        f"<IPAddress>{escape(o.ip_address)}</IPAddress>"
        "<StatusReport>"
        f"<Status>{escape(o.status)}</Status>"
        f"<CheckedTime>{o.checked_at.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z</CheckedTime>"
        "</StatusReport>"
        "</HealthCheckObservation>"
        for o in sorted(observations, key=lambda o: o.region)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<GetHealthCheckStatusResponse xmlns="{XMLNS}">'
        f"<HealthCheckObservations>{items}</HealthCheckObservations>"
        "</GetHealthCheckStatusResponse>"
    ).encode()
