"""`failover plan`: the plan on stdout, ending with its summary line and the monthly estimate;
the itemised estimate behind --cost-details; `plan --json` carries it; exit 0 when it ran,
3 for pending changes only with --detailed-exitcode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from failover_cli.cli.cmd_plan import cost_sentence
from failover_cli.config.schema import AlarmsConfig, FunctionConfig, TableConfig
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
    assert run.exit_code == 0, run.stderr  # everything is still to create: it ran
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


def test_plan_goes_to_stdout_and_ends_with_its_summary_and_the_estimate(config: Path) -> None:
    run = failover(config, "plan")
    assert run.exit_code == 0, run.stderr  # changes pending, but the plan ran
    text = run.stdout
    assert "Plan for stack hello" in text and "health_check hello-us-east-1" in text
    assert "Plan for stack" not in run.stderr  # stderr is for progress and warnings
    last = text.rstrip("\n").splitlines()[-1]
    expected = estimate(
        make_config(
            table=TableConfig(name="hello.Hello"),
            function=FunctionConfig(name="hello-fn"),
            alarms=AlarmsConfig(email="ops@example.com"),
        )
    )
    assert last.startswith("Plan: ") and " to create" in last
    assert last.endswith(cost_sentence(expected, details_shown=False)), last
    assert "USD at list prices, no free tier counted" in last and "--cost-details" in last
    assert "Estimated monthly cost" not in text  # the itemised table only when asked
    assert SECRET_VARIABLE not in text + run.stderr


def test_cost_details_itemise_the_estimate_before_the_summary_line(config: Path) -> None:
    run = failover(config, "plan", "--cost-details")
    assert run.exit_code == 0, run.stderr
    text = run.stdout
    assert text.index("Plan for stack hello") < text.index("Estimated monthly cost")
    assert "API Gateway requests" in text and "3.11M requests" in text
    assert "total" in text and "Not included" in text and "Assumes" in text
    assert text.rstrip("\n").splitlines()[-1].startswith("Plan: ")


def test_detailed_exitcode_gives_3_for_pending_changes(config: Path) -> None:
    for args in (("plan", "--detailed-exitcode"), ("plan", "--json", "--detailed-exitcode")):
        run = failover(config, *args)
        assert run.exit_code == 3, (args, run.stderr)
    assert "--detailed-exitcode" in failover(config, "plan", "--help").stdout


def test_plan_says_how_long_a_forced_failover_takes(tmp_path: Path) -> None:
    with mock_aws():
        config = write_config(
            tmp_path, "hello", "switch:\n  interval_s: 10\n  failure_threshold: 3\n"
        )
        text = failover(config, "plan").stdout
        data = json.loads(failover(config, "plan", "--json").stdout)
    assert "force-fail moves DNS within about 30s plus replication" in " ".join(text.split())
    assert data["forced_failover"] == {
        "reader_interval_s": 10,
        "reader_failure_threshold": 3,
        "seconds": 30,
    }
