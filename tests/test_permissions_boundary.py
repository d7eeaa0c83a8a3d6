"""`iam.permissions_boundary`: every role the stack creates carries it, and the operator
policy lets its holder create or write a role only with it (no escalation through the
stack's roles), enforced by the sandbox as IAM does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from failover_cli.sandbox.iam_policy import Policy
from tests.conftest import SandboxProcess
from tests.e2e_helpers import failover, write_config
from tests.readme_policy import generated_policy, write
from tests.test_sandbox_policy_lifecycle import ADMIN_KEY, admin
from tests.test_status_helpers import use_sandbox

ACCOUNT = "123456789012"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/failover-boundary"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
EVERYTHING = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def bounded(folder: Path, stack: str, boundary: str = BOUNDARY) -> Path:
    return write_config(folder, stack, f"iam:\n  permissions_boundary: {boundary}\n")


def test_validate_names_the_boundary_and_refuses_what_is_not_a_policy_arn(tmp_path: Path) -> None:
    run = failover(bounded(tmp_path, "shop"), "validate")
    assert run.exit_code == 0, run.stderr
    assert f"every role carries the boundary {BOUNDARY}" in run.stdout
    run = failover(bounded(tmp_path, "shop", "arn:aws:iam::123456789012:role/admin"), "validate")
    assert run.exit_code == 2
    assert "iam.permissions_boundary" in run.stderr and "policy ARN" in run.stderr


@pytest.mark.parametrize("scoped", [(), ("--stack-scoped",)])
def test_the_policy_gives_roles_permissions_only_with_the_boundary(
    tmp_path: Path, scoped: tuple[str, ...]
) -> None:
    document = generated_policy(bounded(tmp_path, "shop"), *scoped)
    policy = Policy.parse(json.dumps(document))
    role = f"arn:aws:iam::{ACCOUNT}:role/shop-function"
    with_it = {"iam:PermissionsBoundary": BOUNDARY}
    other = {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/wide-open"}
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"):
        assert policy.allows(action, role, with_it), action
        assert not policy.allows(action, role, other), action
        assert not policy.allows(action, role, {}), action  # no boundary at all
    granted = {a for s in document["Statement"] for a in _listed(s["Action"])}
    assert "iam:DeleteRolePermissionsBoundary" not in granted  # it would lift the cap
    assert policy.allows("iam:DeleteRolePolicy", role)  # removing is no escalation


def _listed(actions: str | list[str]) -> list[str]:
    return [actions] if isinstance(actions, str) else actions


@pytest.mark.sandbox
@pytest.mark.parametrize("scoped", [(), ("--stack-scoped",)])
def test_under_the_bounded_policy_roles_exist_only_with_the_boundary(
    launch_sandbox: Callable[..., SandboxProcess],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    scoped: tuple[str, ...],
) -> None:
    stack = f"b{uuid.uuid4().hex[:8]}"
    config = bounded(tmp_path, stack)
    policy = write(tmp_path, generated_policy(config, *scoped))
    endpoint = use_sandbox(monkeypatch, launch_sandbox("--enforce-policy", str(policy)))
    admin("iam", endpoint).create_policy(PolicyName="failover-boundary", PolicyDocument=EVERYTHING)
    operator = boto3.client("iam", "us-east-1", endpoint_url=endpoint)
    role = f"{stack}-function"
    with pytest.raises(ClientError) as raised:  # a role without the boundary
        operator.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    admin("iam", endpoint).create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError):  # a policy into the role while it carries none
        operator.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=EVERYTHING)
    admin("iam", endpoint).delete_role(RoleName=role)
    try:
        run = failover(config, "up")
        assert run.exit_code == 0, run.stderr
        found = admin("iam", endpoint).get_role(RoleName=role)["Role"]
        assert found["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY
        doctor = failover(config, "doctor", "--json")
        checks = {c["check"]: c for c in json.loads(doctor.stdout)["checks"]}
        assert checks["permissions boundary"]["verdict"] == "ok", checks["permissions boundary"]
        assert checks["permissions"]["verdict"] == "ok", checks["permissions"]
        assert failover(config, "down", "--yes").exit_code == 0
    finally:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ADMIN_KEY)
        failover(config, "down", "--yes")


@pytest.mark.sandbox
def test_up_sets_the_boundary_on_a_role_made_before_and_removes_it_when_unset(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stack = f"b{uuid.uuid4().hex[:8]}"
    (tmp_path / "plain").mkdir()
    plain = write_config(tmp_path / "plain", stack)
    config = bounded(tmp_path, stack)
    endpoint = use_sandbox(monkeypatch, launch_sandbox())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ADMIN_KEY)
    admin("iam", endpoint).create_policy(PolicyName="failover-boundary", PolicyDocument=EVERYTHING)
    role = f"{stack}-function"
    try:
        assert failover(plain, "up").exit_code == 0
        plan = failover(config, "plan")
        assert "boundary" in plan.stdout + plan.stderr, plan.stderr
        assert failover(config, "up").exit_code == 0
        found = admin("iam", endpoint).get_role(RoleName=role)["Role"]
        assert found["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY
        assert failover(plain, "up").exit_code == 0
        assert "PermissionsBoundary" not in admin("iam", endpoint).get_role(RoleName=role)["Role"]
    finally:
        failover(config, "down", "--yes")
