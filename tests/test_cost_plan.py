"""`failover plan` shows the cost estimate next to the changes; `plan --json` carries it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from failover_cli.config.schema import FunctionConfig, TableConfig
from failover_cli.cost import estimate
from failover_cli.engine.secret import SECRET_VARIABLE
from tests.e2e_helpers import failover, write_config
from tests.engine_helpers import make_config


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        yield write_config(tmp_path, "hello", "alarms:\n  email: ops@example.com\n")


def test_plan_json_includes_the_itemised_estimate(config: Path) -> None:
    run = failover(config, "plan", "--json")
    assert run.exit_code == 3, run.stderr  # everything is still to create
    data = json.loads(run.stdout)
    assert data["pending"] > 0
    cost = data["cost"]
    items = [line["item"] for line in cost["lines"]]
    assert "API Gateway requests" in items
    assert "SNS e-mails" in items
    expected = estimate(
        make_config(table=TableConfig(name="hello.Hello"), function=FunctionConfig(name="hello-fn"))
    )
    assert cost["monthly_usd"] == round(expected.monthly_usd, 2)
    assert run.mutating == []


def test_plan_prints_the_cost_table_after_the_changes(config: Path) -> None:
    run = failover(config, "plan")
    assert run.exit_code == 3, run.stderr
    text = run.stderr
    assert text.index("Plan for stack hello") < text.index("Estimated monthly cost")
    assert "health_check hello-us-east-1" in text
    assert "API Gateway requests" in text and "3.11M requests" in text
    assert "total" in text and "Not included" in text
    assert SECRET_VARIABLE not in text
