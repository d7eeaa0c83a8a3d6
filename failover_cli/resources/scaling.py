"""Application Auto Scaling for a provisioned table: read and write targets plus target tracking.

One spec per region (the primary table and each replica have their own
capacity). AWS refuses to add a replica to a provisioned table whose write
capacity is not auto-scaled, so the primary's scaling comes before any replica.

Ownership: the scalable targets are tagged on registration, but moto cannot
list those tags, so ownership is read from the table (or replica) they scale.

Replicas inherit: DynamoDB copies a global table's write auto scaling to every
replica it creates, under its own policy name ("DynamoDBWriteCapacityUtilization:
table/<name>"). A replica region's scaling therefore adopts the policy already
tracking its metric instead of adding ours beside it, and converges to exactly one
target-tracking policy per dimension: extra ones (two sets of settings fighting
over one table) are deleted, and `plan` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from failover_cli.aws.errors import error_code
from failover_cli.aws.retry import Backoff, retry
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.services.dynamodb_tables import key_of, owned_in_region, table_key

KIND = "scaling"
NAMESPACE = "dynamodb"
# dimension label -> (ScalableDimension, predefined metric of its target-tracking policy)
DIMENSIONS: dict[str, tuple[str, str]] = {
    "read": ("dynamodb:table:ReadCapacityUnits", "DynamoDBReadCapacityUtilization"),
    "write": ("dynamodb:table:WriteCapacityUnits", "DynamoDBWriteCapacityUtilization"),
}
# A policy put right after registering its target may not find it yet (eventual consistency).
SETTLE = Backoff(first=1.0, cap=5.0, budget=60.0)


@dataclass(frozen=True)
class ScalingProps:
    read_min: int
    read_max: int
    read_target: float
    write_min: int
    write_max: int
    write_target: float
    tags: tuple[tuple[str, str], ...]  # set on registration; not compared (see module doc)
    # Target-tracking policies per dimension: always one (see the module docstring).
    read_policies: int = 1
    write_policies: int = 1


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    table = config.table
    if table.billing != "provisioned":
        return []
    scaling = table.autoscaling
    target = float(scaling.target_percent)
    props = ScalingProps(
        read_min=scaling.min,
        read_max=scaling.max,
        read_target=target,
        write_min=scaling.min,
        write_max=scaling.max,
        write_target=target,
        tags=tuple(sorted(config.ownership_tags().items())),
    )
    specs = []
    for region in config.regions:
        # The primary scales the table; every other region scales its replica.
        needs = (
            table_key(config)
            if region == config.primary_region
            else key_of("replica", region, table.name)
        )
        specs.append(Spec(KIND, region, table.name, props, depends_on=(needs,)))
    return specs


def resource_id(name: str) -> str:
    return f"table/{name}"


def policy_name(stack: str, label: str) -> str:
    return f"{stack}-{label}"


class ScalingHandler(Handler):
    kind = KIND
    compared_fields = (
        "read_min",
        "read_max",
        "read_target",
        "write_min",
        "write_max",
        "write_target",
        "read_policies",
        "write_policies",
    )

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        aas = ctx.client("application-autoscaling", spec.region)
        resource = resource_id(spec.name)
        targets: dict[str, dict[str, Any]] = {}
        for page in aas.get_paginator("describe_scalable_targets").paginate(
            ServiceNamespace=NAMESPACE, ResourceIds=[resource]
        ):
            for target in page["ScalableTargets"]:
                if target["ResourceId"] == resource:  # not the table's indexes
                    targets[target["ScalableDimension"]] = target
        if not any(dimension in targets for dimension, _ in DIMENSIONS.values()):
            return Observed.missing()
        policies: list[dict[str, Any]] = []
        for page in aas.get_paginator("describe_scaling_policies").paginate(
            ServiceNamespace=NAMESPACE, ResourceId=resource
        ):
            policies.extend(page["ScalingPolicies"])
        props: dict[str, Any] = {}
        names: dict[str, str] = {}
        extras: dict[str, list[str]] = {}
        for label, (dimension, metric) in DIMENSIONS.items():
            target = targets.get(dimension, {})
            props[f"{label}_min"] = target.get("MinCapacity")
            props[f"{label}_max"] = target.get("MaxCapacity")
            tracking = _tracking_policies(policies, dimension, metric, ctx.config.stack, label)
            policy = tracking[0] if tracking else None
            props[f"{label}_target"] = _target_value(policy)
            props[f"{label}_policies"] = len(tracking) if target else 0
            if policy is not None:
                names[label] = policy["PolicyName"]
            extras[label] = [p["PolicyName"] for p in tracking[1:]]
        return Observed(
            exists=True,
            # Targets left behind for a table that no longer exists belong to no one we know.
            owned=bool(owned_in_region(ctx, spec.region, spec.name)),
            props=props,
            raw={"policy_names": names, "extra_policies": extras},
        )

    def diff(self, spec: Spec, observed: Observed) -> list[FieldChange]:
        changes = super().diff(spec, observed)
        return [_explained(c) if c.field.endswith("_policies") else c for c in changes]

    def create(self, ctx: Context, spec: Spec) -> None:
        for label in DIMENSIONS:
            self._converge(ctx, spec, label, {}, new_target=True)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        changed = {c.field for c in changes}
        raw = observed.raw or {}
        names: dict[str, str] = raw.get("policy_names", {})
        extras: dict[str, list[str]] = raw.get("extra_policies", {})
        aas = ctx.client("application-autoscaling", spec.region)
        for label, (dimension, _) in DIMENSIONS.items():
            if any(field.startswith(f"{label}_") for field in changed):
                new_target = observed.props.get(f"{label}_min") is None
                self._converge(ctx, spec, label, names, new_target=new_target)
            for extra in extras.get(label, []):
                aas.delete_scaling_policy(
                    PolicyName=extra,
                    ServiceNamespace=NAMESPACE,
                    ResourceId=resource_id(spec.name),
                    ScalableDimension=dimension,
                )

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        from botocore.exceptions import ClientError

        aas = ctx.client("application-autoscaling", spec.region)
        for dimension, _ in DIMENSIONS.values():
            # Deregistering a target deletes its policies with it.
            try:
                aas.deregister_scalable_target(
                    ServiceNamespace=NAMESPACE,
                    ResourceId=resource_id(spec.name),
                    ScalableDimension=dimension,
                )
            except ClientError as error:
                if not _is_not_found(error):
                    raise

    def _converge(
        self, ctx: Context, spec: Spec, label: str, names: dict[str, str], *, new_target: bool
    ) -> None:
        """Register (or update) one dimension's target and put its target-tracking policy."""
        props: ScalingProps = spec.props
        aas = ctx.client("application-autoscaling", spec.region)
        dimension, metric = DIMENSIONS[label]
        target_args: dict[str, Any] = {
            "ServiceNamespace": NAMESPACE,
            "ResourceId": resource_id(spec.name),
            "ScalableDimension": dimension,
            "MinCapacity": getattr(props, f"{label}_min"),
            "MaxCapacity": getattr(props, f"{label}_max"),
        }
        if new_target:
            target_args["Tags"] = dict(props.tags)  # tags are only accepted on creation
        aas.register_scalable_target(**target_args)
        # Keep the name of a matching policy already there (AWS may have copied one to a
        # replica) instead of stacking a second policy on the same metric.
        name = names.get(label) or policy_name(ctx.config.stack, label)
        retry(
            lambda: aas.put_scaling_policy(
                PolicyName=name,
                ServiceNamespace=NAMESPACE,
                ResourceId=resource_id(spec.name),
                ScalableDimension=dimension,
                PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={
                    "TargetValue": getattr(props, f"{label}_target"),
                    "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
                },
            ),
            retryable=lambda error: (
                error_code(error) in ("ObjectNotFoundException", "ConcurrentUpdateException")
            ),
            backoff=SETTLE,
            clock=ctx.clock,
        )


def _explained(change: FieldChange) -> FieldChange:
    """Say why a region has more than one policy, or one it did not ask for."""
    note = (
        "removes the duplicate target-tracking policies (DynamoDB copies the primary's write "
        "scaling to each replica; one policy per dimension is kept)"
        if (change.old or 0) > 1
        else "adds the target-tracking policy"
    )
    return FieldChange(change.field, change.old, change.new, note)


def _tracking_policies(
    policies: list[dict[str, Any]], dimension: str, metric: str, stack: str, label: str
) -> list[dict[str, Any]]:
    """Every target-tracking policy on the dimension's metric, the one to keep first: ours,
    else the one DynamoDB put there (a replica's inherited policy)."""
    matching = [
        p
        for p in policies
        if p.get("ScalableDimension") == dimension
        and p.get("PolicyType") == "TargetTrackingScaling"
        and (p.get("TargetTrackingScalingPolicyConfiguration") or {})
        .get("PredefinedMetricSpecification", {})
        .get("PredefinedMetricType")
        == metric
    ]
    ours = [p for p in matching if p.get("PolicyName") == policy_name(stack, label)]
    return ours[:1] + [p for p in matching if p not in ours[:1]]


def _target_value(policy: dict[str, Any] | None) -> float | None:
    if policy is None:
        return None
    return float(policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"])


def _is_not_found(error: Exception) -> bool:
    # AWS says ObjectNotFoundException; moto says ValidationException "No scalable target found".
    code = error_code(error)
    return code == "ObjectNotFoundException" or (
        code == "ValidationException" and "No scalable target" in str(error)
    )


HANDLER = ScalingHandler()
