"""What a request needs under `--enforce-policy`: its action, resource and implicit checks."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from botocore.parsers import RpcV2CBORParser

from failover_cli.sandbox.access_denied import access_denied
from failover_cli.sandbox.iam_actions import REPLICA_CREATE, Need, needs
from failover_cli.sandbox.requests import AwsRequest

ACCOUNT = "123456789012"
EAST, WEST = "us-east-1", "us-west-2"


def request(
    service: str,
    *,
    method: str = "POST",
    path: str = "/",
    target: str | None = None,
    body: Any = None,
    form: str = "",
    region: str = EAST,
) -> AwsRequest:
    scope = f"Credential=testing/20260101/{region}/{service}/aws4_request"
    headers = {"authorization": f"AWS4-HMAC-SHA256 {scope}", "x-moto-account-id": ACCOUNT}
    data = b""
    if target:
        headers["x-amz-target"] = target
        headers["content-type"] = "application/x-amz-json-1.0"
    if body is not None:
        data = json.dumps(body).encode()
    if form:
        headers["content-type"] = "application/x-www-form-urlencoded"
        data = form.encode()
    return AwsRequest(method, f"{service}.{region}.amazonaws.com", path, "", headers, data, {})


def actions(found: list[Need]) -> list[str]:
    return [n.action for n in found]


def test_rest_requests_are_named_from_botocore_routes_with_the_function_arn() -> None:
    found = needs(request("lambda", method="GET", path="/2015-03-31/functions/fn/configuration"))
    assert actions(found) == ["lambda:GetFunctionConfiguration"]
    assert found[0].resource == f"arn:aws:lambda:{EAST}:{ACCOUNT}:function:fn"
    assert actions(needs(request("lambda", method="GET", path="/2015-03-31/functions/fn"))) == [
        "lambda:GetFunction"
    ]


def test_a_call_on_a_version_or_alias_needs_the_qualified_arn() -> None:
    base = f"arn:aws:lambda:{EAST}:{ACCOUNT}:function:fn"
    path = "/2015-03-31/functions/fn/invocations"
    for query, resource in (
        ("Qualifier=live", f"{base}:live"),
        ("Qualifier=3", f"{base}:3"),
        ("Qualifier=%24LATEST", base),
        ("", base),
    ):
        found = needs(dataclasses.replace(request("lambda", path=path), query=query))
        assert (found[0].action, found[0].resource) == ("lambda:InvokeFunction", resource)
    named = needs(request("lambda", method="GET", path="/2015-03-31/functions/fn%3Alive"))
    assert named[0].resource == f"{base}:live"


def test_api_gateway_actions_are_http_verbs_on_the_resource_path() -> None:
    found = needs(request("apigateway", method="DELETE", path="/restapis/abc"))
    assert (found[0].action, found[0].resource) == (
        "apigateway:DELETE",
        f"arn:aws:apigateway:{EAST}::/restapis/abc",
    )


def test_passing_the_role_to_lambda_needs_pass_role_with_the_service_named() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/hello-function"
    found = needs(
        request(
            "lambda",
            path="/2015-03-31/functions",
            body={"FunctionName": "fn", "Role": role, "Tags": {"k": "v"}},
        )
    )
    assert actions(found) == ["lambda:CreateFunction", "lambda:TagResource", "iam:PassRole"]
    passed = found[2]
    assert passed.resource == role
    assert dict(passed.context)["iam:PassedToService"] == "lambda.amazonaws.com"


def test_adding_a_replica_needs_the_destination_actions_and_the_replication_role() -> None:
    found = needs(
        request(
            "dynamodb",
            target="DynamoDB_20120810.UpdateTable",
            body={"TableName": "t", "ReplicaUpdates": [{"Create": {"RegionName": WEST}}]},
        )
    )
    assert found[0].resource == f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/t"
    there = [n for n in found[1:] if n.action.startswith("dynamodb:")]
    assert [n.action for n in there] == [f"dynamodb:{a}" for a in REPLICA_CREATE]
    assert {n.resource for n in there} == {f"arn:aws:dynamodb:{WEST}:{ACCOUNT}:table/t"}
    assert {dict(n.context)["aws:RequestedRegion"] for n in there} == {WEST}
    role = found[-1]
    assert role.action == "iam:CreateServiceLinkedRole" and role.once
    assert dict(role.context)["iam:AWSServiceName"] == "replication.dynamodb.amazonaws.com"


def test_removing_a_replica_needs_delete_actions_there() -> None:
    found = needs(
        request(
            "dynamodb",
            target="DynamoDB_20120810.UpdateTable",
            body={"TableName": "t", "ReplicaUpdates": [{"Delete": {"RegionName": WEST}}]},
        )
    )
    assert actions(found) == [
        "dynamodb:UpdateTable",
        "dynamodb:DeleteTable",
        "dynamodb:DeleteTableReplica",
    ]


def test_query_protocol_tags_on_create_need_the_tagging_action() -> None:
    form = "Action=CreateRole&RoleName=r&Tags.member.1.Key=k&Tags.member.1.Value=v"
    found = needs(request("iam", form=form))
    assert actions(found) == ["iam:CreateRole", "iam:TagRole"]
    assert found[0].resource == f"arn:aws:iam::{ACCOUNT}:role/r"


def test_get_caller_identity_needs_nothing() -> None:
    assert needs(request("sts", form="Action=GetCallerIdentity&Version=2011-06-15")) == []


def test_cloudwatch_speaking_cbor_is_refused_in_cbor() -> None:
    cbor = request("monitoring", path="/service/GraniteServiceVersion20100801/operation/X")
    answer = access_denied(cbor, "User: u is not authorized to perform: cloudwatch:X")
    parsed: Any = RpcV2CBORParser()._initial_body_parse(answer.body)
    assert parsed["__type"] == "AccessDenied" and "cloudwatch:X" in parsed["message"]
    assert answer.header("smithy-protocol") == "rpc-v2-cbor"


def test_auto_scaling_a_table_checks_the_callers_own_table_and_alarm_permissions() -> None:
    """Application Auto Scaling validates the caller's permissions on the target and on
    the target-tracking alarms, in the table's region, before it proceeds."""
    for operation in ("RegisterScalableTarget", "PutScalingPolicy"):
        found = needs(
            request(
                "application-autoscaling",
                target=f"AnyScaleFrontendService.{operation}",
                body={"ServiceNamespace": "dynamodb", "ResourceId": "table/shop.Hello"},
                region=WEST,
            )
        )
        alarm = f"arn:aws:cloudwatch:{WEST}:{ACCOUNT}:alarm:TargetTracking-table/shop.Hello-"
        table = f"arn:aws:dynamodb:{WEST}:{ACCOUNT}:table/shop.Hello"
        checked = {(n.action, n.resource) for n in found}
        assert {("dynamodb:DescribeTable", table), ("dynamodb:UpdateTable", table)} <= checked
        for action in ("PutMetricAlarm", "DescribeAlarms", "DeleteAlarms"):
            (need,) = [n for n in found if n.action == f"cloudwatch:{action}"]
            assert need.resource and need.resource.startswith(alarm), need
            assert ("aws:RequestedRegion", WEST) in need.context


def test_record_changes_carry_route53s_normalized_names_types_and_actions() -> None:
    def change(action: str, name: str, rtype: str) -> str:
        record = f"<ResourceRecordSet><Name>{name}</Name><Type>{rtype}</Type></ResourceRecordSet>"
        return f"<Change><Action>{action}</Action>{record}</Change>"

    changes = change("UPSERT", "App.Example.COM.", "A") + change(
        "DELETE", "\\052.example.com", "CNAME"
    )
    xmlns = "https://route53.amazonaws.com/doc/2013-04-01/"
    body = (
        f'<ChangeResourceRecordSetsRequest xmlns="{xmlns}"><ChangeBatch>'
        f"<Changes>{changes}</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"
    )
    signed = request("route53")
    path = "/2013-04-01/hostedzone/Z1/rrset/"
    found = needs(AwsRequest("POST", signed.host, path, "", signed.headers, body.encode(), {}))
    assert actions(found) == ["route53:ChangeResourceRecordSets"]
    context = dict(found[0].context)
    prefix = "route53:ChangeResourceRecordSets"
    assert context[f"{prefix}NormalizedRecordNames"] == ("app.example.com", "*.example.com")
    assert context[f"{prefix}RecordTypes"] == ("A", "CNAME")
    assert context[f"{prefix}Actions"] == ("UPSERT", "DELETE")
