"""REST API handler against moto: regional, proxied to the local function, scoped permission."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.bundle import build_bundle
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.resources import alias, function, role
from failover_cli.resources.api import HANDLER, desired, find_api
from tests.engine_helpers import context, make_config

ACCOUNT = "123456789012"  # moto's account
REGIONS = ("us-east-1", "us-west-2")
STATEMENT = "hello-apigateway"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def inputs(tmp_path: Path) -> DesiredInputs:
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    return DesiredInputs(make_config(), "s3cret", build_bundle(tmp_path))


@pytest.fixture
def functions(aws: None, inputs: DesiredInputs) -> None:
    """The role, the function and its `live` alias (a published version) in both regions,
    as `up` builds them before the API, which invokes `function:live`."""
    handlers = {"role": role.HANDLER, "function": function.HANDLER, "alias": alias.HANDLER}
    with context() as (ctx, _):
        for spec in role.desired(inputs) + function.desired(inputs) + alias.desired(inputs):
            handlers[spec.kind].create(ctx, spec)


def _specs(inputs: DesiredInputs) -> dict[str, Spec]:
    return {s.region: s for s in desired(inputs)}


def _create_all(ctx: Context, inputs: DesiredInputs) -> dict[str, Spec]:
    specs = _specs(inputs)
    for spec in specs.values():
        HANDLER.create(ctx, spec)
    return specs


def _proxy_method(region: str, api_id: str) -> dict[str, Any]:
    ag = boto3.client("apigateway", region)
    items = ag.get_resources(restApiId=api_id)["items"]
    proxy = next(r for r in items if r["path"] == "/{proxy+}")
    method: dict[str, Any] = ag.get_method(
        restApiId=api_id, resourceId=proxy["id"], httpMethod="ANY"
    )
    return method


def _permission(region: str) -> dict[str, Any] | None:
    lam = boto3.client("lambda", region)
    try:
        # The permission is granted on the alias API Gateway invokes (Qualifier=live).
        policy = json.loads(lam.get_policy(FunctionName="thelambda", Qualifier="live")["Policy"])
    except lam.exceptions.ResourceNotFoundException:  # an empty policy does not exist
        return None
    return next((s for s in policy["Statement"] if s["Sid"] == STATEMENT), None)


def test_desired_depends_on_the_function_and_its_alias_in_the_same_region(
    inputs: DesiredInputs,
) -> None:
    specs = _specs(inputs)
    assert {r: s.depends_on for r, s in specs.items()} == {
        "us-east-1": ("function:us-east-1:thelambda", "alias:us-east-1:live"),
        "us-west-2": ("function:us-west-2:thelambda", "alias:us-west-2:live"),
    }
    assert all(s.name == "hello" for s in specs.values())


def test_create_then_observe_shows_no_diff_and_records_the_api_id(
    functions: None, inputs: DesiredInputs
) -> None:
    with context() as (ctx, _):
        specs = _create_all(ctx, inputs)
    with context() as (ctx, recorder):
        for spec in specs.values():
            seen = HANDLER.observe(ctx, spec)
            assert seen.exists and seen.owned
            assert HANDLER.diff(spec, seen) == []
        assert recorder.mutating == []
        for region in REGIONS:
            api = find_api(ctx, region)
            assert api is not None
            assert ctx.outputs[f"api_id:{region}"] == api["id"]


def test_api_is_regional_and_proxies_to_the_function_of_its_own_region(
    functions: None, inputs: DesiredInputs
) -> None:
    with context() as (ctx, _):
        _create_all(ctx, inputs)
        apis = {r: find_api(ctx, r) for r in REGIONS}
    for region, api in apis.items():
        assert api is not None
        assert api["endpointConfiguration"]["types"] == ["REGIONAL"]
        method = _proxy_method(region, api["id"])
        assert method["authorizationType"] == "NONE"
        integration = method["methodIntegration"]
        # API Gateway invokes the `live` alias, never $LATEST (issue 21).
        fn_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:thelambda:live"
        assert (integration["type"], integration["httpMethod"]) == ("AWS_PROXY", "POST")
        assert integration["uri"] == (
            f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn}/invocations"
        )
        stage = boto3.client("apigateway", region).get_stage(restApiId=api["id"], stageName="prod")
        assert stage["deploymentId"]


def test_permission_lets_only_this_api_invoke_the_function(
    functions: None, inputs: DesiredInputs
) -> None:
    with context() as (ctx, _):
        _create_all(ctx, inputs)
        apis = {r: find_api(ctx, r) for r in REGIONS}
    for region, api in apis.items():
        assert api is not None
        statement = _permission(region)
        assert statement is not None
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        assert statement["Action"] == "lambda:InvokeFunction"
        assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
            f"arn:aws:execute-api:{region}:{ACCOUNT}:{api['id']}/*/*/*"
        )


def test_changed_integration_and_lost_permission_converge_with_a_new_deployment(
    functions: None, inputs: DesiredInputs
) -> None:
    region = "us-east-1"
    ag = boto3.client("apigateway", region)
    with context() as (ctx, _):
        spec = _create_all(ctx, inputs)[region]
        api = find_api(ctx, region)
    assert api is not None
    proxy = next(r for r in ag.get_resources(restApiId=api["id"])["items"] if r["path"] != "/")
    elsewhere = "arn:aws:lambda:us-east-1:123456789012:function:other"
    ag.put_integration(
        restApiId=api["id"],
        resourceId=proxy["id"],
        httpMethod="ANY",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{elsewhere}/invocations",
    )
    boto3.client("lambda", region).remove_permission(
        FunctionName="thelambda", StatementId=STATEMENT, Qualifier="live"
    )
    with context() as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert {c.field for c in changes} == {"integration", "permission"}
        recorder.calls.clear()
        HANDLER.update(ctx, spec, seen, changes)
        operations = [c[2] for c in recorder.mutating]
        assert "PutIntegration" in operations and "CreateDeployment" in operations
        assert "AddPermission" in operations
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    assert "thelambda" in _proxy_method(region, api["id"])["methodIntegration"]["uri"]


def test_permission_only_change_does_not_redeploy(functions: None, inputs: DesiredInputs) -> None:
    region = "us-west-2"
    with context() as (ctx, _):
        spec = _create_all(ctx, inputs)[region]
    boto3.client("lambda", region).remove_permission(
        FunctionName="thelambda", StatementId=STATEMENT, Qualifier="live"
    )
    with context() as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
        recorder.calls.clear()
        HANDLER.update(ctx, spec, seen, HANDLER.diff(spec, seen))
    assert [c[2] for c in recorder.mutating] == ["AddPermission"]


def test_create_resumes_an_interrupted_run_without_a_second_api(
    functions: None, inputs: DesiredInputs
) -> None:
    region = "us-east-1"
    spec = _specs(inputs)[region]
    # The first run made the API (with its tags) and stopped.
    boto3.client("apigateway", region).create_rest_api(
        name="hello", endpointConfiguration={"types": ["REGIONAL"]}, tags=dict(spec.props.tags)
    )
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    items = boto3.client("apigateway", region).get_rest_apis()["items"]
    assert [a["name"] for a in items] == ["hello"]


def test_a_duplicate_from_a_resent_create_is_planned_and_deleted_keeping_the_oldest(
    functions: None, inputs: DesiredInputs
) -> None:
    region = "us-east-1"
    spec = _specs(inputs)[region]
    ag = boto3.client("apigateway", region)
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
    (first,) = [a["id"] for a in ag.get_rest_apis()["items"]]
    # CreateRestApi is not idempotent: a create resent after a lost answer makes another.
    tags = {"failover:stack": "hello", "failover:managed-by": "failover"}
    ag.create_rest_api(name="hello", tags=tags)
    with context() as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert [(c.field, c.old, c.new) for c in changes] == [("duplicates", 1, 0)]
        HANDLER.update(ctx, spec, seen, changes)
        assert [c[2] for c in recorder.mutating] == ["DeleteRestApi"]
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    assert [a["id"] for a in ag.get_rest_apis()["items"]] == [first]


def test_untagged_look_alike_is_not_owned_and_the_owned_one_is_preferred(
    functions: None, inputs: DesiredInputs
) -> None:
    region = "us-east-1"
    spec = _specs(inputs)[region]
    ag = boto3.client("apigateway", region)
    ag.create_rest_api(name="hello")
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        assert seen.exists and not seen.owned
        assert f"api_id:{region}" not in ctx.outputs
        HANDLER.create(ctx, spec)
        ours = find_api(ctx, region)
        seen = HANDLER.observe(ctx, spec)
    assert ours is not None and ours["tags"]["failover:stack"] == "hello"
    assert seen.owned and HANDLER.diff(spec, seen) == []


def test_delete_twice_is_fine_and_removes_the_permission_and_only_owned_apis(
    functions: None, inputs: DesiredInputs
) -> None:
    region = "us-east-1"
    ag = boto3.client("apigateway", region)
    foreign = ag.create_rest_api(name="hello")["id"]
    with context() as (ctx, _):
        spec = _create_all(ctx, inputs)[region]
        seen = HANDLER.observe(ctx, spec)
        HANDLER.delete(ctx, spec, seen)
        HANDLER.delete(ctx, spec, seen)
        assert not HANDLER.observe(ctx, spec).owned
    assert [a["id"] for a in ag.get_rest_apis()["items"]] == [foreign]
    assert _permission(region) is None


def test_delete_after_the_function_is_gone_is_fine(functions: None, inputs: DesiredInputs) -> None:
    region = "us-west-2"
    with context() as (ctx, _):
        spec = _create_all(ctx, inputs)[region]
        seen = HANDLER.observe(ctx, spec)
        boto3.client("lambda", region).delete_function(FunctionName="thelambda")
        HANDLER.delete(ctx, spec, seen)
        assert not HANDLER.observe(ctx, spec).exists
