"""`failover invoke`: its input errors, and what it says before any request is sent.

The request itself (a route answering, the secret masked) is exercised against the
sandbox in tests/test_bundle_deps_sandbox.py.
"""

from __future__ import annotations

from pathlib import Path

from moto import mock_aws

from failover_cli.ops.invoke import request_url
from tests.e2e_helpers import failover, write_config


def test_a_region_outside_the_stack_exits_2_with_no_call(tmp_path: Path) -> None:
    config = write_config(tmp_path, "inv")
    run = failover(config, "invoke", "--region", "eu-west-3")
    assert run.exit_code == 2, run.stderr
    assert "eu-west-3 is not one of stack inv's regions" in run.stderr and run.calls == []


def test_a_stack_that_is_not_deployed_exits_1_saying_to_run_up(tmp_path: Path) -> None:
    config = write_config(tmp_path, "inv")
    with mock_aws():
        run = failover(config, "invoke", "--region", "us-west-2", "--json")
    assert run.exit_code == 1, run.stderr
    assert "has no REST API of its own" in run.stderr and "failover up" in run.stderr
    assert [c["op"] for c in run.calls] == ["GetRestApis"]


def test_the_secret_joins_the_paths_own_query() -> None:
    base = "https://a1.execute-api.us-east-1.amazonaws.com/prod"
    assert request_url(base, "/hello", "s3") == f"{base}/hello?healthCheckerId=s3"
    assert request_url(base, "/health?deep=true", "s3") == (
        f"{base}/health?deep=true&healthCheckerId=s3"
    )
    assert request_url(base, "/hi", None) == f"{base}/hi"
    assert request_url(base, "/x?healthCheckerId=mine", "s3") == f"{base}/x?healthCheckerId=mine"


def test_plan_shows_the_codes_size_hash_and_where_it_is_new(tmp_path: Path) -> None:
    source = tmp_path / "code"
    source.mkdir()
    (source / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    config = write_config(tmp_path, "inv", f"  source: {source}\n")
    with mock_aws():
        run = failover(config, "plan")
    assert run.exit_code == 0, run.stderr
    said = " ".join(run.stdout.split())  # the plan is the command's result
    assert "Function code: " in said and " KB zipped, " in said and ", hash " in said
    assert "new in us-east-1, us-west-2" in said
