"""HTTP requests to REST APIs on the sandbox (`<api>.execute-api.<region>.localhost:<port>`).

Functions and APIs are made with plain boto3 on the session sandbox. Tests
marked "runs code" need the sandbox's Lambda Invoke to run the function
(sandbox/lambda_/invoke.py); the others only need the routing itself.
"""

from __future__ import annotations

import uuid

import boto3
import pytest

from tests.sandbox_api_helpers import (
    ACCOUNT,
    ECHO,
    SECRET,
    api_get,
    bundle_zip,
    create_api,
    create_function,
    health_function,
    integrate,
    source_zip,
    unique,
)

pytestmark = pytest.mark.sandbox

EAST, WEST = "us-east-1", "us-west-2"
GATEWAY_FORBIDDEN = {"message": "Forbidden"}
MISSING_TOKEN = {"message": "Missing Authentication Token"}
INTERNAL_ERROR = {"message": "Internal server error"}


def test_health_answers_from_the_function_in_its_region(sandbox_env: str) -> None:
    """runs code"""
    for region in (EAST, WEST):
        api = create_api(region, health_function(region, unique("health")))
        answer = api_get(sandbox_env, api, region, f"/prod/health?healthCheckerId={SECRET}")
        assert answer.status == 200, answer.body
        assert answer.json() == {"message": f"Shallow hello from {region}", "ping": "shallow"}
        assert answer.headers["X-Failover-Region"] == region
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.headers["x-amzn-RequestId"]


def test_deep_ping_reads_the_seed_item_in_the_functions_region(sandbox_env: str) -> None:
    """runs code"""
    table = unique("hello")
    dynamodb = boto3.client("dynamodb", region_name=WEST)
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(
        TableName=table, Item={"HelloKey": {"S": "Hello"}, "Hello": {"S": "Deep hello from "}}
    )
    name = unique("deep")
    create_function(
        WEST,
        name,
        bundle_zip(),
        {"HEALTH_CHECKER_ID": SECRET, "FORCE_FAIL": "false", "TABLE_NAME": table},
    )
    api = create_api(WEST, f"arn:aws:lambda:{WEST}:{ACCOUNT}:function:{name}")
    answer = api_get(sandbox_env, api, WEST, f"/prod/health?healthCheckerId={SECRET}&deep=true")
    assert (answer.status, answer.json()) == (
        200,
        {"message": f"Deep hello from {WEST}", "ping": "deep"},
    )


def test_a_wrong_secret_is_refused_by_the_function_not_the_gateway(sandbox_env: str) -> None:
    """runs code"""
    api = create_api(EAST, health_function(EAST, unique("secret")))
    answer = api_get(sandbox_env, api, EAST, "/prod/health?healthCheckerId=wrong")
    assert (answer.status, answer.json()) == (403, {"message": "Forbidden"})
    assert answer.headers["Cache-Control"] == "no-store"  # the function's answer ...
    assert "X-Failover-Region" not in answer.headers  # ... naming no region to a stranger


def test_the_aws_host_name_on_loopback_is_the_same_api(sandbox_env: str) -> None:
    """runs code"""
    api = create_api(EAST, health_function(EAST, unique("host")))
    path = f"/prod/hello?healthCheckerId={SECRET}"
    local = api_get(sandbox_env, api, EAST, path)
    aws = api_get(sandbox_env, api, EAST, path, local=False)
    assert local.status == aws.status == 200
    assert local.json() == aws.json() == {"message": f"Hello from {EAST}", "region": EAST}


def test_the_event_the_function_gets(sandbox_env: str) -> None:
    """runs code"""
    api = create_api(EAST, create_function(EAST, unique("echo"), source_zip(ECHO)))
    answer = api_get(
        sandbox_env,
        api,
        EAST,
        "/prod/orders/42?tag=a&tag=b&empty=",
        method="POST",
        body=b'{"qty": 2}',
        headers={"Content-Type": "application/json", "X-Custom": "yes"},
    )
    assert answer.status == 200, answer.body
    event = answer.json()
    assert event["resource"] == "/{proxy+}"
    assert event["path"] == "/orders/42"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"proxy": "orders/42"}
    assert event["queryStringParameters"] == {"tag": "b", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "empty": [""]}
    assert event["stageVariables"] is None
    assert (event["body"], event["isBase64Encoded"]) == ('{"qty": 2}', False)
    assert event["headers"]["X-Custom"] == "yes"
    assert event["headers"]["Host"].startswith(f"{api}.execute-api.{EAST}.localhost:")
    assert event["multiValueHeaders"]["X-Custom"] == ["yes"]
    context = event["requestContext"]
    assert context["stage"] == "prod"
    assert context["path"] == "/prod/orders/42"
    assert context["resourcePath"] == "/{proxy+}"
    assert context["httpMethod"] == "POST"
    assert context["apiId"] == api
    assert context["accountId"] == ACCOUNT
    assert context["domainName"] == f"{api}.execute-api.{EAST}.amazonaws.com"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    uuid.UUID(context["requestId"])


def test_an_unknown_api_or_stage_is_forbidden(sandbox_env: str) -> None:
    api = create_api(EAST, create_function(EAST, unique("stage"), source_zip(ECHO)))
    for api_id, path in ((api, "/staging/health"), ("zzzzzzzzzz", "/prod/health"), (api, "/")):
        answer = api_get(sandbox_env, api_id, EAST, path)
        assert (answer.status, answer.json()) == (403, GATEWAY_FORBIDDEN), path
        assert answer.headers["x-amzn-ErrorType"] == "ForbiddenException"
    # An API lives in its own region only.
    assert api_get(sandbox_env, api, WEST, "/prod/health").status == 403


def test_a_path_or_method_without_a_route_is_missing_authentication_token(
    sandbox_env: str,
) -> None:
    function = create_function(EAST, unique("routes"), source_zip(ECHO))
    api = create_api(EAST, function, path_part="hello", method="GET")
    for method, path in (("GET", "/prod"), ("GET", "/prod/other"), ("POST", "/prod/hello")):
        answer = api_get(sandbox_env, api, EAST, path, method=method)
        assert (answer.status, answer.json()) == (403, MISSING_TOKEN), (method, path)
        assert answer.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_routes_are_served_from_the_last_deployment(sandbox_env: str) -> None:
    """runs code (the last step)"""
    function = create_function(EAST, unique("deploy"), source_zip(ECHO))
    api = create_api(EAST, function, path_part="hello", method="GET")
    ag = boto3.client("apigateway", region_name=EAST)
    root = next(r["id"] for r in ag.get_resources(restApiId=api)["items"] if r["path"] == "/")
    extra = ag.create_resource(restApiId=api, parentId=root, pathPart="extra")["id"]
    integrate(EAST, api, extra, "GET", function)
    # Defined but not deployed: API Gateway does not serve it yet.
    assert api_get(sandbox_env, api, EAST, "/prod/extra").status == 403
    ag.create_deployment(restApiId=api, stageName="prod")
    answer = api_get(sandbox_env, api, EAST, "/prod/extra")
    assert answer.status == 200, answer.body
    assert answer.json()["resource"] == "/extra"


def test_without_the_invoke_permission_the_gateway_fails(sandbox_env: str) -> None:
    function = create_function(EAST, unique("noperm"), source_zip(ECHO))
    api = create_api(EAST, function, permission=False)
    answer = api_get(sandbox_env, api, EAST, "/prod/anything")
    assert (answer.status, answer.json()) == (500, INTERNAL_ERROR)


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("def handler(event, context):\n    raise RuntimeError('boom')\n", "raises"),
        ("def handler(event, context):\n    return {'statusCode': 200, 'body': {}}\n", "body"),
        ("def handler(event, context):\n    return 'just text'\n", "not an object"),
        ("def handler(event, context):\n    return {'statusCode': 200, 'x': 1}\n", "extra key"),
    ],
)
def test_a_failing_function_or_malformed_answer_is_a_502(
    sandbox_env: str, source: str, why: str
) -> None:
    """runs code"""
    api = create_api(EAST, create_function(EAST, unique("bad"), source_zip(source)))
    answer = api_get(sandbox_env, api, EAST, "/prod/x")
    assert (answer.status, answer.json()) == (502, INTERNAL_ERROR), why


def test_no_answer_within_the_integration_timeout_is_a_504(sandbox_env: str) -> None:
    """runs code"""
    slow = "import time\ndef handler(event, context):\n    time.sleep(3)\n    return {}\n"
    function = create_function(EAST, unique("slow"), source_zip(slow))
    api = create_api(EAST, function, timeout_ms=500)
    answer = api_get(sandbox_env, api, EAST, "/prod/x")
    assert (answer.status, answer.json()) == (504, {"message": "Endpoint request timed out"})


def test_a_function_deleted_under_its_api_is_a_500(sandbox_env: str) -> None:
    """runs code: Lambda's own refusal of the Invoke (the function is gone) is the
    gateway's 500, as on AWS."""
    name = unique("gone")
    function = create_function(EAST, name, source_zip(ECHO))
    api = create_api(EAST, function)
    assert api_get(sandbox_env, api, EAST, "/prod/x").status == 200
    boto3.client("lambda", region_name=EAST).delete_function(FunctionName=name)
    answer = api_get(sandbox_env, api, EAST, "/prod/x")
    assert (answer.status, answer.json()) == (500, INTERNAL_ERROR)
