"""Application Auto Scaling: a deregistered scalable target takes its policies with it.

AWS deletes a target's scaling policies (and scheduled actions) when the target
is deregistered; moto 5.2.5 keeps the policies, so a torn-down stack would leave
them behind in the sandbox and a later stack of the same name would find them.
"""

from __future__ import annotations

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, OperationInterceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response


def install(context: SandboxContext) -> None:
    context.layer.add(DeregisterTakesPolicies())


class DeregisterTakesPolicies(OperationInterceptor):
    service = "application-autoscaling"
    operations = frozenset({"DeregisterScalableTarget"})

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        response = forward(request)
        if response.ok:
            body = request.json()
            _drop_policies(
                request.account_id,
                request.region,
                str(body.get("ServiceNamespace", "")),
                str(body.get("ResourceId", "")),
                str(body.get("ScalableDimension", "")),
            )
        return response


def _drop_policies(
    account: str, region: str, namespace: str, resource: str, dimension: str
) -> None:
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    policies = applicationautoscaling_backends[account][region].policies
    for key, policy in list(policies.items()):
        if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (
            namespace,
            resource,
            dimension,
        ):
            del policies[key]
