"""`failover force-fail` end to end against the session sandbox, checked with boto3 and HTTP.

The promises: the switch is written in the other region's replica only (no call in the
region forced out, none to Route 53's API or a Lambda API), the readers' route of the
function then answers the forced-out marker, a repeat writes nothing, an unknown region
and the last region in service are refused with exit 2 and nothing changed, and
`--restore` undoes it. No function environment is touched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from failover_cli.net.http import HttpClient
from tests.e2e_helpers import client, failover, unique_stack, write_config
from tests.sandbox_api_helpers import eventually

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"
MARKER = "failover-switch:forced-out"


def _environment(endpoint: str, region: str, name: str) -> dict[str, str]:
    answer = client("lambda", region, endpoint).get_function_configuration(FunctionName=name)
    variables: dict[str, str] = answer["Environment"]["Variables"]
    return variables


def _reader(endpoint: str, reader: str, region: str, stack: str, secret: str) -> str:
    """What `reader`'s function answers Route 53's switch reader of `region`."""
    apis = client("apigateway", reader, endpoint).get_rest_apis()["items"]
    api = next(a["id"] for a in apis if a["name"] == stack)
    url = (
        f"https://{api}.execute-api.{reader}.amazonaws.com/prod/health/switch/{region}"
        f"?healthCheckerId={secret}"
    )
    return HttpClient().get(url).body


def _forced_in(endpoint: str, replica: str, table: str) -> set[str]:
    item = client("dynamodb", replica, endpoint).get_item(
        TableName=table, Key={"HelloKey": {"S": "failover:switch"}}, ConsistentRead=True
    )["Item"]
    return set(item["forced_out"]["M"])


def test_force_fail_writes_the_switch_refuses_and_restores(
    sandbox_env: str, tmp_path: Path
) -> None:
    stack = unique_stack("ff")
    config = write_config(tmp_path, stack)
    fn, table = f"{stack}-fn", f"{stack}.Hello"
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    try:
        before = {r: _environment(sandbox_env, r, fn) for r in (EAST, WEST)}
        secret = before[EAST]["HEALTH_CHECKER_ID"]
        assert MARKER not in _reader(sandbox_env, WEST, EAST, stack, secret)

        failed = failover(config, "force-fail", "--region", EAST, "--json")
        assert failed.exit_code == 0, failed.stderr
        record = json.loads(failed.stdout)
        assert record["changed"] is True and record["via"] == "switch"
        assert record["written_in"] == WEST
        assert failed.mutating == ["dynamodb:UpdateItem"]
        assert {c["region"] for c in failed.calls} == {WEST}  # nothing asked in us-east-1
        assert {c["service"] for c in failed.calls} == {"dynamodb"}
        assert EAST in _forced_in(sandbox_env, WEST, table)
        assert MARKER in _reader(sandbox_env, WEST, EAST, stack, secret)  # the reader sees it
        assert {r: _environment(sandbox_env, r, fn) for r in (EAST, WEST)} == before

        again = failover(config, "force-fail", "--region", EAST)
        assert again.exit_code == 0 and again.mutating == []
        assert "already has us-east-1 forced out" in again.stdout + again.stderr

        unknown = failover(config, "force-fail", "--region", "eu-west-1")
        assert unknown.exit_code == 2 and unknown.mutating == []
        assert "eu-west-1 is not one of" in unknown.stderr

        # us-west-2's guard reads us-east-1's replica: once replication brought it there.
        eventually(lambda: EAST in _forced_in(sandbox_env, EAST, table), "the switch to replicate")
        last = failover(config, "force-fail", "--region", WEST)
        assert last.exit_code == 2 and last.mutating == []
        assert "last region" in last.stderr and "--allow-total-outage" in last.stderr
        assert WEST not in _forced_in(sandbox_env, EAST, table)

        restored = failover(config, "force-fail", "--region", EAST, "--restore")
        assert restored.exit_code == 0, restored.stderr
        assert EAST not in _forced_in(sandbox_env, WEST, table)
        assert MARKER not in _reader(sandbox_env, WEST, EAST, stack, secret)
        for run in (failed, again, unknown, last, restored):
            assert secret not in run.stdout + run.stderr
    finally:
        assert failover(config, "down", "--yes").exit_code == 0
