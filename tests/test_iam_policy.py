"""`failover iam-policy`: a valid document, derived from the call registry, offline.

The proof that every call the tool makes is allowed is the sandbox life cycle
(tests/test_sandbox_policy_lifecycle.py); here: the document's shape, the scoping
of the dangerous actions, the narrower per-command policies, the copy in docs/iam.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from failover_cli.cli.main import COMMANDS as CLI_COMMANDS
from failover_cli.permissions.calls import COMMANDS, IMPLIED, OFFLINE, action_of
from failover_cli.sandbox.iam_policy import Policy
from tests.e2e_helpers import failover, write_config
from tests.readme_policy import actions, generated_policy, readme_policy

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config.example.yaml"
MUTATING_PREFIXES = ("Create", "Delete", "Update", "Put", "Tag", "Add", "Remove", "Register")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path, "shop", "domain: {name: app.example.com, hosted_zone: example.com}\n"
    )


def statements_naming(document: dict[str, Any], action: str) -> list[dict[str, Any]]:
    found = []
    for statement in document["Statement"]:
        listed = statement["Action"]
        if action in ([listed] if isinstance(listed, str) else listed):
            found.append(statement)
    return found


def test_the_readme_shows_the_policy_printed_for_the_example_config() -> None:
    printed = generated_policy(EXAMPLE)
    assert readme_policy() == printed, (
        "docs/iam.md's IAM block differs from `failover iam-policy`: regenerate it with "
        "`failover --config config.example.yaml iam-policy` and paste the output into "
        "the ```json block of docs/iam.md"
    )


@pytest.mark.parametrize("scoped", [(), ("--stack-scoped",)])
def test_the_policy_is_a_valid_document_the_sandbox_evaluates(
    config: Path, scoped: tuple[str, ...]
) -> None:
    document = generated_policy(config, *scoped)
    assert document["Version"] == "2012-10-17"
    Policy.parse(json.dumps(document))  # refuses what IAM (or its evaluator) would not take
    sids = [s["Sid"] for s in document["Statement"]]
    assert len(sids) == len(set(sids)), sids
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"]
        for action in [listed] if isinstance(listed, str) else listed:
            assert "*" not in action, f"a wildcard action: {action}"


@pytest.mark.parametrize("scoped", [(), ("--stack-scoped",)])
def test_pass_role_names_the_function_role_only_and_only_to_lambda(
    config: Path, scoped: tuple[str, ...]
) -> None:
    document = generated_policy(config, *scoped)
    (statement,) = statements_naming(document, "iam:PassRole")
    assert statement["Action"] == "iam:PassRole"  # alone in its statement
    assert statement["Resource"] == "arn:aws:iam::*:role/shop-function"
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
    }
    policy = Policy.parse(json.dumps(document))
    to_lambda = {"iam:PassedToService": "lambda.amazonaws.com"}
    assert policy.allows("iam:PassRole", "arn:aws:iam::123456789012:role/shop-function", to_lambda)
    assert not policy.allows("iam:PassRole", "arn:aws:iam::123456789012:role/admin", to_lambda)
    to_ec2 = {"iam:PassedToService": "ec2.amazonaws.com"}
    assert not policy.allows("iam:PassRole", "arn:aws:iam::123456789012:role/shop-function", to_ec2)


def test_service_linked_roles_only_for_replication_and_auto_scaling(config: Path) -> None:
    (statement,) = statements_naming(generated_policy(config), "iam:CreateServiceLinkedRole")
    assert statement["Condition"] == {
        "StringEquals": {
            "iam:AWSServiceName": [
                "dynamodb.application-autoscaling.amazonaws.com",
                "replication.dynamodb.amazonaws.com",
            ]
        }
    }


def test_the_non_obvious_actions_are_granted(config: Path) -> None:
    granted = actions(generated_policy(config))
    replica_region = {"dynamodb:CreateTableReplica", "dynamodb:BatchWriteItem"}
    assert replica_region | {"route53:GetChange", "lambda:ListTags"} <= granted
    assert {"apigateway:GET", "apigateway:POST", "apigateway:DELETE"} <= granted
    assert not any(
        a.startswith("apigateway:")
        and a.split(":")[1] not in ("GET", "POST", "PUT", "PATCH", "DELETE")
        for a in granted
    )


def test_stack_scoped_names_the_stacks_resources(config: Path) -> None:
    policy = Policy.parse(json.dumps(generated_policy(config, "--stack-scoped")))
    account, east = "123456789012", "us-east-1"
    mine = f"arn:aws:lambda:{east}:{account}:function:shop-fn"
    other = f"arn:aws:lambda:{east}:{account}:function:payroll"
    assert policy.allows("lambda:UpdateFunctionConfiguration", mine)
    assert not policy.allows("lambda:UpdateFunctionConfiguration", other)
    table = f"arn:aws:dynamodb:us-west-2:{account}:table/shop.Hello"
    assert policy.allows("dynamodb:DeleteTable", table)
    assert not policy.allows("dynamodb:DeleteTable", table.replace("shop.Hello", "orders"))
    assert not policy.allows("iam:DeleteRole", f"arn:aws:iam::{account}:role/admin")
    api = f"arn:aws:apigateway:{east}::/restapis/a1b2c3"
    ours = {"aws:ResourceTag/failover:stack": "shop"}
    assert policy.allows("apigateway:DELETE", api, ours)
    assert not policy.allows("apigateway:DELETE", api)  # another owner's, or untagged
    assert not policy.allows("apigateway:DELETE", api, {"aws:ResourceTag/failover:stack": "x"})
    assert policy.allows("apigateway:GET", api)  # reads stay open: look-alikes are seen
    assert not policy.allows("apigateway:DELETE", f"arn:aws:apigateway:{east}::/usageplans/x", ours)
    alarm = f"arn:aws:cloudwatch:{east}:{account}:alarm:shop-us-west-2-health"
    assert policy.allows("cloudwatch:DeleteAlarms", alarm)
    assert not policy.allows("cloudwatch:DeleteAlarms", alarm.replace("shop", "payroll"))
    # a region the config no longer names is still cleaned up
    assert policy.allows("lambda:DeleteFunction", mine.replace(east, "eu-west-1"))


def test_read_only_commands_get_no_mutating_action(config: Path) -> None:
    for command in ("status", "plan", "gc-logs", "logs"):
        granted = actions(generated_policy(config, "--command", command))
        names = [a.split(":")[1] for a in granted if not a.startswith("apigateway:")]
        writes = [n for n in names if n.startswith(MUTATING_PREFIXES)]
        if command == "gc-logs":
            assert writes == ["DeleteLogStream"]
        else:
            assert not writes, (command, writes)
        assert "iam:PassRole" not in granted
        assert not {"apigateway:POST", "apigateway:DELETE"} & granted


def test_force_fail_and_drill_may_write_the_switch_in_every_replica_and_nothing_else(
    config: Path,
) -> None:
    for command in ("force-fail", "drill"):
        granted = actions(generated_policy(config, "--command", command))
        assert {"dynamodb:GetItem", "dynamodb:UpdateItem"} <= granted
        policy = generated_policy(config, "--command", command, "--stack-scoped")
        writes = [
            s
            for s in policy["Statement"]
            if "dynamodb:UpdateItem" in s["Action"] or s["Action"] == "dynamodb:UpdateItem"
        ]
        # The table in every region: the write goes to whichever replica answers first.
        assert writes and all(":dynamodb:*:" in str(s["Resource"]) for s in writes), writes
        assert (
            not {
                "iam:PassRole",
                "lambda:UpdateFunctionConfiguration",
                "lambda:DeleteFunction",
                "lambda:UpdateFunctionCode",
                "route53:UpdateHealthCheck",
            }
            & granted
        )
    assert "dynamodb:GetItem" in actions(generated_policy(config, "--command", "status"))


def test_commands_add_up_and_the_default_is_all_of_them(config: Path) -> None:
    union = set()
    for command in COMMANDS:
        union |= actions(generated_policy(config, "--command", command))
    assert union == actions(generated_policy(config))
    both = actions(generated_policy(config, "--command", "status", "--command", "force-fail"))
    assert both == actions(generated_policy(config, "--command", "status")) | actions(
        generated_policy(config, "--command", "force-fail")
    )


def test_without_a_domain_a_former_one_can_be_deleted_but_none_created(tmp_path: Path) -> None:
    granted = actions(generated_policy(write_config(tmp_path, "plain")))
    assert {"acm:DeleteCertificate", "route53:ChangeResourceRecordSets"} <= granted
    assert not {"acm:RequestCertificate", "acm:AddTagsToCertificate"} & granted
    assert "route53:CreateHealthCheck" in granted
    status = actions(generated_policy(write_config(tmp_path, "plain"), "--command", "status"))
    assert "route53:TestDNSAnswer" not in status  # status reads no DNS answer without a domain


def test_every_registered_call_is_a_real_operation() -> None:
    session = botocore.session.get_session()
    for command, groups in COMMANDS.items():
        for group in groups:
            for service, operation in group.calls:
                model = session.get_service_model(service)
                assert operation in model.operation_names, (command, service, operation)
    for service, operation in IMPLIED:
        assert operation in session.get_service_model(service).operation_names
    assert action_of("apigateway", "UpdateStage") == "apigateway:PATCH"
    assert action_of("apigateway", "TagResource") == "apigateway:PUT"


def test_every_cli_command_is_registered_or_offline() -> None:
    """A new command that calls AWS must add its calls to the registry (its policy)."""
    unknown = set(CLI_COMMANDS) - set(COMMANDS) - OFFLINE
    assert not unknown, f"add these commands' calls to failover_cli/permissions/calls.py: {unknown}"


def test_an_unknown_command_is_refused(config: Path) -> None:
    run = failover(config, "iam-policy", "--command", "deploy")
    assert run.exit_code == 2
    assert "deploy" in run.stderr and not run.stdout


def test_a_bad_config_is_refused_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "failover.yaml"
    bad.write_text("stack: Bad_Name\nregions: [us-east-1, us-west-2]\n")
    run = failover(bad, "iam-policy")
    assert run.exit_code == 2 and not run.stdout


@pytest.mark.parametrize("scoped", [(), ("--stack-scoped",)])
def test_iam_writes_name_the_stacks_own_roles_only(tmp_path: Path, scoped: tuple[str, ...]) -> None:
    """No IAM write on "*": its holder would write `*:*` into its own role in one call."""
    access = "access: {allow: [route53-health-checkers], auto_refresh: true}\n"
    document = generated_policy(write_config(tmp_path, "shop", access), *scoped)
    policy = Policy.parse(json.dumps(document))
    account = "123456789012"
    iam_actions = sorted(a for a in actions(document) if a.startswith("iam:"))
    assert {"iam:PutRolePolicy", "iam:CreateRole", "iam:DeleteRole"} <= set(iam_actions)
    for action in iam_actions:
        if action == "iam:SimulatePrincipalPolicy":  # a read, of the caller's own policy
            continue
        context = {
            "iam:PassedToService": "lambda.amazonaws.com",
            "iam:AWSServiceName": "replication.dynamodb.amazonaws.com",
        }
        for other in ("admin", "shop-functions", "payroll-function", "aws-service-role/x/admin"):
            arn = f"arn:aws:iam::{account}:role/{other}"
            assert not policy.allows(action, arn, context), (action, other)
        if action not in ("iam:PassRole", "iam:CreateServiceLinkedRole"):
            for own in ("shop-function", "shop-ip-ranges"):
                assert policy.allows(action, f"arn:aws:iam::{account}:role/{own}"), (action, own)


@pytest.mark.parametrize("scoped", [(), ("--stack-scoped",)])
def test_auto_scaling_alarms_are_granted_in_every_table_region(
    config: Path, scoped: tuple[str, ...]
) -> None:
    """Application Auto Scaling checks the caller may manage its target-tracking alarms."""
    for command in ((), ("--command", "up")):
        policy = Policy.parse(json.dumps(generated_policy(config, *scoped, *command)))
        for region in ("us-east-1", "us-west-2", "eu-west-1"):
            alarm = (
                f"arn:aws:cloudwatch:{region}:123456789012:alarm:"
                "TargetTracking-table/shop.Hello-AlarmHigh-00000000-0000-4000-8000-000000000000"
            )
            for action in ("PutMetricAlarm", "DescribeAlarms", "DeleteAlarms"):
                assert policy.allows(f"cloudwatch:{action}", alarm), (region, action, command)
            if scoped:
                other = alarm.replace("shop.Hello", "orders")
                assert not policy.allows("cloudwatch:DeleteAlarms", other)


def test_stack_scoped_records_and_certificates_are_the_stacks_own(
    config: Path, tmp_path: Path
) -> None:
    """Route 53 writes only the domain's names (and its validation records'); ACM deletes
    only certificates tagged with the stack."""
    policy = Policy.parse(json.dumps(generated_policy(config, "--stack-scoped")))
    zone = "arn:aws:route53:::hostedzone/Z123"
    key = "route53:ChangeResourceRecordSetsNormalizedRecordNames"

    def change(*names: str, actions: tuple[str, ...] = ("UPSERT",)) -> bool:
        context = {key: names, "route53:ChangeResourceRecordSetsActions": actions}
        return policy.allows("route53:ChangeResourceRecordSets", zone, context)

    assert change("app.example.com", "_0a1b.app.example.com")
    assert not change("example.com")  # the zone's apex: someone else's
    assert not change("app.example.com", "mail.example.com")  # one foreign name in the batch
    assert not change("www.app.example.com")
    certificate = "arn:aws:acm:us-east-1:123456789012:certificate/1234"
    assert policy.allows(
        "acm:DeleteCertificate", certificate, {"aws:ResourceTag/failover:stack": "shop"}
    )
    assert not policy.allows(
        "acm:DeleteCertificate", certificate, {"aws:ResourceTag/failover:stack": "payroll"}
    )
    assert not policy.allows("acm:DeleteCertificate", certificate, {})
    # Without a domain, a former domain's records may only be deleted.
    plain = Policy.parse(
        json.dumps(generated_policy(write_config(tmp_path, "plain"), "--stack-scoped"))
    )
    deleting = {key: ("old.example.com",), "route53:ChangeResourceRecordSetsActions": ("DELETE",)}
    assert plain.allows("route53:ChangeResourceRecordSets", zone, deleting)
    creating = {**deleting, "route53:ChangeResourceRecordSetsActions": ("DELETE", "CREATE")}
    assert not plain.allows("route53:ChangeResourceRecordSets", zone, creating)
