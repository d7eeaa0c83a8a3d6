"""IAM role handler against moto: least privilege, converged, drift removed, deleted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import GLOBAL, Spec
from failover_cli.errors import ConflictError
from failover_cli.resources.role import HANDLER, canonical_policy, desired
from tests.engine_helpers import context, make_config

ROLE = "hello-function"
ACCOUNT = "123456789012"  # moto's account


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _spec() -> Spec:
    (spec,) = desired(DesiredInputs(make_config(), "secret", None))  # type: ignore[arg-type]
    return spec


def _inline_policy() -> dict[str, Any]:
    iam = boto3.client("iam", "us-east-1")
    document: dict[str, Any] = iam.get_role_policy(RoleName=ROLE, PolicyName=ROLE)["PolicyDocument"]
    return document


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_desired_is_one_global_role_named_after_the_stack() -> None:
    spec = _spec()
    assert (spec.kind, spec.region, spec.name) == ("role", GLOBAL, ROLE)
    assert spec.depends_on == ()


def test_policy_grants_only_get_item_on_the_tables_and_log_writes_on_the_groups(
    aws: None,
) -> None:
    with context() as (ctx, _):
        HANDLER.create(ctx, _spec())
    grants = {
        (tuple(sorted(s["Action"])), tuple(sorted(s["Resource"])), s["Effect"])
        for s in _inline_policy()["Statement"]
    }
    assert grants == {
        (
            ("dynamodb:GetItem",),
            (
                f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/prod.Hello",
                f"arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/prod.Hello",
            ),
            "Allow",
        ),
        (
            ("logs:CreateLogStream", "logs:PutLogEvents"),
            (
                f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/thelambda:*",
                f"arn:aws:logs:us-west-2:{ACCOUNT}:log-group:/aws/lambda/thelambda:*",
            ),
            "Allow",
        ),
    }
    iam = boto3.client("iam", "us-east-1")
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == [ROLE]
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert _as_list(statement["Principal"]["Service"]) == ["lambda.amazonaws.com"]
    assert _as_list(statement["Action"]) == ["sts:AssumeRole"]


def test_create_then_observe_shows_no_diff(aws: None) -> None:
    with context() as (ctx, _):
        spec = _spec()
        assert not HANDLER.observe(ctx, spec).exists
        HANDLER.create(ctx, spec)
        seen = HANDLER.observe(ctx, spec)
    assert seen.exists and seen.owned
    assert HANDLER.diff(spec, seen) == []


def test_observe_makes_no_mutating_call(aws: None) -> None:
    with context() as (ctx, recorder):
        HANDLER.create(ctx, _spec())
        recorder.calls.clear()
        HANDLER.observe(ctx, _spec())
    assert recorder.calls and recorder.mutating == []


def test_same_policy_written_differently_is_no_difference() -> None:
    ours = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["b:X", "a:Y"], "Resource": ["r2", "r1"]},
            {"Effect": "Allow", "Action": "c:Z", "Resource": "r3"},
        ],
    }
    theirs = {
        "Statement": [
            {"Resource": ["r3"], "Action": ["c:Z"], "Effect": "Allow"},
            {"Action": ["a:Y", "b:X"], "Effect": "Allow", "Resource": ["r1", "r2"]},
        ],
        "Version": "2012-10-17",
    }
    url_encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"
    assert canonical_policy(ours) == canonical_policy(theirs)
    assert canonical_policy(url_encoded) == canonical_policy(
        {"Version": "2012-10-17", "Statement": []}
    )
    assert canonical_policy(ours) != canonical_policy({**ours, "Statement": ours["Statement"][:1]})


def test_drift_is_an_update_that_converges_and_strips_extra_grants(aws: None) -> None:
    iam = boto3.client("iam", "us-east-1")
    with context() as (ctx, _):
        spec = _spec()
        HANDLER.create(ctx, spec)
        wide = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        iam.put_role_policy(RoleName=ROLE, PolicyName=ROLE, PolicyDocument=json.dumps(wide))
        iam.put_role_policy(RoleName=ROLE, PolicyName="extra", PolicyDocument=json.dumps(wide))
        managed = iam.create_policy(PolicyName="admin", PolicyDocument=json.dumps(wide))
        iam.attach_role_policy(RoleName=ROLE, PolicyArn=managed["Policy"]["Arn"])
        iam.tag_role(RoleName=ROLE, Tags=[{"Key": "team", "Value": "ops"}])
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert {c.field for c in changes} == {"policy", "extra_policies", "managed_policies"}
        HANDLER.update(ctx, spec, seen, changes)
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == [ROLE]
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    assert all(s["Action"] != "*" for s in _inline_policy()["Statement"])
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=ROLE)["Tags"]}
    assert tags["team"] == "ops"  # hand-added tags are left alone


def test_untagged_look_alike_is_not_owned_and_create_refuses_it(aws: None) -> None:
    iam = boto3.client("iam", "us-east-1")
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=_spec().props.trust_policy)
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, _spec())
        assert seen.exists and not seen.owned
        with pytest.raises(ConflictError):
            HANDLER.create(ctx, _spec())


def test_create_over_an_interrupted_run_converges(aws: None) -> None:
    with context() as (ctx, _):
        spec = _spec()
        HANDLER.create(ctx, spec)
        boto3.client("iam", "us-east-1").delete_role_policy(RoleName=ROLE, PolicyName=ROLE)
        HANDLER.create(ctx, spec)  # as if the first run stopped before the policy
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []


def test_delete_removes_policies_first_and_twice_is_fine(aws: None) -> None:
    iam = boto3.client("iam", "us-east-1")
    with context() as (ctx, _):
        spec = _spec()
        HANDLER.create(ctx, spec)
        read = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
        }
        managed = iam.create_policy(PolicyName="extra", PolicyDocument=json.dumps(read))
        iam.attach_role_policy(RoleName=ROLE, PolicyArn=managed["Policy"]["Arn"])
        seen = HANDLER.observe(ctx, spec)
        HANDLER.delete(ctx, spec, seen)
        HANDLER.delete(ctx, spec, seen)
        assert not HANDLER.observe(ctx, spec).exists
