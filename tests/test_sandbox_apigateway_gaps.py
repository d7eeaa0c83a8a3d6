"""API Gateway calls moto gets wrong, answered by the sandbox as AWS answers them."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

pytestmark = pytest.mark.sandbox

REGION = "eu-west-1"


def apigateway() -> Any:
    return boto3.client(
        "apigateway", region_name=REGION, config=Config(retries={"total_max_attempts": 1})
    )


def rest_api(**tags: str) -> tuple[str, str]:
    """(id, ARN) of a new regional REST API."""
    api = apigateway().create_rest_api(
        name=f"gaps-{uuid.uuid4().hex[:8]}",
        endpointConfiguration={"types": ["REGIONAL"]},
        **({"tags": tags} if tags else {}),
    )
    return api["id"], f"arn:aws:apigateway:{REGION}::/restapis/{api['id']}"


def test_rest_api_tags_round_trip(sandbox_env: str) -> None:
    client = apigateway()
    api_id, arn = rest_api(created="at-create")
    client.tag_resource(resourceArn=arn, tags={"failover:stack": "demo", "team": "web"})
    expected = {"created": "at-create", "failover:stack": "demo", "team": "web"}
    assert client.get_tags(resourceArn=arn)["tags"] == expected
    assert client.get_rest_api(restApiId=api_id)["tags"] == expected
    client.untag_resource(resourceArn=arn, tagKeys=["team", "created", "not-there"])
    assert client.get_tags(resourceArn=arn)["tags"] == {"failover:stack": "demo"}
    assert client.get_rest_api(restApiId=api_id)["tags"] == {"failover:stack": "demo"}


def test_tags_of_a_missing_api_are_not_found(sandbox_env: str) -> None:
    arn = f"arn:aws:apigateway:{REGION}::/restapis/nosuchapi0"
    for call in (
        lambda: apigateway().get_tags(resourceArn=arn),
        lambda: apigateway().tag_resource(resourceArn=arn, tags={"a": "b"}),
    ):
        with pytest.raises(ClientError) as missing:
            call()
        assert missing.value.response["Error"]["Code"] == "NotFoundException"


def test_stage_tags_still_work(sandbox_env: str) -> None:
    client = apigateway()
    api_id, arn = rest_api()
    root = client.get_resources(restApiId=api_id)["items"][0]["id"]
    client.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    client.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    client.create_deployment(restApiId=api_id, stageName="prod")
    stage_arn = f"{arn}/stages/prod"
    client.tag_resource(resourceArn=stage_arn, tags={"tier": "prod"})
    assert client.get_tags(resourceArn=stage_arn)["tags"] == {"tier": "prod"}
    assert not client.get_rest_api(restApiId=api_id).get("tags")  # the API's own stay apart


def test_deleting_a_missing_api_is_not_found(sandbox_env: str) -> None:
    client = apigateway()
    api_id, _ = rest_api()
    client.delete_rest_api(restApiId=api_id)
    with pytest.raises(ClientError) as missing:
        client.delete_rest_api(restApiId=api_id)
    assert missing.value.response["Error"]["Code"] == "NotFoundException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
