"""force-fail against moto in-process: the environment merge, idempotence and the refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from failover_cli.errors import BadInput, FailoverError
from failover_cli.ops.force_fail import force_fail
from failover_cli.ops.function_environment import is_force_failed, set_force_fail, with_force_fail
from tests.e2e_helpers import failover
from tests.engine_helpers import context, make_config
from tests.ops_fakes import SECRET, FollowingObserver, deploy_functions, environment, force_failed

HAND_ADDED = {"MY_FEATURE_FLAG": "on", "HEALTH_CHECKER_ID_NEXT": "next-secret"}


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def deployed(aws: None) -> None:
    deploy_functions(make_config(), HAND_ADDED)


def test_merge_sets_only_force_fail() -> None:
    current = {"A": "1", "FORCE_FAIL": "false", "HEALTH_CHECKER_ID": "s"}
    assert with_force_fail(current, True) == {**current, "FORCE_FAIL": "true"}
    assert with_force_fail({"A": "1"}, False) == {"A": "1", "FORCE_FAIL": "false"}
    assert current["FORCE_FAIL"] == "false"  # the input is not modified


@pytest.mark.parametrize(
    ("value", "failed"),
    [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("false", False), ("", False)],
)
def test_force_fail_reads_like_the_function(value: str, failed: bool) -> None:
    assert is_force_failed({"FORCE_FAIL": value}) is failed
    assert is_force_failed({}) is False


def test_fail_and_restore_keep_every_other_variable(deployed: None) -> None:
    before = environment("us-east-1")
    with context() as (ctx, calls):
        report = force_fail(ctx, "us-east-1", observer=FollowingObserver())
    assert report.change.changed and report.change.previous == "false"
    after = environment("us-east-1")
    assert after == {**before, "FORCE_FAIL": "true"}
    assert after["HEALTH_CHECKER_ID"] == SECRET and after["MY_FEATURE_FLAG"] == "on"
    assert calls.mutating == [("lambda", "us-east-1", "UpdateFunctionConfiguration")]
    assert environment("us-west-2")["FORCE_FAIL"] == "false"  # the other region is untouched

    with context() as (ctx, calls):
        restored = force_fail(ctx, "us-east-1", restore=True, observer=FollowingObserver())
    assert restored.change.changed and restored.change.previous == "true"
    assert environment("us-east-1") == {**before, "FORCE_FAIL": "false"}


def test_already_set_writes_nothing(deployed: None) -> None:
    with context() as (ctx, _):
        force_fail(ctx, "us-west-2", observer=FollowingObserver())
    with context() as (ctx, calls):
        again = force_fail(ctx, "us-west-2", observer=FollowingObserver())
        restored_twice = force_fail(ctx, "us-east-1", restore=True, observer=FollowingObserver())
    assert not again.change.changed and not restored_twice.change.changed
    assert calls.mutating == []
    assert again.to_json() == {
        "region": "us-west-2",
        "action": "fail",
        "via": "function",
        "changed": False,
        "previous": "true",
        "phases": [],
        "total_seconds": 0.0,
    }


def test_unknown_region_is_bad_input_and_changes_nothing(deployed: None) -> None:
    with context() as (ctx, calls), pytest.raises(BadInput, match="eu-west-1 is not one of"):
        force_fail(ctx, "eu-west-1", observer=FollowingObserver())
    assert calls.mutating == []


def test_refuses_the_last_healthy_region(deployed: None) -> None:
    with context() as (ctx, _):
        force_fail(ctx, "us-east-1", observer=FollowingObserver())
    with context() as (ctx, calls), pytest.raises(BadInput) as refused:
        force_fail(ctx, "us-west-2", observer=FollowingObserver())
    assert calls.mutating == []
    assert "last healthy region" in refused.value.message
    assert "us-east-1: FORCE_FAIL is on" in refused.value.message
    assert "--allow-total-outage" in (refused.value.hint or "")
    assert not force_failed("us-west-2")
    # Restoring is never refused; failing everything is allowed when asked for.
    with context() as (ctx, _):
        force_fail(ctx, "us-west-2", allow_total_outage=True, observer=FollowingObserver())
        force_fail(ctx, "us-west-2", restore=True, observer=FollowingObserver())
    assert force_failed("us-east-1") and not force_failed("us-west-2")


def test_an_unhealthy_check_elsewhere_makes_this_the_last_healthy_region(deployed: None) -> None:
    observer = FollowingObserver(unhealthy={"us-west-2"})
    with context() as (ctx, calls), pytest.raises(BadInput, match="health check unhealthy"):
        force_fail(ctx, "us-east-1", observer=observer)
    assert calls.mutating == []


def test_a_missing_function_elsewhere_is_not_healthy(deployed: None) -> None:
    boto3.client("lambda", "us-west-2").delete_function(FunctionName="thelambda")
    with context() as (ctx, _), pytest.raises(BadInput, match="function missing"):
        force_fail(ctx, "us-east-1", observer=FollowingObserver())


def test_refusal_reads_route53_health_checks(deployed: None) -> None:
    """The real observer: moto's checks always report Success, so the other region is healthy."""
    r53 = boto3.client("route53", "us-east-1")
    config = make_config()
    for region in config.regions:
        check = r53.create_health_check(
            CallerReference=region,
            HealthCheckConfig={
                "Type": "HTTPS_STR_MATCH",
                "FullyQualifiedDomainName": f"api.execute-api.{region}.amazonaws.com",
                "Port": 443,
                "ResourcePath": "/prod/health",
                "SearchString": "hello from",
                "RequestInterval": 10,
                "FailureThreshold": 2,
            },
        )["HealthCheck"]["Id"]
        tags = {**config.ownership_tags(), "Name": config.health_check_name(region)}
        r53.change_tags_for_resource(
            ResourceType="healthcheck",
            ResourceId=check,
            AddTags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )
    with context(config) as (ctx, _):
        report = force_fail(ctx, "us-east-1")
    assert report.change.changed and force_failed("us-east-1")
    with context(config) as (ctx, _), pytest.raises(BadInput, match="last healthy"):
        force_fail(ctx, "us-west-2")


def test_missing_function_says_to_run_up(aws: None) -> None:
    with context() as (ctx, _), pytest.raises(FailoverError) as missing:
        set_force_fail(ctx, "us-east-1", True)
    assert "does not exist" in missing.value.message and "failover up" in str(missing.value.hint)


def _config_file(folder: Path) -> Path:
    path = folder / "failover.yaml"
    path.write_text("stack: hello\nregions: [us-east-1, us-west-2]\n", encoding="utf-8")
    return path


def test_cli_exit_codes_and_json(deployed: None, tmp_path: Path) -> None:
    config = _config_file(tmp_path)
    unknown = failover(config, "force-fail", "--region", "eu-west-1")
    assert unknown.exit_code == 2 and unknown.mutating == []
    assert "eu-west-1 is not one of" in unknown.stderr

    failed = failover(config, "force-fail", "--region", "us-east-1", "--json")
    assert failed.exit_code == 0, failed.stderr
    assert json.loads(failed.stdout) == {
        "region": "us-east-1",
        "action": "fail",
        "via": "function",
        "changed": True,
        "previous": "false",
        "phases": [],
        "total_seconds": 0.0,
    }
    refused = failover(config, "force-fail", "--region", "us-west-2")
    assert refused.exit_code == 2 and refused.mutating == []
    assert "--allow-total-outage" in refused.stderr

    restored = failover(config, "force-fail", "--region", "us-east-1", "--restore")
    assert restored.exit_code == 0, restored.stderr
    assert "FORCE_FAIL=false in us-east-1 (was true)" in restored.stdout
    assert SECRET not in restored.stdout + restored.stderr
    assert environment("us-east-1")["FORCE_FAIL"] == "false"


def test_restore_without_a_region_restores_whatever_is_forced(
    deployed: None, tmp_path: Path
) -> None:
    config = tmp_path / "failover.yaml"
    config.write_text("stack: hello\nregions: [us-east-1, us-west-2]\n", encoding="utf-8")
    with context() as (ctx, _):
        set_force_fail(ctx, "us-west-2", True)
    run = failover(config, "force-fail", "--restore", "--json")
    assert run.exit_code == 0, run.stderr
    restored = json.loads(run.stdout)["restored"]
    assert [r["region"] for r in restored] == ["us-west-2"]
    assert not force_failed("us-west-2") and not force_failed("us-east-1")

    again = failover(config, "force-fail", "--restore")
    assert again.exit_code == 0 and "Nothing is forced to fail" in again.stderr
    assert again.mutating == []
    refused = failover(config, "force-fail")
    assert refused.exit_code == 2 and "--region" in refused.stderr
