"""AWS's holds, delays and rate limits that moto does not have, as the sandbox enforces them.

Each is a rule a first real `up`/`down`, a drill or a rotation meets (the table with
sources is `docs/aws-rules.md`); the service subpackages read their setting here.
Durations are emulated seconds (the scheduler's time scale applies) unless their
comment says real seconds. `GET
/_sandbox/rules` shows them and `POST /_sandbox/rules` with a JSON object changes
them at run time, e.g. `{"source_table_hold": 0}` to let a held table go now.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, fields
from typing import Any

from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_error, json_response

PATH = "/_sandbox/rules"


@dataclass(eq=False)  # one mutable object, hashed by identity (the context is hashed)
class AwsRules:
    # DynamoDB: a table that seeded a new replica cannot be deleted for 24 hours
    # ("it has acted as a source region"; DynamoDB Developer Guide, global tables).
    source_table_hold: float = 24 * 3600.0
    # API Gateway keeps a certificate in use for a while after its custom domain is
    # deleted (ACM DeleteCertificate: ResourceInUseException).
    certificate_release: float = 120.0
    # Application Auto Scaling is eventually consistent: DynamoDB sees a newly
    # registered write target only after a moment (real seconds, like the rate below:
    # consistency delays do not follow the emulated clock).
    scaling_visible_after: float = 1.0
    # Route 53 publishes a new health check's HealthCheckStatus metric only after a
    # minute or more (CloudWatch alarms see missing data until then).
    first_metric_after: float = 60.0
    # Route 53 GetHealthCheckStatus: a burst of 4, then 1 per second per account (real
    # seconds: an API rate, not an emulated delay). 0 turns the limit off.
    health_check_status_per_second: float = 1.0
    health_check_status_burst: float = 4.0
    # Lambda: after UpdateFunctionConfiguration or UpdateFunctionCode, LastUpdateStatus is
    # InProgress for a while and another update answers ResourceConflictException; a
    # version just published is Pending (not invocable) as long.
    function_update_seconds: float = 3.0
    # IAM is eventually consistent: Lambda cannot assume a role created this many real
    # seconds ago yet (CreateFunction: InvalidParameterValueException).
    role_assumable_after: float = 6.0
    # Account limits (counts, not seconds), read by doctor and up's preflight: Route 53's
    # active health checks per account, Lambda's concurrent executions per region.
    health_checks_per_account: float = 200.0
    lambda_concurrency: float = 1000.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def settings(self) -> dict[str, float]:
        names = [f.name for f in fields(self) if not f.name.startswith("_")]
        with self._lock:
            return {name: getattr(self, name) for name in names}

    def update(self, changes: dict[str, Any]) -> None:
        """Change some settings; refuses unknown names and values that are not numbers >= 0."""
        known = {f.name for f in fields(self) if not f.name.startswith("_")}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown rule {name!r}; known: {', '.join(sorted(known))}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number of seconds >= 0, not {value!r}")
        with self._lock:
            for name, value in changes.items():
                setattr(self, name, float(value))


class RulesEndpoint(Interceptor):
    """GET /_sandbox/rules: the settings; POST: change some of them (JSON object)."""

    def __init__(self, rules: AwsRules):
        self.rules = rules

    def wants(self, request: AwsRequest) -> bool:
        return request.path.rstrip("/") == PATH and "authorization" not in request.headers

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        if request.method == "POST":
            try:
                body = json.loads(request.body or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object of rule: seconds")
                self.rules.update(body)
            except ValueError as error:
                return json_error("ValidationException", str(error))
        elif request.method != "GET":
            return json_error("MethodNotAllowed", "GET or POST", status=405)
        return json_response(self.rules.settings())


def install(context: Any) -> None:
    """The feature: serve the rules' endpoint (a SandboxContext; Any avoids an import circle)."""
    context.layer.add(RulesEndpoint(context.rules))
