"""The sandbox's IAM policy evaluator: the rules `--enforce-policy` holds the operator to."""

from __future__ import annotations

import json
from typing import Any

import pytest

from failover_cli.sandbox.iam_policy import Decision, Policy, PolicyError

ROLE = "arn:aws:iam::123456789012:role/hello-function"


def policy(*statements: dict[str, Any]) -> Policy:
    return Policy.parse(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_nothing_is_allowed_unless_a_statement_allows_it() -> None:
    granted = policy(allow(["dynamodb:GetItem", "dynamodb:PutItem"]))
    assert granted.allows("dynamodb:GetItem")
    assert granted.decide("dynamodb:DeleteItem") is Decision.NOT_ALLOWED


def test_actions_match_case_insensitively_with_wildcards() -> None:
    granted = policy(allow(["lambda:Get*", "sns:?nsubscribe"]))
    assert granted.allows("lambda:GetFunction") and granted.allows("LAMBDA:getpolicy")
    assert granted.allows("sns:Unsubscribe")
    assert not granted.allows("lambda:ListTags")


def test_an_explicit_deny_wins_over_any_allow() -> None:
    granted = policy(
        allow("dynamodb:*"), {"Effect": "Deny", "Action": "dynamodb:Delete*", "Resource": "*"}
    )
    assert granted.allows("dynamodb:UpdateTable")
    assert granted.decide("dynamodb:DeleteTable") is Decision.DENIED


def test_not_action_allows_everything_but_the_listed_actions() -> None:
    granted = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert granted.allows("lambda:CreateFunction")
    assert not granted.allows("iam:PassRole")


def test_resources_match_case_sensitively_and_unknown_resources_match_any_pattern() -> None:
    granted = policy(allow("iam:PassRole", "arn:aws:iam::*:role/*-function"))
    assert granted.allows("iam:PassRole", ROLE)
    assert not granted.allows("iam:PassRole", "arn:aws:iam::123456789012:role/admin")
    assert not granted.allows("iam:PassRole", ROLE.upper())
    assert granted.allows("iam:PassRole", None)


def test_not_resource_excludes_the_listed_resources() -> None:
    granted = policy({"Effect": "Allow", "Action": "iam:*", "NotResource": ROLE})
    assert granted.allows("iam:GetRole", "arn:aws:iam::123456789012:role/other")
    assert not granted.allows("iam:GetRole", ROLE)


def test_pass_role_only_to_the_service_the_condition_names() -> None:
    granted = policy(
        allow(
            "iam:PassRole",
            Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        )
    )
    assert granted.allows("iam:PassRole", ROLE, {"iam:PassedToService": "lambda.amazonaws.com"})
    assert not granted.allows("iam:PassRole", ROLE, {"iam:PassedToService": "ec2.amazonaws.com"})
    assert not granted.allows("iam:PassRole", ROLE, {})  # key absent: the condition fails


def test_condition_values_are_alternatives_and_keys_all_must_hold() -> None:
    granted = policy(
        allow(
            "iam:CreateServiceLinkedRole",
            Condition={
                "StringLike": {"iam:AWSServiceName": ["replication.dynamodb.*", "dynamodb.app*"]},
                "StringEquals": {"aws:RequestedRegion": "us-east-1"},
            },
        )
    )
    east = {"aws:RequestedRegion": "us-east-1"}
    assert granted.allows(
        "iam:CreateServiceLinkedRole",
        None,
        {**east, "iam:AWSServiceName": "replication.dynamodb.amazonaws.com"},
    )
    assert not granted.allows(
        "iam:CreateServiceLinkedRole", None, {**east, "iam:AWSServiceName": "ecs.amazonaws.com"}
    )
    assert not granted.allows(
        "iam:CreateServiceLinkedRole",
        None,
        {
            "aws:RequestedRegion": "us-west-2",
            "iam:AWSServiceName": "replication.dynamodb.amazonaws.com",
        },
    )


def test_negated_and_if_exists_operators_hold_when_the_key_is_absent() -> None:
    granted = policy(
        allow("s3:*", Condition={"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}),
        allow("sns:*", Condition={"StringEqualsIfExists": {"aws:RequestedRegion": "us-east-1"}}),
    )
    assert granted.allows("s3:GetObject", None, {})
    assert not granted.allows("s3:GetObject", None, {"aws:RequestedRegion": "eu-west-1"})
    assert granted.allows("sns:Publish", None, {})
    assert not granted.allows("sns:Publish", None, {"aws:RequestedRegion": "us-west-2"})


ANY = {"Effect": "Allow", "Action": "*", "Resource": "*"}


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ({**ANY, "Effect": "Maybe"}, "Effect"),
        ({"Effect": "Allow", "Resource": "*"}, "Action"),
        ({"Effect": "Allow", "Action": "*"}, "Resource"),
        ({**ANY, "Principal": "*"}, "Principal"),
        ({**ANY, "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.1"}}}, "IpAddress"),
        ({**ANY, "Condition": {"ForAllValues:NumericEquals": {"k": "1"}}}, "NumericEquals"),
        ({**ANY, "Resource": "arn:aws:iam::*:user/${aws:username}"}, "policy variables"),
    ],
)
def test_what_cannot_be_evaluated_faithfully_is_refused_with_the_reason(
    statement: dict[str, Any], problem: str
) -> None:
    with pytest.raises(PolicyError, match=problem):
        policy(statement)


@pytest.mark.parametrize(("document", "problem"), [("{", "not JSON"), ("{}", "Statement")])
def test_a_document_that_is_not_a_policy_is_refused(document: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        Policy.parse(document)


def test_set_qualifiers_test_every_or_any_value_of_a_multivalued_key() -> None:
    """ForAllValues holds when every value matches, and when the key is absent (IAM's own
    pitfall); ForAnyValue when one does."""
    names = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
    every = policy(
        {**ANY, "Condition": {"ForAllValues:StringLike": {names: ["a.test", "_*.a.test"]}}}
    )
    assert every.allows("route53:ChangeResourceRecordSets", None, {names: ("a.test", "_x.a.test")})
    assert not every.allows("route53:ChangeResourceRecordSets", None, {names: ("a.test", "b.test")})
    assert every.allows("route53:ChangeResourceRecordSets", None, {})
    some = policy({**ANY, "Condition": {"ForAnyValue:StringEquals": {names: "a.test"}}})
    assert some.allows("route53:ChangeResourceRecordSets", None, {names: ("b.test", "a.test")})
    assert not some.allows("route53:ChangeResourceRecordSets", None, {names: ("b.test",)})
    assert not some.allows("route53:ChangeResourceRecordSets", None, {})
