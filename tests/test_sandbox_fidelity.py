"""Sandbox answers that a resent or torn-down request depends on, as AWS gives them.

- CreateHealthCheck is idempotent on its CallerReference: a request resent after a
  lost answer gets the same check, the reference of a deleted check is refused.
- Deregistering a scalable target deletes its scaling policies.
"""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from tests.e2e_helpers import client

pytestmark = pytest.mark.sandbox


def test_create_health_check_is_idempotent_on_its_caller_reference(sandbox_env: str) -> None:
    r53 = client("route53", "us-east-1", sandbox_env)
    reference = f"fidelity-{uuid.uuid4().hex}"
    settings = {"Type": "HTTPS", "FullyQualifiedDomainName": "example.org", "Port": 443}
    first = r53.create_health_check(CallerReference=reference, HealthCheckConfig=settings)
    again = r53.create_health_check(CallerReference=reference, HealthCheckConfig=settings)
    check_id = first["HealthCheck"]["Id"]
    assert again["HealthCheck"]["Id"] == check_id
    listed = r53.list_health_checks()["HealthChecks"]
    assert [c["Id"] for c in listed if c["CallerReference"] == reference] == [check_id]
    r53.delete_health_check(HealthCheckId=check_id)
    with pytest.raises(ClientError) as refused:
        r53.create_health_check(CallerReference=reference, HealthCheckConfig=settings)
    assert refused.value.response["Error"]["Code"] == "HealthCheckAlreadyExists"


def test_deregistering_a_scalable_target_deletes_its_policies(sandbox_env: str) -> None:
    aas = client("application-autoscaling", "us-west-2", sandbox_env)
    resource = f"table/fidelity-{uuid.uuid4().hex[:8]}"
    target = {
        "ServiceNamespace": "dynamodb",
        "ResourceId": resource,
        "ScalableDimension": "dynamodb:table:ReadCapacityUnits",
    }
    aas.register_scalable_target(**target, MinCapacity=1, MaxCapacity=5)
    aas.put_scaling_policy(
        **target,
        PolicyName="read",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 50.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "DynamoDBReadCapacityUtilization"
            },
        },
    )
    aas.deregister_scalable_target(**target)
    policies = aas.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=resource)
    assert policies["ScalingPolicies"] == []
