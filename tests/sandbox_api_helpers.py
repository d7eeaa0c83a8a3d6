"""Functions and REST APIs made with plain boto3 on a running sandbox, and HTTP to them.

Shared by the execute-api and health-checker sandbox tests. Everything goes
through the public APIs (boto3 with AWS_ENDPOINT_URL pointing at the sandbox),
as `failover up` would; names are unique so tests can share one sandbox.
"""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3

from failover_cli.bundle import build_bundle, shipped_bundle_path

ACCOUNT = "123456789012"
SECRET = "s3cret-checker-id"
DEADLINE_S = 60.0
T = TypeVar("T")

# A function that answers with the event it got, to see it as the function does.
ECHO = """
import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(event)}
"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def source_zip(source: str, module: str = "handler") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module}.py", source)
    return buffer.getvalue()


def bundle_zip() -> bytes:
    return build_bundle(shipped_bundle_path()).zip_bytes


def create_function(
    region: str,
    name: str,
    code: bytes,
    environment: Mapping[str, str] | None = None,
    *,
    timeout: int = 10,
) -> str:
    iam = boto3.client("iam")
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
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    lam = boto3.client("lambda", region_name=region)
    arn: str = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": code},
        Timeout=timeout,
        Environment={"Variables": dict(environment or {})},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return arn


def health_function(region: str, name: str) -> str:
    """The shipped bundle with the environment `up` gives it (SPEC §4.4)."""
    return create_function(
        region,
        name,
        bundle_zip(),
        {"HEALTH_CHECKER_ID": SECRET, "FORCE_FAIL": "false", "DEEP_PING_PERCENT": "0"},
    )


def set_force_fail(region: str, name: str, value: str) -> None:
    """What a user does by hand: read the environment, change one variable, write it back."""
    lam = boto3.client("lambda", region_name=region)
    variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**variables, "FORCE_FAIL": value}}
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)


def integration_uri(region: str, function_arn: str) -> str:
    path = f"2015-03-31/functions/{function_arn}/invocations"
    return f"arn:aws:apigateway:{region}:lambda:path/{path}"


def create_api(
    region: str,
    function_arn: str,
    *,
    stage: str = "prod",
    path_part: str = "{proxy+}",
    method: str = "ANY",
    permission: bool = True,
    timeout_ms: int | None = None,
) -> str:
    """A REGIONAL REST API with one resource under the root -> the function, deployed."""
    ag = boto3.client("apigateway", region_name=region)
    api_id: str = ag.create_rest_api(
        name=unique("api"), endpointConfiguration={"types": ["REGIONAL"]}
    )["id"]
    root = next(r["id"] for r in ag.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    resource = ag.create_resource(restApiId=api_id, parentId=root, pathPart=path_part)["id"]
    integrate(region, api_id, resource, method, function_arn, timeout_ms=timeout_ms)
    ag.create_deployment(restApiId=api_id, stageName=stage)
    if permission:
        boto3.client("lambda", region_name=region).add_permission(
            FunctionName=function_arn,
            StatementId=unique("apigateway"),
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{region}:{ACCOUNT}:{api_id}/*/*/*",
        )
    return api_id


def integrate(
    region: str,
    api_id: str,
    resource_id: str,
    method: str,
    function_arn: str,
    *,
    timeout_ms: int | None = None,
) -> None:
    ag = boto3.client("apigateway", region_name=region)
    ag.put_method(
        restApiId=api_id, resourceId=resource_id, httpMethod=method, authorizationType="NONE"
    )
    extra: dict[str, Any] = {"timeoutInMillis": timeout_ms} if timeout_ms else {}
    ag.put_integration(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=method,
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=integration_uri(region, function_arn),
        **extra,
    )


def api_host(api_id: str, region: str) -> str:
    return f"{api_id}.execute-api.{region}.amazonaws.com"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


# Loopback only: bypass the test-wide proxy settings (conftest points them at a closed port).
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> Answer:
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with _OPENER.open(request, timeout=60) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


def api_get(
    endpoint: str,
    api_id: str,
    region: str,
    path: str,
    *,
    local: bool = True,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """A request to the API as a browser on this machine makes it: to the sandbox's address
    with the API's host name (`<id>.execute-api.<region>.localhost:<port>`, or with
    `local=False` the AWS name, as the tool's FAILOVER_RESOLVE sends it)."""
    port = endpoint.rsplit(":", 1)[1]
    host = f"{api_id}.execute-api.{region}.localhost:{port}" if local else api_host(api_id, region)
    return http(
        endpoint + path, method=method, body=body, headers={**(headers or {}), "Host": host}
    )


def eventually(probe: Callable[[], T], what: str, deadline_s: float = DEADLINE_S) -> T:
    """Poll `probe` until it returns something truthy; no assertion on how long it took."""
    end = time.monotonic() + deadline_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)
