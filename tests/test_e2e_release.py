"""End to end against the sandbox: each region's API serves the `live` alias of its function.

What a user relies on: the API invokes a published version (never `$LATEST` being
written), a release publishes only when something changed, old versions are pruned
but never the live one, force-fail (the switch) never touches a release, and a stack
deployed before the alias moves onto it in the right order.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from failover_cli.bundle import shipped_bundle_path
from tests.e2e_helpers import NO_BAKE, client, failover, unique_stack, write_config
from tests.sandbox_api_helpers import api_get

pytestmark = pytest.mark.sandbox
REGIONS = ("us-east-1", "us-west-2")


def _api_id(endpoint: str, stack: str, region: str) -> str:
    apis = client("apigateway", region, endpoint).get_rest_apis()["items"]
    return str(next(a["id"] for a in apis if a["name"] == stack))


def _proxy(endpoint: str, stack: str, region: str) -> tuple[Any, str, str]:
    ag = client("apigateway", region, endpoint)
    api = _api_id(endpoint, stack, region)
    resources = ag.get_resources(restApiId=api)["items"]
    proxy = next(r["id"] for r in resources if r["path"] == "/{proxy+}")
    return ag, api, proxy


def _integration_uri(endpoint: str, stack: str, region: str) -> str:
    ag, api, proxy = _proxy(endpoint, stack, region)
    return str(ag.get_integration(restApiId=api, resourceId=proxy, httpMethod="ANY")["uri"])


def _statement_ids(endpoint: str, region: str, function: str, **qualifier: str) -> list[str]:
    lam = client("lambda", region, endpoint)
    try:
        policy = json.loads(lam.get_policy(FunctionName=function, **qualifier)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        return []
    return [s["Sid"] for s in policy["Statement"]]


def _live(endpoint: str, region: str, function: str) -> dict[str, Any]:
    lam = client("lambda", region, endpoint)
    version = lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"]
    answer: dict[str, Any] = lam.get_function_configuration(
        FunctionName=function, Qualifier=version
    )
    return answer


def _versions(endpoint: str, region: str, function: str) -> list[str]:
    lam = client("lambda", region, endpoint)
    found = lam.list_versions_by_function(FunctionName=function)["Versions"]
    return sorted((v["Version"] for v in found if v["Version"] != "$LATEST"), key=int)


def _health(endpoint: str, stack: str, region: str) -> int:
    lam = client("lambda", region, endpoint)
    variables = lam.get_function_configuration(FunctionName=f"{stack}-fn")["Environment"]
    path = f"/prod/health?healthCheckerId={variables['Variables']['HEALTH_CHECKER_ID']}"
    return api_get(endpoint, _api_id(endpoint, stack, region), region, path).status


def test_the_api_serves_the_live_alias_and_releases_publish_only_changes(
    sandbox_env: str, tmp_path: Path
) -> None:
    stack = unique_stack()
    function = f"{stack}-fn"
    config = write_config(tmp_path, stack, NO_BAKE)
    assert failover(config, "up").exit_code == 0

    for region in REGIONS:
        assert _integration_uri(sandbox_env, stack, region).endswith(
            f":function:{function}:live/invocations"
        )
        assert _statement_ids(sandbox_env, region, function, Qualifier="live") == [
            f"{stack}-apigateway"
        ]
        assert _statement_ids(sandbox_env, region, function) == []
        assert _versions(sandbox_env, region, function) == ["1"]
        assert _health(sandbox_env, stack, region) == 200

    # Five releases: each publishes one version and moves the alias; old ones are pruned.
    for n in range(5):
        release = f"  environment:\n    RELEASE: 'r{n}'\n"
        config = write_config(tmp_path, stack, release + NO_BAKE)
        assert failover(config, "up").exit_code == 0
        for region in REGIONS:
            live = _live(sandbox_env, region, function)
            assert live["Environment"]["Variables"]["RELEASE"] == f"r{n}"
            assert live["Version"] == str(n + 2)
            versions = _versions(sandbox_env, region, function)
            assert live["Version"] in versions and len(versions) <= 3

    again = failover(config, "up")
    assert again.exit_code == 0, again.stderr
    assert again.mutating == []

    # force-fail writes the switch, never a release: the function keeps serving clients that
    # still hold the old DNS answer, and `up` leaves the switch (operator state) alone.
    forced = failover(config, "force-fail", "--region", "us-west-2")
    assert forced.exit_code == 0 and forced.mutating == ["dynamodb:UpdateItem"]
    assert _health(sandbox_env, stack, "us-west-2") == 200
    assert failover(config, "up").mutating == []
    assert failover(config, "force-fail", "--region", "us-west-2", "--restore").exit_code == 0

    assert failover(config, "down", "--yes").exit_code == 0


def test_a_stack_made_before_the_alias_moves_onto_it_in_a_safe_order(
    sandbox_env: str, tmp_path: Path
) -> None:
    stack = unique_stack()
    function = f"{stack}-fn"
    config = write_config(tmp_path, stack)
    assert failover(config, "up").exit_code == 0
    region = "us-east-1"
    # Make the region look like a stack from before: the API invokes the bare function.
    ag, api, proxy = _proxy(sandbox_env, stack, region)
    uri = _integration_uri(sandbox_env, stack, region).replace(":live/", "/")
    ag.put_integration(
        restApiId=api,
        resourceId=proxy,
        httpMethod="ANY",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=uri,
    )
    ag.create_deployment(restApiId=api, stageName="prod")
    lam = client("lambda", region, sandbox_env)
    source = f"arn:aws:execute-api:{region}:123456789012:{api}/*/*/*"
    lam.add_permission(
        FunctionName=function,
        StatementId=f"{stack}-apigateway",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=source,
    )
    lam.remove_permission(
        FunctionName=function, StatementId=f"{stack}-apigateway", Qualifier="live"
    )
    assert _health(sandbox_env, stack, region) == 200

    moved = failover(config, "up")
    assert moved.exit_code == 0, moved.stderr
    ops = [c["op"] for c in moved.calls if c["region"] == region and c["service"] != "route53"]
    mutating = [op for op in ops if op in {"AddPermission", "PutIntegration", "RemovePermission"}]
    # Open the alias, then switch and deploy, then close the bare function.
    assert mutating == ["AddPermission", "PutIntegration", "RemovePermission"]
    assert ops.index("CreateDeployment") < ops.index("RemovePermission")
    assert _integration_uri(sandbox_env, stack, region).endswith(":live/invocations")
    assert _statement_ids(sandbox_env, region, function) == []
    assert _health(sandbox_env, stack, region) == 200
    assert failover(config, "up").mutating == []
    assert failover(config, "down", "--yes").exit_code == 0


def _release(source: Path, marker: str, *, breaks: str = "") -> None:
    """A new release of the bundle: a changed comment, and what breaks it if asked."""
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(shipped_bundle_path(), source, ignore=shutil.ignore_patterns("__pycache__"))
    routes = source / "app_routes.py"
    text = routes.read_text() + f"\n# release {marker}\n"
    if breaks == "import":
        text += "raise RuntimeError('this release cannot start')\n"
    routes.write_text(text)
    if breaks == "deep":  # shallow pings answer; a deep ping cannot read its item
        ping = source / "deep_ping.py"
        ping.write_text(
            ping.read_text() + "\n\ndef read_greeting(region: str) -> None:\n    return None\n"
        )


def test_a_release_rolls_region_by_region_and_a_failed_gate_rolls_back(
    sandbox_env: str, tmp_path: Path
) -> None:
    stack = unique_stack()
    function = f"{stack}-fn"
    source = tmp_path / "code"
    _release(source, "good-1")
    config = write_config(tmp_path, stack, f"  source: {source}\n" + NO_BAKE)
    assert failover(config, "up").exit_code == 0
    first = {r: _live(sandbox_env, r, function)["Version"] for r in REGIONS}

    plan_text = ""
    for breaks, gate in (("import", "shallow /health"), ("deep", "deep /health")):
        _release(source, breaks, breaks=breaks)
        plan = failover(config, "plan")
        plan_text = plan.stdout
        bad = failover(config, "up")
        assert bad.exit_code == 1, bad.stdout + bad.stderr
        said = " ".join(bad.stderr.split())
        # No domain: the config's last region goes first, and the primary never sees it.
        assert "The release stopped in us-west-2" in said and f"the {gate} gate" in said
        assert "us-east-1 never saw it" in said
        for region in REGIONS:
            assert _live(sandbox_env, region, function)["Version"] == first[region]
            assert _health(sandbox_env, stack, region) == 200
    assert "Release: one region at a time, us-west-2 -> us-east-1" in " ".join(plan_text.split())

    _release(source, "good-2")
    good = failover(config, "up")
    assert good.exit_code == 0, good.stderr
    for region in REGIONS:
        live = _live(sandbox_env, region, function)
        assert live["Version"] != first[region]
        assert (
            live["CodeSha256"]
            == client("lambda", region, sandbox_env).get_function(FunctionName=function)[
                "Configuration"
            ]["CodeSha256"]
        )
        assert _health(sandbox_env, stack, region) == 200
    assert failover(config, "up").mutating == []

    status = " ".join(failover(config, "status").stdout.split())
    assert "Regions serve different releases" not in status
    # One region back on the first release (as a stopped release leaves it): status says so.
    lam = client("lambda", "us-west-2", sandbox_env)
    older = _versions(sandbox_env, "us-west-2", function)[0]
    lam.update_alias(FunctionName=function, Name="live", FunctionVersion=older)
    status = " ".join(failover(config, "status").stdout.split())
    assert "Regions serve different releases: us-east-1 version" in status
    assert f"us-west-2 version {older}" in status
    assert failover(config, "down", "--yes").exit_code == 0
