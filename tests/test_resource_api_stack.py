"""Role, log groups, functions and APIs through the engine: up, up again (nothing), down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from failover_cli.bundle import build_bundle
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.engine.planner import observe_all, plan_down, plan_up
from failover_cli.engine.runner import apply_plan
from failover_cli.resources import HANDLERS
from tests.engine_helpers import context, make_config

KINDS = ("role", "log_group", "function", "alias", "api")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _specs(tmp_path: Path) -> list[Spec]:
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    inputs = DesiredInputs(make_config(), "s3cret", build_bundle(tmp_path))
    return [s for kind in KINDS for s in HANDLERS[kind].desired(inputs)]


def test_second_up_changes_nothing_and_down_removes_everything(aws: None, tmp_path: Path) -> None:
    specs = _specs(tmp_path)
    with context() as (ctx, _):
        first = plan_up(specs, observe_all(ctx, specs), "hello")
        assert {c.action.value for c in first.changes} == {"create"}
        apply_plan(ctx, first)

    with context() as (ctx, recorder):
        second = plan_up(specs, observe_all(ctx, specs), "hello")
        assert [c.describe() for c in second.pending] == []
        apply_plan(ctx, second)
        assert recorder.mutating == []

    with context() as (ctx, _):
        down = plan_down(specs, observe_all(ctx, specs), "hello")
        # The aliases go with their functions (DeleteFunction), not on their own.
        assert len(down.pending) == len([s for s in specs if s.kind != "alias"])
        apply_plan(ctx, down)
        assert not any(o.exists for o in observe_all(ctx, specs).values())
