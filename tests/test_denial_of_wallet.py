"""The open API cannot be used to run up the bill or starve the account (issue 15.3).

`api.throttle` becomes the stage's default method throttling, and
`function.reserved_concurrency` the function's reservation: both converge like
every other field (set on create, changed alone, no call when they match),
and `plan`'s cost estimate states the ceiling they put on strangers' traffic.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.bundle import build_bundle
from failover_cli.config.loader import load_config
from failover_cli.config.schema import ApiConfig, FunctionConfig, Throttle
from failover_cli.cost import estimate
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.resources import alias, api, function, role
from tests.engine_helpers import context, make_config

REGION = "us-east-1"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _inputs(tmp_path: Path, **config: Any) -> DesiredInputs:
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    return DesiredInputs(make_config(**config), "s3cret", build_bundle(tmp_path))


def _by_kind(inputs: DesiredInputs) -> dict[str, Spec]:
    specs = role.desired(inputs) + function.desired(inputs)
    specs += alias.desired(inputs) + api.desired(inputs)
    return {s.kind: s for s in specs if s.region in (REGION, "global")}


def _converge(inputs: DesiredInputs) -> list[str]:
    """Create or update role, function and API in us-east-1; the mutating calls made."""
    handlers = {
        "role": role.HANDLER,
        "function": function.HANDLER,
        "alias": alias.HANDLER,
        "api": api.HANDLER,
    }
    with context(inputs.config) as (ctx, recorder):
        for kind, spec in _by_kind(inputs).items():
            seen = handlers[kind].observe(ctx, spec)
            if not seen.exists:
                handlers[kind].create(ctx, spec)
            elif changes := handlers[kind].diff(spec, seen):
                handlers[kind].update(ctx, spec, seen, changes)
    return [op for _service, _region, op in recorder.mutating]


def _stage_throttle() -> dict[str, Any]:
    ag = boto3.client("apigateway", REGION)
    api_id = ag.get_rest_apis()["items"][0]["id"]
    settings: dict[str, Any] = ag.get_stage(restApiId=api_id, stageName="prod")["methodSettings"]
    return settings["*/*"]


def _reserved() -> int | None:
    answer = boto3.client("lambda", REGION).get_function(FunctionName="thelambda")
    value = (answer.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    return None if value is None else int(value)


def test_the_stage_is_throttled_by_default_and_a_second_run_changes_nothing(
    aws: None, tmp_path: Path
) -> None:
    inputs = _inputs(tmp_path)
    assert "UpdateStage" in _converge(inputs)
    settings = _stage_throttle()
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (50, 100)
    assert _converge(inputs) == []


def test_a_changed_throttle_is_one_stage_update_without_a_redeployment(
    aws: None, tmp_path: Path
) -> None:
    _converge(_inputs(tmp_path))
    tighter = _inputs(tmp_path, api=ApiConfig(throttle=Throttle(rate=5, burst=10)))
    with context(tighter.config) as (ctx, _):
        spec = _by_kind(tighter)["api"]
        changes = api.HANDLER.diff(spec, api.HANDLER.observe(ctx, spec))
    assert [c.describe() for c in changes] == [
        "throttle: 50 requests/s, burst 100 -> 5 requests/s, burst 10"
    ]
    assert _converge(tighter) == ["UpdateStage"]
    settings = _stage_throttle()
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (5, 10)


def test_reserved_concurrency_is_set_changed_and_removed(aws: None, tmp_path: Path) -> None:
    def run(reserved: int | None) -> list[str]:
        config = {"function": FunctionConfig(reserved_concurrency=reserved)}
        return _converge(_inputs(tmp_path, **config))

    assert "PutFunctionConcurrency" in run(20)
    assert _reserved() == 20
    assert run(20) == []
    assert run(5) == ["PutFunctionConcurrency"] and _reserved() == 5
    assert run(None) == ["DeleteFunctionConcurrency"] and _reserved() is None
    assert run(None) == []


def test_the_config_reads_both_and_refuses_nonsense(tmp_path: Path) -> None:
    path = tmp_path / "failover.yaml"
    path.write_text(
        "stack: hello\nregions: [us-east-1, us-west-2]\n"
        "function:\n  reserved_concurrency: 25\n"
        "api:\n  throttle: {rate: 10, burst: 20}\n"
    )
    config = load_config(path)
    assert config.api.throttle == Throttle(rate=10, burst=20)
    assert config.function.reserved_concurrency == 25
    defaults = make_config()
    assert defaults.api.throttle == Throttle(rate=50, burst=100)
    assert defaults.function.reserved_concurrency is None


def test_the_cost_estimate_states_the_ceiling_strangers_can_reach() -> None:
    cost = estimate(
        make_config(
            api=ApiConfig(throttle=Throttle(rate=10, burst=20)),
            function=FunctionConfig(reserved_concurrency=7),
        )
    )
    throttle, concurrency = cost.caps
    # 10 requests/s in each of 2 regions for a 30-day month.
    assert "10 requests/s (bursts of 20) per region" in throttle and "51.8M requests" in throttle
    assert "at most 7 concurrent runs per region" in concurrency
    assert cost.to_json()["caps"] == [throttle, concurrency]
    assert "no function.reserved_concurrency" in estimate(make_config()).caps[1]
