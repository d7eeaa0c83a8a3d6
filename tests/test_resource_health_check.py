"""Health check handler against moto: create/converge, in-place updates, masking, ownership."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.bundle import CodeBundle
from failover_cli.config.schema import HealthCheckConfig
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import props_dict
from failover_cli.engine.model import Action, Change, Observed, Spec
from failover_cli.engine.planner import plan_down
from failover_cli.resources.health_check import HANDLER, desired
from failover_cli.services.health_checks import find_health_check
from tests.engine_helpers import context, make_config

SECRET = "0123456789abcdef0123456789abcdef"
REGIONS = ("us-east-1", "us-west-2")
OWNERSHIP = {"failover:stack": "hello", "failover:managed-by": "failover"}


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def apis(aws: None) -> dict[str, str]:
    """The stack's REST API in each region (the health checks' targets)."""
    return {
        r: boto3.client("apigateway", r).create_rest_api(name="hello", tags=OWNERSHIP)["id"]
        for r in REGIONS
    }


def _specs(secret: str = SECRET, **health: Any) -> dict[str, Spec]:
    config = make_config(health_check=HealthCheckConfig(**health))
    inputs = DesiredInputs(config, secret, CodeBundle(b"", ""))
    return {s.region: s for s in desired(inputs)}


def _config(check_id: str) -> dict[str, Any]:
    check = boto3.client("route53", "us-east-1").get_health_check(HealthCheckId=check_id)
    config: dict[str, Any] = check["HealthCheck"]["HealthCheckConfig"]
    return config


def _tags(check_id: str) -> dict[str, str]:
    answer = boto3.client("route53", "us-east-1").list_tags_for_resource(
        ResourceType="healthcheck", ResourceId=check_id
    )
    return {t["Key"]: t["Value"] for t in answer["ResourceTagSet"]["Tags"]}


def _ids() -> list[str]:
    checks = boto3.client("route53", "us-east-1").list_health_checks()["HealthChecks"]
    return [c["Id"] for c in checks]


def test_one_check_per_region_after_its_api_and_its_copy_of_the_table() -> None:
    specs = _specs()
    table = specs["us-east-1"].depends_on[1].rsplit(":", 1)[-1]
    assert {r: (s.key, s.depends_on) for r, s in specs.items()} == {
        "us-east-1": (
            "health_check:us-east-1:hello-us-east-1",
            ("api:us-east-1:hello", f"table:us-east-1:{table}"),
        ),
        "us-west-2": (
            "health_check:us-west-2:hello-us-west-2",
            ("api:us-west-2:hello", f"replica:us-west-2:{table}"),
        ),
    }


def test_the_secret_never_shows_in_specs_or_plans() -> None:
    old, new = _specs("a" * 32)["us-east-1"], _specs(SECRET)["us-east-1"]
    assert SECRET not in repr(new)
    assert "healthCheckerId=…" in repr(new.props.path)
    fields = HANDLER.diff(new, _observed_from(old))  # plain data: no AWS needed
    assert [f.field for f in fields] == ["path"]
    text = Change(Action.UPDATE, new, _observed_from(old), fields).describe()
    assert SECRET not in text and "a" * 32 not in text
    assert "path: /prod/health?healthCheckerId=… -> /prod/health?healthCheckerId=…" in text


def _observed_from(spec: Spec) -> Observed:
    return Observed(exists=True, props=props_dict(spec.props), raw={"id": "x", "extra_ids": []})


def test_create_builds_the_documented_check_and_a_second_observe_sees_no_diff(
    apis: dict[str, str],
) -> None:
    specs = _specs()
    with context() as (ctx, _):
        for spec in specs.values():
            HANDLER.create(ctx, spec)
    with context() as (ctx, recorder):
        for region, spec in specs.items():
            seen = HANDLER.observe(ctx, spec)
            assert seen.exists and seen.owned
            assert HANDLER.diff(spec, seen) == []
            check = find_health_check(ctx, region)
            assert check is not None and ctx.outputs[f"health_check_id:{region}"] == check["Id"]
            config = _config(check["Id"])
            assert config["Type"] == "HTTPS_STR_MATCH"
            assert config["FullyQualifiedDomainName"] == (
                f"{apis[region]}.execute-api.{region}.amazonaws.com"
            )
            assert config["Port"] == 443
            assert config["ResourcePath"] == f"/prod/health?healthCheckerId={SECRET}"
            assert config["SearchString"] == "hello from"
            assert (config["RequestInterval"], config["FailureThreshold"]) == (10, 2)
            assert sorted(config["Regions"]) == ["us-east-1", "us-west-1", "us-west-2"]
            assert config["EnableSNI"] is True and config["MeasureLatency"] is False
            assert _tags(check["Id"]) == {"Name": f"hello-{region}", **OWNERSHIP}
        assert recorder.mutating == []


def test_caller_references_are_fresh_and_create_resumes_without_a_duplicate(
    apis: dict[str, str],
) -> None:
    spec = _specs()["us-east-1"]
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
        HANDLER.create(ctx, spec)  # a re-run after an interruption: finds the tagged one
    assert len(_ids()) == 1
    with context() as (ctx, _):
        HANDLER.create(ctx, _specs()["us-west-2"])
    references = {
        c["CallerReference"]
        for c in boto3.client("route53", "us-east-1").list_health_checks()["HealthChecks"]
    }
    assert len(references) == 2


def test_a_check_whose_tagging_was_interrupted_is_adopted_and_deleted_by_its_reference(
    apis: dict[str, str],
) -> None:
    r53 = boto3.client("route53", "us-east-1")
    spec = _specs()["us-east-1"]
    settings = {"Type": "HTTPS", "FullyQualifiedDomainName": "example.org", "Port": 443}
    stranger = r53.create_health_check(
        CallerReference="hello:elsewhere", HealthCheckConfig=settings
    )
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
        (mine,) = [i for i in _ids() if i != stranger["HealthCheck"]["Id"]]
        reference = r53.get_health_check(HealthCheckId=mine)["HealthCheck"]["CallerReference"]
        assert reference.startswith("hello:us-east-1:") and len(reference) <= 64
        # As if `up` had stopped between CreateHealthCheck and its tagging:
        r53.change_tags_for_resource(
            ResourceType="healthcheck", ResourceId=mine, RemoveTagKeys=[*OWNERSHIP, "Name"]
        )
    with context() as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
        assert seen.exists and seen.owned and seen.raw["id"] == mine
        HANDLER.create(ctx, spec)  # the re-run tags it instead of making a second one
        assert [c[2] for c in recorder.mutating] == ["ChangeTagsForResource"]
    assert _tags(mine) == {"Name": "hello-us-east-1", **OWNERSHIP}
    r53.change_tags_for_resource(
        ResourceType="healthcheck", ResourceId=mine, RemoveTagKeys=[*OWNERSHIP, "Name"]
    )
    with context() as (ctx, _):
        down = plan_down([spec], {spec.key: HANDLER.observe(ctx, spec)}, "hello")
        assert [c.action for c in down.changes] == [Action.DELETE]
        HANDLER.delete(ctx, spec, down.changes[0].observed)
    assert _ids() == [stranger["HealthCheck"]["Id"]]  # an untagged check of someone else stays


def test_changeable_settings_update_in_place_and_keep_the_checker_regions(
    apis: dict[str, str],
) -> None:
    with context() as (ctx, _):
        HANDLER.create(ctx, _specs()["us-east-1"])
    (check_id,) = _ids()
    spec = _specs(
        "b" * 32,
        failure_threshold=3,
        search_string="Hello from",
        checker_regions=("eu-west-1", "us-east-1", "us-west-1"),
    )["us-east-1"]
    with context() as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert {c.field for c in changes} == {
            "path",
            "failure_threshold",
            "search_string",
            "regions",
        }
        assert all(not c.note for c in changes)
        HANDLER.update(ctx, spec, seen, changes)
        assert [c[2] for c in recorder.mutating] == ["UpdateHealthCheck"]
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    assert _ids() == [check_id]
    config = _config(check_id)
    assert sorted(config["Regions"]) == ["eu-west-1", "us-east-1", "us-west-1"]
    assert config["ResourcePath"].endswith("b" * 32)


def test_a_new_api_id_moves_the_target_host(apis: dict[str, str]) -> None:
    spec = _specs()["us-west-2"]
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
    ag = boto3.client("apigateway", "us-west-2")
    ag.delete_rest_api(restApiId=apis["us-west-2"])
    new_api = ag.create_rest_api(name="hello", tags=OWNERSHIP)["id"]
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert [c.field for c in changes] == ["fqdn"]
        HANDLER.update(ctx, spec, seen, changes)
    (check_id,) = _ids()
    assert _config(check_id)["FullyQualifiedDomainName"].startswith(f"{new_api}.")


def test_a_check_disabled_by_hand_is_enabled_again(apis: dict[str, str]) -> None:
    spec = _specs()["us-east-1"]
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
    (check_id,) = _ids()
    r53 = boto3.client("route53", "us-east-1")
    # A disabled check counts as healthy: failover would silently stop working.
    r53.update_health_check(HealthCheckId=check_id, Disabled=True, Regions=list(spec.props.regions))
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        assert [c.field for c in HANDLER.diff(spec, seen)] == ["disabled"]
        HANDLER.update(ctx, spec, seen, HANDLER.diff(spec, seen))
    assert _config(check_id)["Disabled"] is False


def test_a_look_alike_without_ownership_tags_is_never_taken_over_or_deleted(
    apis: dict[str, str],
) -> None:
    r53 = boto3.client("route53", "us-east-1")
    spec = _specs()["us-east-1"]
    other = r53.create_health_check(
        CallerReference="someone-else",
        HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": "example.org", "Port": 443},
    )["HealthCheck"]["Id"]
    r53.change_tags_for_resource(
        ResourceType="healthcheck",
        ResourceId=other,
        AddTags=[{"Key": "Name", "Value": "hello-us-east-1"}],
    )
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        assert seen.exists and not seen.owned
        assert find_health_check(ctx, "us-east-1") is None
        down = plan_down([spec], {spec.key: seen}, "hello")
        assert [c.action for c in down.changes] == [Action.SKIP]
    assert _ids() == [other]


def test_delete_twice_is_fine(apis: dict[str, str]) -> None:
    spec = _specs()["us-east-1"]
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
        seen = HANDLER.observe(ctx, spec)
        HANDLER.delete(ctx, spec, seen)
        HANDLER.delete(ctx, spec, seen)  # NoSuchHealthCheck (or silence) counts as gone
        assert not HANDLER.observe(ctx, spec).exists
    assert _ids() == []


def test_changing_the_interval_is_planned_as_a_replacement(apis: dict[str, str]) -> None:
    with context() as (ctx, _):
        HANDLER.create(ctx, _specs()["us-east-1"])
        spec = _specs(interval_s=30)["us-east-1"]
        changes = HANDLER.diff(spec, HANDLER.observe(ctx, spec))
    assert [c.describe() for c in changes] == ["interval: 10 -> 30, replaces the check"]
