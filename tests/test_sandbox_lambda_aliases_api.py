"""API Gateway in front of a Lambda alias, with Lambda's per-ARN invoke permissions.

An integration whose URI names `function:live` (or `function:3`) invokes that
alias (version); API Gateway may do so only with a permission on exactly that
qualified ARN (one on the function does not cover the alias, one on the alias
does not cover its version); a release whose module fails at import answers
Lambda's Runtime.ImportModuleError, which API Gateway turns into a 502.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.sandbox_api_helpers import (
    ACCOUNT,
    api_get,
    create_api,
    create_function,
    source_zip,
    unique,
)

pytestmark = pytest.mark.sandbox

EAST = "us-east-1"
INTERNAL_ERROR = {"message": "Internal server error"}
RELEASE = """
import json
def handler(event, context):
    return {{"statusCode": 200, "body": json.dumps({{"release": {n}}})}}
"""
BROKEN = "import no_such_dependency_at_all\n\ndef handler(event, context):\n    return {}\n"


def lam() -> Any:
    return boto3.client("lambda", region_name=EAST)


def allow_gateway(function: str, api: str, qualifier: str | None = None) -> None:
    extra = {"Qualifier": qualifier} if qualifier else {}
    lam().add_permission(
        FunctionName=function,
        StatementId=unique("apigateway"),
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{EAST}:{ACCOUNT}:{api}/*/*/*",
        **extra,
    )


def publish(function: str, code: bytes) -> str:
    client = lam()
    client.update_function_code(FunctionName=function, ZipFile=code)
    client.get_waiter("function_updated_v2").wait(FunctionName=function)
    return str(client.publish_version(FunctionName=function)["Version"])


@pytest.fixture
def released(sandbox_env: str) -> tuple[str, str]:
    """(function ARN, name) with version 1 = release 1 and alias `live` on it."""
    name = unique("live")
    arn = create_function(EAST, name, source_zip(RELEASE.format(n=1)))
    lam().publish_version(FunctionName=name)
    lam().create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return arn, name


def test_the_gateway_invokes_the_alias_it_names_with_the_aliass_permission(
    sandbox_env: str, released: tuple[str, str]
) -> None:
    arn, name = released
    api = create_api(EAST, f"{arn}:live", permission=False)
    allow_gateway(name, api)  # on the function: does not cover function:live
    answer = api_get(sandbox_env, api, EAST, "/prod/x")
    assert (answer.status, answer.json()) == (500, INTERNAL_ERROR)
    allow_gateway(name, api, qualifier="1")  # on the version: does not cover the alias
    answer = api_get(sandbox_env, api, EAST, "/prod/x")
    assert (answer.status, answer.json()) == (500, INTERNAL_ERROR)
    allow_gateway(name, api, qualifier="live")
    answer = api_get(sandbox_env, api, EAST, "/prod/x")
    assert (answer.status, answer.json()) == (200, {"release": 1})
    publish(name, source_zip(RELEASE.format(n=2)))
    assert api_get(sandbox_env, api, EAST, "/prod/x").json() == {"release": 1}
    lam().update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    assert api_get(sandbox_env, api, EAST, "/prod/x").json() == {"release": 2}


def test_the_gateway_invokes_a_version_it_names(
    sandbox_env: str, released: tuple[str, str]
) -> None:
    arn, name = released
    publish(name, source_zip(RELEASE.format(n=2)))
    api = create_api(EAST, f"{arn}:1", permission=False)
    allow_gateway(name, api, qualifier="1")
    answer = api_get(sandbox_env, api, EAST, "/prod/x")
    assert (answer.status, answer.json()) == (200, {"release": 1})


def test_each_version_and_alias_has_its_own_policy(released: tuple[str, str]) -> None:
    _, name = released
    allow_gateway(name, "someapi1", qualifier="live")
    policy = json.loads(lam().get_policy(FunctionName=name, Qualifier="live")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Resource"].endswith(f":function:{name}:live")
    for where in ({"FunctionName": name}, {"FunctionName": name, "Qualifier": "1"}):
        with pytest.raises(ClientError) as none:
            lam().get_policy(**where)
        assert none.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as twice:
        lam().add_permission(
            FunctionName=f"{name}:live",
            StatementId=statement["Sid"],
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
        )
    assert twice.value.response["Error"]["Code"] == "ResourceConflictException"
    with pytest.raises(ClientError) as latest:
        allow_gateway(name, "someapi1", qualifier="$LATEST")
    assert latest.value.response["Error"]["Code"] == "InvalidParameterValueException"
    lam().remove_permission(FunctionName=name, StatementId=statement["Sid"], Qualifier="live")
    with pytest.raises(ClientError) as gone:
        lam().get_policy(FunctionName=name, Qualifier="live")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_release_that_fails_at_import_is_a_502_and_the_old_version_still_serves(
    sandbox_env: str, released: tuple[str, str]
) -> None:
    arn, name = released
    api = create_api(EAST, f"{arn}:live", permission=False)
    allow_gateway(name, api, qualifier="live")
    broken = publish(name, source_zip(BROKEN))
    answer = lam().invoke(FunctionName=name, Qualifier=broken, Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"].startswith("Unable to import module 'handler': ")
    assert api_get(sandbox_env, api, EAST, "/prod/x").json() == {"release": 1}
    lam().update_alias(FunctionName=name, Name="live", FunctionVersion=broken)
    answer = api_get(sandbox_env, api, EAST, "/prod/x")
    assert (answer.status, answer.json()) == (502, INTERNAL_ERROR)
    lam().update_alias(FunctionName=name, Name="live", FunctionVersion="1")  # the rollback
    answer = api_get(sandbox_env, api, EAST, "/prod/x")
    assert (answer.status, answer.json()) == (200, {"release": 1})
