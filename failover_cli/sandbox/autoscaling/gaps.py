"""Application Auto Scaling: a deregistered scalable target takes its policies with it,
and a target keeps the tags it was registered with.

AWS deletes a target's scaling policies (and scheduled actions) when the target
is deregistered; moto 5.2.5 keeps the policies, so a torn-down stack would leave
them behind in the sandbox and a later stack of the same name would find them.
moto drops RegisterScalableTarget's `Tags`; the sandbox keeps them on the target
(`sandbox_tags`), for the `aws:ResourceTag` conditions `--enforce-policy` evaluates
(Application Auto Scaling User Guide, "Tagging support for Application Auto Scaling").
"""

from __future__ import annotations

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.iam_context import scalable_target
from failover_cli.sandbox.layer import Forward, OperationInterceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response


def install(context: SandboxContext) -> None:
    context.layer.add(DeregisterTakesPolicies())
    context.layer.add(RegisterKeepsTags())


class RegisterKeepsTags(OperationInterceptor):
    service = "application-autoscaling"
    operations = frozenset({"RegisterScalableTarget"})

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        body = request.json()
        new = scalable_target(request.account_id, request.region, body) is None
        response = forward(request)
        tags = body.get("Tags")
        if response.ok and new and isinstance(tags, dict):  # AWS takes tags on creation
            target = scalable_target(request.account_id, request.region, body)
            if target is not None:
                target.sandbox_tags = {str(k): str(v) for k, v in tags.items()}
        return response


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
