"""End to end against the sandbox: up -> up (no change) -> plan -> down -> down, checked with boto3.

These are the promises of `up` and `down` a user relies on: the stack really
exists in both regions, re-running `up` changes nothing, and `down` leaves
nothing of the stack behind (and is safe to run twice).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e_helpers import client, failover, unique_stack, write_config

pytestmark = pytest.mark.sandbox
REGIONS = ("us-east-1", "us-west-2")


def _function_env(endpoint: str, region: str, name: str) -> dict[str, str]:
    config = client("lambda", region, endpoint).get_function_configuration(FunctionName=name)
    variables: dict[str, str] = config["Environment"]["Variables"]
    return variables


def _assert_stack_exists(endpoint: str, stack: str) -> None:
    table, function = f"{stack}.Hello", f"{stack}-fn"
    role = client("iam", "us-east-1", endpoint).get_role(RoleName=f"{stack}-function")["Role"]
    assert "lambda.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])

    described = client("dynamodb", "us-east-1", endpoint).describe_table(TableName=table)["Table"]
    assert described["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert [(r["RegionName"], r["ReplicaStatus"]) for r in described["Replicas"]] == [
        ("us-west-2", "ACTIVE")
    ]
    secrets = set()
    for region in REGIONS:
        seed = client("dynamodb", region, endpoint).get_item(
            TableName=table, Key={"HelloKey": {"S": "Hello"}}
        )
        assert seed["Item"]["Hello"] == {"S": "Deep hello from "}, region
        group = client("logs", region, endpoint).describe_log_groups(
            logGroupNamePrefix=f"/aws/lambda/{function}"
        )["logGroups"]
        assert [(g["logGroupName"], g["retentionInDays"]) for g in group] == [
            (f"/aws/lambda/{function}", 1)
        ]
        env = _function_env(endpoint, region, function)
        assert env["TABLE_NAME"] == table and env["FORCE_FAIL"] == "false"
        secrets.add(env["HEALTH_CHECKER_ID"])
        apis = client("apigateway", region, endpoint).get_rest_apis()["items"]
        mine = [a for a in apis if a["name"] == stack]
        assert len(mine) == 1 and mine[0]["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert len(secrets) == 1 and len(secrets.pop()) >= 32  # one strong secret everywhere


def _assert_stack_gone(endpoint: str, stack: str) -> None:
    iam = client("iam", "us-east-1", endpoint)
    assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"] == f"{stack}-function"]
    for region in REGIONS:
        tables = client("dynamodb", region, endpoint).list_tables()["TableNames"]
        assert f"{stack}.Hello" not in tables
        functions = client("lambda", region, endpoint).list_functions()["Functions"]
        assert f"{stack}-fn" not in [f["FunctionName"] for f in functions]
        groups = client("logs", region, endpoint).describe_log_groups(
            logGroupNamePrefix=f"/aws/lambda/{stack}-fn"
        )["logGroups"]
        assert groups == []
        apis = client("apigateway", region, endpoint).get_rest_apis()["items"]
        assert stack not in [a["name"] for a in apis]


def test_up_converges_and_down_removes_everything(sandbox_env: str, tmp_path: Path) -> None:
    stack = unique_stack()
    config = write_config(tmp_path, stack)

    first = failover(config, "up")
    assert first.exit_code == 0, first.stderr
    assert first.mutating, "the first up must create things"
    _assert_stack_exists(sandbox_env, stack)

    again = failover(config, "up")
    assert again.exit_code == 0, again.stderr
    assert again.mutating == []
    assert again.calls, "the second up still observes the stack"

    plan = failover(config, "plan")
    assert plan.exit_code == 0, plan.stderr
    assert "No changes" in plan.stdout

    down = failover(config, "down", "--yes")
    assert down.exit_code == 0, down.stderr
    _assert_stack_gone(sandbox_env, stack)

    again_down = failover(config, "down", "--yes")
    assert again_down.exit_code == 0, again_down.stderr
    assert again_down.mutating == []


def test_plan_on_a_fresh_stack_lists_the_creations_and_exits_3_when_asked(
    sandbox_env: str, tmp_path: Path
) -> None:
    stack = unique_stack()
    plan = failover(write_config(tmp_path, stack), "--json", "plan", "--detailed-exitcode")
    assert plan.exit_code == 3
    assert plan.mutating == []
    changes = json.loads(plan.stdout)["changes"]
    created = {(c["kind"], c["region"]) for c in changes if c["action"] == "create"}
    for region in REGIONS:
        assert ("function", region) in created and ("api", region) in created
    assert ("replica", "us-west-2") in created and ("table", "us-east-1") in created


def test_a_changed_setting_is_an_update_and_converges(sandbox_env: str, tmp_path: Path) -> None:
    stack = unique_stack()
    config = write_config(tmp_path, stack)
    assert failover(config, "up").exit_code == 0
    config.write_text(config.read_text() + "logs:\n  retention_days: 7\n", encoding="utf-8")
    plan = failover(config, "--json", "plan", "--detailed-exitcode")
    assert plan.exit_code == 3
    updates = [c for c in json.loads(plan.stdout)["changes"] if c["action"] == "update"]
    assert {(c["kind"], c["region"]) for c in updates} == {
        ("log_group", "us-east-1"),
        ("log_group", "us-west-2"),
    }
    assert failover(config, "up").exit_code == 0
    assert failover(config, "plan", "--detailed-exitcode").exit_code == 0
    assert failover(config, "down", "--yes").exit_code == 0


def test_down_leaves_an_untagged_look_alike_alone(sandbox_env: str, tmp_path: Path) -> None:
    stack = unique_stack()
    config = write_config(tmp_path, stack)
    logs = client("logs", "us-west-2", sandbox_env)
    logs.create_log_group(logGroupName=f"/aws/lambda/{stack}-fn")  # someone else's, no tags

    up = failover(config, "up")
    assert up.exit_code == 1
    assert "not carry the tags" in up.stderr and "us-west-2" in up.stderr
    assert up.mutating == [], "up refuses before changing anything"

    down = failover(config, "down", "--yes")
    assert down.exit_code == 0, down.stderr
    assert "left alone" in down.stdout
    assert logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{stack}-fn")["logGroups"]
    logs.delete_log_group(logGroupName=f"/aws/lambda/{stack}-fn")


def test_a_missing_hosted_zone_stops_plan_and_up_before_any_change(
    sandbox_env: str, tmp_path: Path
) -> None:
    stack = unique_stack()
    domain = f"{stack}.nozone.test"
    config = write_config(
        tmp_path, stack, f"domain:\n  name: {domain}\n  hosted_zone: nozone.test\n"
    )
    for command in ("plan", "up"):
        run = failover(config, command)
        assert run.exit_code == 2, run.stderr
        assert "nozone.test" in run.stderr and "does not exist" in run.stderr
        assert run.mutating == []
