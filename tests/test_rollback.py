"""`failover rollback`'s choices and the canary wave, against moto in-process.

What a user relies on: the release history the alias carries (its Description) walks
back one release per rollback; only the regions serving the stack's latest release
move; a version frozen with another health-checker secret or force-fail state is
refused before any change, naming the variable but never its value; a canary that
fails its check never takes the whole alias.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.config.loader import load_config
from failover_cli.config.schema import DeployConfig
from failover_cli.engine.model import Action, Change, FieldChange, Observed, Plan, Spec
from failover_cli.engine.secret import NEXT_SECRET_VARIABLE, SECRET_VARIABLE
from failover_cli.errors import BadInput, ConfigError, FailoverError
from failover_cli.ops import release_gates
from failover_cli.ops.function_environment import set_force_fail
from failover_cli.ops.release_gates import GateFailure
from failover_cli.ops.release_waves import Move, describe_waves, gated_move
from failover_cli.ops.rollback import plan_rollback
from failover_cli.resources.function import FORCE_FAIL
from failover_cli.services.live_alias import (
    HISTORY_DEPTH,
    OPERATIONAL_VARIABLES,
    describe_history,
    history_of,
    moved_history,
)
from tests.e2e_helpers import failover, write_config
from tests.engine_helpers import context, make_config
from tests.ops_fakes import FUNCTION, SECRET, deploy_functions

EAST, WEST = "us-east-1", "us-west-2"


@pytest.fixture
def deployed() -> Iterator[None]:
    with mock_aws():
        deploy_functions(make_config())
        yield


def _publish(region: str, **variables: str) -> str:
    """$LATEST with `variables` changed, published: a version as `up` or an operational
    command would make it."""
    lam = boto3.client("lambda", region)
    current = lam.get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=FUNCTION, Environment={"Variables": {**current, **variables}}
    )
    return str(lam.publish_version(FunctionName=FUNCTION)["Version"])


def _alias(region: str, version: str, *history: str) -> None:
    lam = boto3.client("lambda", region)
    names = [a["Name"] for a in lam.list_aliases(FunctionName=FUNCTION)["Aliases"]]
    write = lam.update_alias if "live" in names else lam.create_alias
    write(
        FunctionName=FUNCTION,
        Name="live",
        FunctionVersion=version,
        Description=describe_history(history),
    )


def _read_alias(region: str) -> dict[str, Any]:
    answer: dict[str, Any] = boto3.client("lambda", region).get_alias(
        FunctionName=FUNCTION, Name="live"
    )
    return answer


def test_the_history_walks_back_on_rollback_and_grows_on_release() -> None:
    assert moved_history((), "1", "2") == ("1",)  # a release remembers what it replaced
    assert moved_history(("2", "1"), "3", "4") == ("3", "2")[:HISTORY_DEPTH]
    assert moved_history(("2", "1"), "3", "2") == ("1",)  # a rollback drops what it undid
    assert moved_history(("2", "1"), "3", "1") == ()
    assert moved_history(("2",), "3", "3") == ("2",)  # no move, no change
    assert moved_history(("2", "1"), "3", "7") == ("3", "2")  # --to elsewhere: like a release
    assert history_of({"Description": describe_history(("5", "3"))}) == ("5", "3")
    assert history_of({"Description": "made by hand"}) == ()
    assert history_of(None) == ()
    assert len(describe_history([str(10**9)] * 10)) <= 256  # Lambda's Description limit


def test_only_the_regions_serving_the_latest_release_move(deployed: None) -> None:
    # A release stopped in its second wave: east serves it, west went back.
    for region in (EAST, WEST):
        _alias(region, _publish(region, RELEASE="1"))
    first = _read_alias(EAST)["FunctionVersion"]
    _alias(EAST, _publish(EAST, RELEASE="2"), first)
    with context() as (ctx, calls):
        plan = plan_rollback(ctx, (EAST, WEST), None)
    assert [(m.region, m.target) for m in plan.moves] == [(EAST, first)]
    assert plan.already == [WEST]
    assert calls.mutating == []


def test_a_version_with_another_secret_is_refused_and_the_secret_never_shown(
    deployed: None,
) -> None:
    old = _publish(EAST, RELEASE="1")
    _alias(EAST, _publish(EAST, RELEASE="2"), old)
    _alias(EAST, _publish(EAST, HEALTH_CHECKER_ID="rotated-secret-value"), old)  # like rotate
    with context() as (ctx, calls), pytest.raises(BadInput) as refused:
        plan_rollback(ctx, (EAST,), None)
    said = str(refused.value) + (refused.value.hint or "")
    assert "HEALTH_CHECKER_ID" in said and "old health-checker secret" in said
    assert SECRET not in said and "rotated-secret-value" not in said
    assert "function.source" in said  # how to proceed
    assert calls.mutating == []


def test_a_version_with_another_force_fail_state_is_refused(deployed: None) -> None:
    old = _publish(EAST, RELEASE="1")
    _alias(EAST, _publish(EAST, RELEASE="2", FORCE_FAIL="true"), old)
    with context() as (ctx, _), pytest.raises(BadInput, match="another force-fail state"):
        plan_rollback(ctx, (EAST,), None)


def test_nothing_recorded_or_a_missing_version_is_refused(deployed: None) -> None:
    _alias(EAST, _publish(EAST, RELEASE="1"))
    with context() as (ctx, _), pytest.raises(BadInput, match="no earlier release recorded"):
        plan_rollback(ctx, (EAST,), None)
    with context() as (ctx, _), pytest.raises(BadInput, match="version 9 does not exist"):
        plan_rollback(ctx, (EAST,), "9")


def test_the_operational_variables_are_the_secrets_and_force_fail() -> None:
    assert set(OPERATIONAL_VARIABLES) == {SECRET_VARIABLE, NEXT_SECRET_VARIABLE, FORCE_FAIL}


def test_an_operational_edit_never_serves_a_release_the_alias_does_not(deployed: None) -> None:
    # A release stopped by a gate (or undone by rollback) stays in $LATEST.
    live = _publish(EAST, RELEASE="1")
    _alias(EAST, live)
    lam = boto3.client("lambda", EAST)
    current = lam.get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=FUNCTION, Environment={"Variables": {**current, "RELEASE": "2"}}
    )
    with context() as (ctx, calls), pytest.raises(FailoverError, match="not put live ungated"):
        set_force_fail(ctx, EAST, True)
    assert _read_alias(EAST)["FunctionVersion"] == live
    assert ("lambda", EAST, "PublishVersion") not in calls.mutating


def _fail(*_: Any, **__: Any) -> GateFailure:
    return GateFailure("canary 50%: application GET /hello", "HTTP 502")


def test_a_failed_canary_never_takes_the_whole_alias(
    deployed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _publish(EAST, RELEASE="1")
    _alias(EAST, before, "0")
    after = _publish(EAST, RELEASE="2")
    monkeypatch.setattr(release_gates, "check_canary", _fail)
    monkeypatch.setattr(release_gates, "check_region", lambda *a, **k: pytest.fail("gated"))
    with context() as (ctx, calls):
        failure = gated_move(ctx, Move(EAST, before, after), bake_s=0, canary=0.5)
    assert failure is not None and failure.gate.startswith("canary")
    alias = _read_alias(EAST)
    assert alias["FunctionVersion"] == before and history_of(alias) == ("0",)
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    assert calls.mutating == [("lambda", EAST, "UpdateAlias")] * 2  # canary, then back


def test_a_passed_canary_then_moves_fully_and_records_the_history(
    deployed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _publish(EAST, RELEASE="1")
    _alias(EAST, before)
    after = _publish(EAST, RELEASE="2")
    weights: list[Any] = []

    def canary(ctx: Any, region: str, weight: float) -> None:
        routing = _read_alias(region)["RoutingConfig"]["AdditionalVersionWeights"]
        weights.append((weight, routing))

    monkeypatch.setattr(release_gates, "check_canary", canary)
    monkeypatch.setattr(release_gates, "check_region", lambda *a, **k: None)
    with context() as (ctx, _):
        assert gated_move(ctx, Move(EAST, before, after), bake_s=0, canary=0.1) is None
    assert weights == [(0.1, {after: 0.1})]
    alias = _read_alias(EAST)
    assert alias["FunctionVersion"] == after and history_of(alias) == (before,)
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")


@pytest.mark.parametrize("value", ["0", "51", "10.5", "ten"])
def test_canary_percent_is_a_whole_number_from_1_to_50(tmp_path: Path, value: str) -> None:
    path = tmp_path / "failover.yaml"
    path.write_text(
        f"stack: hello\nregions: [us-east-1, us-west-2]\ndeploy:\n  canary_percent: {value}\n"
    )
    with pytest.raises(ConfigError, match="canary_percent"):
        load_config(path)


def test_plan_says_each_wave_starts_with_the_canary(tmp_path: Path) -> None:
    path = tmp_path / "failover.yaml"
    path.write_text(
        "stack: hello\nregions: [us-east-1, us-west-2]\ndeploy:\n  canary_percent: 10\n"
    )
    config = load_config(path)
    assert config.deploy == DeployConfig(canary_percent=10)
    move = Change(
        Action.UPDATE, Spec("alias", EAST, "live"), Observed(True), [FieldChange("release", 1, 2)]
    )
    said = describe_waves(config, Plan([move]))
    assert said is not None and "first 10% of invocations as a canary" in said


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--region", "eu-north-1"), "is not a region of stack"),
        (("--to", "latest"), "is not a version number"),
    ],
)
def test_bad_arguments_are_refused_before_any_aws_call(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    config = write_config(tmp_path, "hello")
    run = failover(config, "rollback", "--yes", *args)
    assert run.exit_code == 2 and said in run.stderr
    assert run.calls == []
