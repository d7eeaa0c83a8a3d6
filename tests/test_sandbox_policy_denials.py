"""`failover sandbox --enforce-policy`: refusals in each service's shape, and the implicit needs.

Each AccessDenied must reach the tool as botocore would raise it from AWS, so the
tool's one error paragraph names the IAM action. And the operator policy `failover
iam-policy` prints, minus one action that a call needs only implicitly, must stop the
command that needs it with that action in its message (the full life cycle under the
intact policy is tests/test_sandbox_policy_lifecycle.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from failover_cli.aws.errors import translate
from tests.conftest import SandboxProcess
from tests.e2e_helpers import failover, write_config
from tests.readme_policy import generated_policy, without, write
from tests.test_sandbox_policy_lifecycle import ADMIN_KEY, EMAIL, admin
from tests.test_status_helpers import use_sandbox

pytestmark = pytest.mark.sandbox

EAST, WEST = "us-east-1", "us-west-2"
ROLE = "arn:aws:iam::123456789012:role/hello-function"
# Allows only reading one function, and DynamoDB in us-east-1 only.
NARROW = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "dynamodb:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": EAST}},
        },
    ],
}
# One call per service the tool uses, none of which NARROW allows.
CALLS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("iam", "iam:GetRole", lambda c: c.get_role(RoleName="hello-function")),
    (
        "dynamodb",
        "dynamodb:DescribeTable",
        lambda c: boto3.client("dynamodb", WEST, endpoint_url=c.meta.endpoint_url).describe_table(
            TableName="t"
        ),
    ),
    (
        "application-autoscaling",
        "application-autoscaling:DescribeScalableTargets",
        lambda c: c.describe_scalable_targets(ServiceNamespace="dynamodb"),
    ),
    ("logs", "logs:DescribeLogGroups", lambda c: c.describe_log_groups()),
    (
        "lambda",
        "lambda:ListTags",
        lambda c: c.list_tags(Resource="arn:aws:lambda:us-east-1:123456789012:function:f"),
    ),
    ("apigateway", "apigateway:GET", lambda c: c.get_rest_apis()),
    ("acm", "acm:ListCertificates", lambda c: c.list_certificates()),
    ("route53", "route53:ListHealthChecks", lambda c: c.list_health_checks()),
    (
        "sns",
        "sns:ListSubscriptionsByTopic",
        lambda c: c.list_subscriptions_by_topic(TopicArn="arn:aws:sns:us-east-1:123456789012:t"),
    ),
    ("cloudwatch", "cloudwatch:DescribeAlarms", lambda c: c.describe_alarms()),
]


@pytest.fixture
def narrow(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    sandbox = launch_sandbox("--enforce-policy", str(write(tmp_path, NARROW)))
    return use_sandbox(monkeypatch, sandbox)


def test_each_service_refuses_in_its_own_shape_naming_the_action(narrow: str) -> None:
    for service, action, call in CALLS:
        with pytest.raises(ClientError) as raised:
            call(boto3.client(service, EAST, endpoint_url=narrow))
        error = translate(raised.value, region=EAST, service=service)
        assert error is not None, service
        assert f"lacks the IAM permission {action}" in error.render(), (service, error.render())
    # GetCallerIdentity needs no permission, on AWS as here.
    assert boto3.client("sts", EAST, endpoint_url=narrow).get_caller_identity()["Account"]


def test_get_function_without_list_tags_answers_tags_error_and_no_tags(narrow: str) -> None:
    name = f"f{uuid.uuid4().hex[:8]}"
    admin("iam", narrow).create_role(RoleName="hello-function", AssumeRolePolicyDocument="{}")
    admin("lambda", narrow).create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=ROLE,
        Handler="h.h",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Tags={"failover:stack": "s"},
    )
    answer = boto3.client("lambda", EAST, endpoint_url=narrow).get_function(FunctionName=name)
    assert "Tags" not in answer
    assert answer["TagsError"]["ErrorCode"] == "AccessDeniedException"
    assert "lambda:ListTags" in answer["TagsError"]["Message"]


def test_adding_a_replica_needs_the_destination_regions_actions(narrow: str) -> None:
    dynamo = boto3.client("dynamodb", EAST, endpoint_url=narrow)
    table = f"t{uuid.uuid4().hex[:8]}"
    dynamo.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    with pytest.raises(ClientError) as raised:
        dynamo.update_table(TableName=table, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])
    message = raised.value.response["Error"]["Message"]
    assert "dynamodb:CreateTable" in message and f"replica in {WEST}" in message
    assert "Replicas" not in dynamo.describe_table(TableName=table)["Table"]


def test_a_policy_the_sandbox_cannot_evaluate_is_refused_at_start(
    launch_sandbox: Callable[..., SandboxProcess], tmp_path: Path
) -> None:
    document = {
        "Statement": {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}},
        }
    }
    sandbox = launch_sandbox("--enforce-policy", str(write(tmp_path, document)))
    assert sandbox.process.wait(timeout=30) == 2
    assert "IpAddress" in sandbox.stderr() and "Traceback" not in sandbox.stderr()


@pytest.mark.parametrize(
    ("missing", "extra"),
    [
        ("dynamodb:BatchWriteItem", ""),  # the replica's region, needed by UpdateTable
        ("iam:CreateServiceLinkedRole", ""),  # AWS creates the replication role
        ("lambda:TagResource", ""),  # CreateFunction with Tags
        # Subscribe answers an ARN even while pending: its state is read with this.
        ("sns:GetSubscriptionAttributes", f"alarms:\n  email: {EMAIL}\n"),
    ],
)
def test_up_without_an_implicitly_needed_action_stops_naming_it(
    launch_sandbox: Callable[..., SandboxProcess],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    missing: str,
    extra: str,
) -> None:
    config = write_config(tmp_path, f"d{uuid.uuid4().hex[:8]}", extra)
    policy = write(tmp_path, without(generated_policy(config), missing))
    use_sandbox(monkeypatch, launch_sandbox("--enforce-policy", str(policy)))
    run = failover(config, "up")
    assert run.exit_code == 1, run.stderr
    assert missing in run.stderr, run.stderr
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ADMIN_KEY)
    assert failover(config, "down", "--yes").exit_code == 0


def test_down_without_list_tags_stops_naming_it_and_leaves_the_functions(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = f"d{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path, name)
    policy = write(tmp_path, without(generated_policy(config), "lambda:ListTags"))
    endpoint = use_sandbox(monkeypatch, launch_sandbox("--enforce-policy", str(policy)))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ADMIN_KEY)
    assert failover(config, "up").exit_code == 0
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    run = failover(config, "down", "--yes")
    assert run.exit_code == 1, run.stderr
    assert "lambda:ListTags" in run.stderr
    for region in (EAST, WEST):  # left in place and said so, not silently skipped
        assert admin("lambda", endpoint, region).get_function(FunctionName=f"{name}-fn")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ADMIN_KEY)
    assert failover(config, "down", "--yes").exit_code == 0


@pytest.mark.parametrize("scoped", [(), ("--stack-scoped",)])
def test_the_operator_policy_cannot_write_into_a_role_not_named_for_the_stack(
    launch_sandbox: Callable[..., SandboxProcess],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    scoped: tuple[str, ...],
) -> None:
    """Privilege escalation through the operator policy: `*:*` written into another role."""
    name = f"e{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path, name)
    policy = write(tmp_path, generated_policy(config, *scoped))
    endpoint = use_sandbox(monkeypatch, launch_sandbox("--enforce-policy", str(policy)))
    trust = '{"Version": "2012-10-17", "Statement": []}'
    for role in ("admin", f"{name}-function"):
        admin("iam", endpoint).create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    everything = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    )
    operator = boto3.client("iam", EAST, endpoint_url=endpoint)
    for call in (
        lambda: operator.put_role_policy(
            RoleName="admin", PolicyName="p", PolicyDocument=everything
        ),
        lambda: operator.update_assume_role_policy(RoleName="admin", PolicyDocument=trust),
        lambda: operator.create_role(RoleName=f"{name}-other", AssumeRolePolicyDocument=trust),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert not admin("iam", endpoint).list_role_policies(RoleName="admin")["PolicyNames"]
    # the stack's own role stays writable: `up` needs it
    operator.put_role_policy(RoleName=f"{name}-function", PolicyName="p", PolicyDocument=everything)


def test_stack_scoped_cannot_touch_another_names_records_or_certificates(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = f"e{uuid.uuid4().hex[:8]}"
    zone = f"{name}.test"
    config = write_config(tmp_path, name, f"domain: {{name: app.{zone}, hosted_zone: {zone}}}\n")
    policy = write(tmp_path, generated_policy(config, "--stack-scoped"))
    endpoint = use_sandbox(monkeypatch, launch_sandbox("--enforce-policy", str(policy)))
    zone_id = admin("route53", endpoint).create_hosted_zone(Name=zone, CallerReference=name)[
        "HostedZone"
    ]["Id"]
    operator = boto3.client("route53", EAST, endpoint_url=endpoint)

    def upsert(record: str) -> None:
        change = {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": record,
                "Type": "TXT",
                "TTL": 60,
                "ResourceRecords": [{"Value": '"x"'}],
            },
        }
        operator.change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Changes": [change]}
        )

    upsert(f"_0a1b.app.{zone}")  # the certificate's validation record: the stack's
    for foreign in (zone, f"mail.{zone}", f"www.app.{zone}"):
        with pytest.raises(ClientError) as raised:
            upsert(foreign)
        assert raised.value.response["Error"]["Code"] == "AccessDenied", foreign
    acm = admin("acm", endpoint)
    theirs = acm.request_certificate(
        DomainName=f"other.{zone}",
        ValidationMethod="DNS",
        Tags=[{"Key": "failover:stack", "Value": "payroll"}],
    )["CertificateArn"]
    with pytest.raises(ClientError) as raised:
        boto3.client("acm", EAST, endpoint_url=endpoint).delete_certificate(CertificateArn=theirs)
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert acm.describe_certificate(CertificateArn=theirs)["Certificate"]


def test_stack_scoped_cannot_write_another_owners_rest_api_or_domain(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """API Gateway's writes are narrowed by the stack's tag: another owner's REST API (its
    settings, its deployments) and domain name are out of reach, and nothing is
    created without the stack's tag; the stack's own API stays writable."""
    name = f"e{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path, name)
    policy = write(tmp_path, generated_policy(config, "--stack-scoped"))
    endpoint = use_sandbox(monkeypatch, launch_sandbox("--enforce-policy", str(policy)))
    owner = admin("apigateway", endpoint)
    theirs = owner.create_rest_api(name="payroll", tags={"failover:stack": "payroll"})["id"]
    untagged = owner.create_rest_api(name="legacy")["id"]
    domain = f"api.{name}.test"
    owner.create_domain_name(domainName=domain, tags={"failover:stack": "payroll"})
    operator = boto3.client("apigateway", EAST, endpoint_url=endpoint)
    change = [{"op": "replace", "path": "/description", "value": "mine now"}]
    refused = [
        lambda: operator.update_rest_api(restApiId=theirs, patchOperations=change),
        lambda: operator.update_rest_api(restApiId=untagged, patchOperations=change),
        lambda: operator.create_deployment(restApiId=theirs, stageName="prod"),
        lambda: operator.delete_rest_api(restApiId=theirs),
        lambda: operator.delete_domain_name(domainName=domain),
        lambda: operator.create_rest_api(name=name),  # untagged: could not be told apart
        lambda: operator.create_rest_api(name=name, tags={"failover:stack": "payroll"}),
    ]
    for call in refused:
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert {a["id"] for a in owner.get_rest_apis()["items"]} == {theirs, untagged}
    assert operator.get_rest_api(restApiId=theirs)["name"] == "payroll"  # reads stay open
    ours = operator.create_rest_api(name=name, tags={"failover:stack": name})["id"]
    operator.update_rest_api(restApiId=ours, patchOperations=change)
    operator.delete_rest_api(restApiId=ours)


def test_stack_scoped_cannot_remove_or_retag_another_stacks_scalable_target(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Application Auto Scaling's writes reach the stack's tagged targets only, and a target
    already tagged for another stack cannot be re-tagged ours (then removed)."""
    name = f"e{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path, name)
    policy = write(tmp_path, generated_policy(config, "--stack-scoped"))
    endpoint = use_sandbox(monkeypatch, launch_sandbox("--enforce-policy", str(policy)))
    owner = admin("application-autoscaling", endpoint)
    dimension = "dynamodb:table:ReadCapacityUnits"
    target = {"ServiceNamespace": "dynamodb", "ScalableDimension": dimension}
    owner.register_scalable_target(
        **target, ResourceId="table/payroll", MinCapacity=1, MaxCapacity=5,
        Tags={"failover:stack": "payroll"},
    )  # fmt: skip
    arn = owner.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"][0][
        "ScalableTargetARN"
    ]
    operator = boto3.client("application-autoscaling", EAST, endpoint_url=endpoint)
    for call in (
        lambda: operator.deregister_scalable_target(**target, ResourceId="table/payroll"),
        lambda: operator.delete_scaling_policy(
            PolicyName="p", **target, ResourceId="table/payroll"
        ),
        lambda: operator.tag_resource(ResourceARN=arn, Tags={"failover:stack": name}),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert owner.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
