"""Functions really run in the sandbox: the shipped bundle through boto3's `invoke`.

The session sandbox is shared: every test makes its own role and function
names. Waits poll with a generous deadline; nothing asserts how long
anything took. Helpers here are shared with test_sandbox_lambda_runtime.py.
"""

from __future__ import annotations

import base64
import io
import json
import re
import textwrap
import uuid
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from failover_cli.bundle import build_bundle
from tests.sandbox_api_helpers import eventually

pytestmark = pytest.mark.sandbox

EAST, WEST = "us-east-1", "us-west-2"
SECRET = "s3cret-checker-id"
BUNDLE = build_bundle(Path(__file__).resolve().parent.parent / "lambda_bundle")
STREAM_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def client(service: str, region: str = EAST) -> Any:
    # No retries: a sandbox error must show as it is, not be retried away.
    return boto3.client(
        service, region_name=region, config=Config(retries={"total_max_attempts": 1})
    )


def make_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, textwrap.dedent(text))
    return buffer.getvalue()


def role_arn() -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = client("iam")
    role = iam.create_role(RoleName=unique("fn-role"), AssumeRolePolicyDocument=json.dumps(trust))
    # Lets Lambda create the log group on first run, as on AWS (the stack's own
    # least-privilege role does not, so a deleted group stays deleted).
    iam.attach_role_policy(
        RoleName=role["Role"]["RoleName"],
        PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    )
    return str(role["Role"]["Arn"])


def create_function(
    region: str,
    code: bytes = BUNDLE.zip_bytes,
    *,
    name: str | None = None,
    handler: str = "handler.handler",
    timeout: int = 5,
    variables: dict[str, str] | None = None,
    role: str | None = None,
) -> str:
    name = name or unique("fn")
    client("lambda", region).create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role or role_arn(),
        Handler=handler,
        Code={"ZipFile": code},
        Timeout=timeout,
        Environment={"Variables": {"HEALTH_CHECKER_ID": SECRET, **(variables or {})}},
    )
    return name


def invoke(region: str, function: str, event: Any = None, **extra: Any) -> dict[str, Any]:
    """Invoke and read the payload (JSON-decoded when it is JSON) into `Body`."""
    answer = client("lambda", region).invoke(
        FunctionName=function, Payload=json.dumps(event or {}).encode(), **extra
    )
    raw = answer["Payload"].read()
    try:
        answer["Body"] = json.loads(raw) if raw else None
    except ValueError:
        answer["Body"] = raw
    return dict(answer)


def proxy_event(route: str = "health", **query: str) -> dict[str, Any]:
    """An API Gateway REST proxy event (v1) for GET /prod/<route>."""
    return {
        "resource": "/{proxy+}",
        "path": f"/{route}",
        "httpMethod": "GET",
        "headers": {"Host": "example.execute-api.localhost"},
        "queryStringParameters": query or None,
        "pathParameters": {"proxy": route},
        "requestContext": {"stage": "prod", "httpMethod": "GET", "path": f"/prod/{route}"},
        "body": None,
        "isBase64Encoded": False,
    }


def http_answer(answer: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(statusCode, decoded body) of a proxy-integration answer."""
    assert answer.get("FunctionError") is None, answer["Body"]
    result = answer["Body"]
    return int(result["statusCode"]), json.loads(result["body"])


def health(region: str, function: str, **query: str) -> tuple[int, dict[str, Any]]:
    return http_answer(
        invoke(region, function, proxy_event("health", healthCheckerId=SECRET, **query))
    )


def log_events(region: str, function: str) -> dict[str, list[str]]:
    """{stream name: messages} of the function's log group."""
    logs = client("logs", region)
    group = f"/aws/lambda/{function}"
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    return {
        s["logStreamName"]: [
            e["message"]
            for e in logs.get_log_events(
                logGroupName=group, logStreamName=s["logStreamName"], startFromHead=True
            )["events"]
        ]
        for s in streams
    }


# --------------------------------------------------------------------------- the bundle


def test_shallow_health_answers_from_each_region(sandbox_env: str) -> None:
    role = role_arn()
    for region in (EAST, WEST):
        function = create_function(region, role=role)
        status, body = health(region, function)
        assert (status, body) == (
            200,
            {"message": f"Shallow hello from {region}", "ping": "shallow"},
        )
        # A wrong secret is refused by the function itself.
        answer = invoke(region, function, proxy_event("health", healthCheckerId="wrong"))
        assert http_answer(answer) == (403, {"message": "Forbidden"})


def test_deep_health_reads_the_replica_in_its_own_region(sandbox_env: str) -> None:
    table = unique("hello-table")
    east = client("dynamodb", EAST)
    east.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    east.update_table(TableName=table, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])
    eventually(
        lambda: any(
            r["RegionName"] == WEST and r["ReplicaStatus"] == "ACTIVE"
            for r in east.describe_table(TableName=table)["Table"].get("Replicas", [])
        ),
        "the us-west-2 replica",
    )
    east.put_item(
        TableName=table, Item={"HelloKey": {"S": "Hello"}, "Hello": {"S": "Deep hello from "}}
    )
    role = role_arn()
    for region in (EAST, WEST):
        function = create_function(region, role=role, variables={"TABLE_NAME": table})
        status, body = health(region, function, deep="true")
        assert (status, body) == (200, {"message": f"Deep hello from {region}", "ping": "deep"})


def test_force_fail_bites_on_the_next_invoke_and_lifts(sandbox_env: str) -> None:
    function = create_function(WEST)
    lam = client("lambda", WEST)
    assert health(WEST, function)[0] == 200
    variables = {"HEALTH_CHECKER_ID": SECRET, "FORCE_FAIL": "true"}
    lam.update_function_configuration(FunctionName=function, Environment={"Variables": variables})
    assert health(WEST, function) == (503, {"message": f"Forced failure in {WEST}"})
    variables["FORCE_FAIL"] = "false"
    lam.update_function_configuration(FunctionName=function, Environment={"Variables": variables})
    assert health(WEST, function)[0] == 200


def test_code_update_runs_the_new_code(sandbox_env: str) -> None:
    version = "def handler(event, context):\n    return {{'version': {n}}}\n"
    function = create_function(
        EAST, make_zip({"app.py": version.format(n=1)}), handler="app.handler"
    )
    assert invoke(EAST, function)["Body"] == {"version": 1}
    client("lambda", EAST).update_function_code(
        FunctionName=function, ZipFile=make_zip({"app.py": version.format(n=2)})
    )
    assert invoke(EAST, function)["Body"] == {"version": 2}


def test_prints_land_in_a_lambda_style_stream(sandbox_env: str) -> None:
    code = make_zip(
        {
            "app.py": """
            import logging
            import sys

            print("loading the module")

            def handler(event, context):
                print("hello from", context.function_name, event["n"])
                sys.stderr.write("to stderr\\n")
                logging.getLogger().warning("a warning")
                return context.log_stream_name
            """
        }
    )
    function = create_function(WEST, code, handler="app.handler")
    stream = invoke(WEST, function, {"n": 1})["Body"]
    invoke(WEST, function, {"n": 2})
    assert STREAM_NAME.match(stream), stream
    streams = log_events(WEST, function)
    assert list(streams) == [stream]  # one warm worker, one stream
    messages = streams[stream]
    assert messages[0].startswith("INIT_START")
    assert "loading the module" in messages
    assert f"hello from {function} 1" in messages and f"hello from {function} 2" in messages
    assert "to stderr" in messages
    assert any(m.startswith("[WARNING]\t") and m.endswith("\ta warning") for m in messages)
    starts = [m for m in messages if m.startswith("START RequestId: ")]
    reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert len(starts) == len(reports) == 2
    assert "Init Duration" in reports[0] and "Init Duration" not in reports[1]
    assert sum(m.startswith("END RequestId: ") for m in messages) == 2


def test_log_tail_is_returned_on_request(sandbox_env: str) -> None:
    code = make_zip({"app.py": "def handler(event, context):\n    print('tail me')\n"})
    function = create_function(EAST, code, handler="app.handler")
    answer = invoke(EAST, function, LogType="Tail")
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "tail me" in tail and "REPORT RequestId:" in tail


def test_function_ids_qualifiers_and_invocation_types(sandbox_env: str) -> None:
    code = make_zip({"app.py": "def handler(event, context):\n    return event\n"})
    function = create_function(EAST, code, handler="app.handler")
    arn = client("lambda", EAST).get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    account = arn.split(":")[4]
    for function_id in (
        function,
        arn,
        f"{arn}:$LATEST",
        f"{account}:function:{function}",
        f"{function}:$LATEST",
    ):
        answer = invoke(EAST, function_id, {"id": function_id})
        assert answer["StatusCode"] == 200 and answer["Body"] == {"id": function_id}
        assert answer["ExecutedVersion"] == "$LATEST"
    assert invoke(EAST, function, Qualifier="$LATEST")["StatusCode"] == 200
    assert invoke(EAST, function, InvocationType="DryRun")["StatusCode"] == 204
    assert invoke(EAST, function, InvocationType="Event")["StatusCode"] == 202
    with pytest.raises(ClientError) as missing:
        invoke(EAST, unique("no-such-function"))
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as wrong:
        invoke(EAST, f"{function}:$LATEST", Qualifier="7")
    assert wrong.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_event_invocations_run_in_the_background(sandbox_env: str) -> None:
    code = make_zip({"app.py": "def handler(event, context):\n    print('event', event['n'])\n"})
    function = create_function(WEST, code, handler="app.handler")
    assert invoke(WEST, function, {"n": 41}, InvocationType="Event")["StatusCode"] == 202
    eventually(
        lambda: any(
            "event 41" in messages
            for messages in (log_events(WEST, function) if _has_group(function) else {}).values()
        ),
        "the event invocation's log line",
    )


def _has_group(function: str) -> bool:
    groups = client("logs", WEST).describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{function}")
    return bool(groups["logGroups"])


def test_uploads_are_checked_and_architectures_stick(sandbox_env: str) -> None:
    lam = client("lambda", EAST)
    with pytest.raises(ClientError) as bad:
        create_function(EAST, b"not a zip")
    assert bad.value.response["Error"]["Code"] == "InvalidParameterValueException"
    function = create_function(EAST)
    updated = lam.update_function_code(
        FunctionName=function, ZipFile=BUNDLE.zip_bytes, Architectures=["arm64"]
    )
    assert updated["Architectures"] == ["arm64"]
    configuration = lam.get_function_configuration(FunctionName=function)
    assert configuration["Architectures"] == ["arm64"]
    assert configuration["CodeSha256"] == BUNDLE.sha256


def test_published_versions_and_aliases_run_their_own_code(sandbox_env: str) -> None:
    lam = client("lambda", EAST)
    version = "def handler(event, context):\n    return {{'code': {n}}}\n"
    function = create_function(
        EAST, make_zip({"app.py": version.format(n=1)}), handler="app.handler"
    )
    published = lam.publish_version(FunctionName=function)["Version"]
    lam.create_alias(FunctionName=function, Name="live", FunctionVersion=published)
    lam.update_function_code(
        FunctionName=function,
        ZipFile=make_zip({"app.py": version.format(n=2)}),
        Architectures=["arm64"],
        Publish=True,
    )
    assert invoke(EAST, function)["Body"] == {"code": 2}
    old = invoke(EAST, function, Qualifier=published)
    assert old["Body"] == {"code": 1} and old["ExecutedVersion"] == published
    assert invoke(EAST, f"{function}:live")["Body"] == {"code": 1}
    versions = lam.list_versions_by_function(FunctionName=function)["Versions"]
    newest = max(versions, key=lambda v: 0 if v["Version"] == "$LATEST" else int(v["Version"]))
    assert newest["Version"] != published and newest["Architectures"] == ["arm64"]
    assert invoke(EAST, function, Qualifier=newest["Version"])["Body"] == {"code": 2}


def test_a_role_without_create_log_group_cannot_resurrect_a_deleted_group(
    sandbox_env: str,
) -> None:
    # The stack's least-privilege role: CreateLogStream and PutLogEvents only. On AWS
    # Lambda then cannot recreate a deleted group, so `down` stays complete even
    # if a request is still in flight when the group goes.
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
    }
    least = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ],
    }
    iam = client("iam")
    name = unique("least")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=name, PolicyName="logs", PolicyDocument=json.dumps(least))
    arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    function = create_function(WEST, role=arn)
    group = f"/aws/lambda/{function}"
    client("logs", WEST).create_log_group(logGroupName=group)
    assert health(WEST, function)[0] == 200
    assert _has_group(function)  # an existing group is written to
    client("logs", WEST).delete_log_group(logGroupName=group)
    assert health(WEST, function)[0] == 200  # the call still succeeds...
    assert not _has_group(function)  # ...but its lines are lost, as on AWS
