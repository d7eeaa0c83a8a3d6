"""Three regions on latency routing: a release goes one region at a time, and a failure in
the second wave rolls back only that region (issue 21's must-show).

The regions are [us-east-1, us-west-2, eu-west-1]; with latency routing the release
reaches them from the last to the first: eu-west-1, us-west-2, us-east-1. The release
fails its deep /health only in us-west-2 (its code reads no item there), so the
second wave fails deterministically: us-west-2 goes back at once, us-east-1 never
sees the release, eu-west-1 keeps it and `status` says the regions differ. Then
`failover rollback --yes` brings the previous release back everywhere, and a second
rollback has nothing recorded to go back to.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.e2e_helpers import Run, client, failover, write_release
from tests.sandbox_api_helpers import api_get

pytestmark = pytest.mark.sandbox
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
ORDER = ["eu-west-1", "us-west-2", "us-east-1"]  # latency routing: the last region first
FAILS_IN = "us-west-2"
MOVES = {"PublishVersion", "UpdateAlias", "CreateAlias"}


def _release(source: Path, marker: str, *, fails_in: str | None = None) -> None:
    """A release of the shipped bundle; with `fails_in`, its deep ping finds no item in
    that region only (shallow pings and /hello still answer)."""
    write_release(source, marker)
    if fails_in:
        ping = source / "deep_ping.py"
        ping.write_text(
            ping.read_text() + "\n\n_read_anywhere = read_greeting\n\n\n"
            "def read_greeting(region: str) -> str | None:\n"
            f"    return None if region == {fails_in!r} else _read_anywhere(region)\n"
        )


def _live(endpoint: str, region: str, function: str) -> str:
    lam = client("lambda", region, endpoint)
    return str(lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"])


def _deep_health(endpoint: str, stack: str, region: str) -> int:
    lam = client("lambda", region, endpoint)
    variables = lam.get_function_configuration(FunctionName=f"{stack}-fn")["Environment"]
    secret = variables["Variables"]["HEALTH_CHECKER_ID"]
    apis = client("apigateway", region, endpoint).get_rest_apis()["items"]
    api = next(a["id"] for a in apis if a["name"] == stack)
    path = f"/prod/health?deep=true&healthCheckerId={secret}"
    return api_get(endpoint, api, region, path).status


def _regions_moved(run: Run) -> list[str]:
    """The regions whose alias the run published or moved, in the order it first did."""
    seen: list[str] = []
    for call in run.calls:
        if call["service"] == "lambda" and call["op"] in MOVES and call["region"] not in seen:
            seen.append(call["region"])
    return seen


def _one_at_a_time(run: Run) -> bool:
    """No region's alias calls start before the previous region's have ended."""
    regions = [c["region"] for c in run.calls if c["service"] == "lambda" and c["op"] in MOVES]
    runs = [r for i, r in enumerate(regions) if i == 0 or regions[i - 1] != r]
    return len(runs) == len(set(runs))


def test_a_second_wave_failure_rolls_back_only_that_region_then_rollback_restores_all(
    sandbox_env: str, tmp_path: Path
) -> None:
    stack = f"tri-{uuid.uuid4().hex[:8]}"
    zone, domain = f"{stack}.test", f"app.{stack}.test"
    client("route53", "us-east-1", sandbox_env).create_hosted_zone(
        Name=zone, CallerReference=uuid.uuid4().hex
    )
    function = f"{stack}-fn"
    source = tmp_path / "code"
    _release(source, "good-1")
    config = tmp_path / "failover.yaml"
    config.write_text(
        f"stack: {stack}\nregions: [{', '.join(REGIONS)}]\n"
        f"table: {{name: {stack}.Hello}}\n"
        f"function: {{name: {function}, source: {source}}}\n"
        f"domain: {{name: {domain}, hosted_zone: {zone}, routing: latency}}\n"
        "deploy: {bake: 0s}\n",
        encoding="utf-8",
    )
    try:
        up = failover(config, "up")
        assert up.exit_code == 0, up.stderr
        first = {r: _live(sandbox_env, r, function) for r in REGIONS}

        _release(source, "good-2")
        plan = " ".join(failover(config, "plan").stdout.split())
        assert f"Release: one region at a time, {' -> '.join(ORDER)}" in plan
        good = failover(config, "up", "--yes")
        assert good.exit_code == 0, good.stderr
        assert _regions_moved(good) == ORDER and _one_at_a_time(good)
        second = {r: _live(sandbox_env, r, function) for r in REGIONS}
        assert all(second[r] != first[r] for r in REGIONS)

        _release(source, "bad-in-us-west-2", fails_in=FAILS_IN)
        bad = failover(config, "up", "--yes")
        assert bad.exit_code == 1, bad.stdout + bad.stderr
        said = " ".join(bad.stderr.split())
        assert f"The release stopped in {FAILS_IN}" in said, said
        assert "the deep /health gate" in said, said
        assert "us-east-1 never saw it" in said
        assert _regions_moved(bad) == ORDER[:2] and _one_at_a_time(bad)  # never us-east-1
        third = _live(sandbox_env, "eu-west-1", function)
        assert third != second["eu-west-1"]  # the first wave keeps the release
        assert _live(sandbox_env, FAILS_IN, function) == second[FAILS_IN]
        assert _live(sandbox_env, "us-east-1", function) == second["us-east-1"]
        for region in REGIONS:
            assert _deep_health(sandbox_env, stack, region) == 200
        status = " ".join(failover(config, "status").stdout.split())
        assert "Regions serve different releases" in status
        assert f"eu-west-1 version {third}" in status

        # Without a terminal and without --yes, rollback asks nobody and changes nothing.
        asked = failover(config, "rollback")
        assert asked.exit_code == 2 and "--yes" in asked.stderr
        assert "eu-west-1: live version" in asked.stderr  # what it would have done
        assert [c for c in asked.calls if c["op"] == "UpdateAlias"] == []

        # Only eu-west-1 serves the stopped release: rollback moves it alone.
        back = failover(config, "rollback", "--yes")
        assert back.exit_code == 0, back.stderr
        assert _regions_moved(back) == ["eu-west-1"]
        assert not any(c["op"] in {"PublishVersion", "UpdateFunctionCode"} for c in back.calls)
        assert {r: _live(sandbox_env, r, function) for r in REGIONS} == second
        status = " ".join(failover(config, "status").stdout.split())
        assert "Regions serve different releases" not in status

        # Undoing the good release now: every region back to the first one, in order.
        again = failover(config, "rollback", "--yes")
        assert again.exit_code == 0, again.stderr
        assert _regions_moved(again) == ORDER and _one_at_a_time(again)
        assert {r: _live(sandbox_env, r, function) for r in REGIONS} == first
        for region in REGIONS:
            assert _deep_health(sandbox_env, stack, region) == 200
        none = failover(config, "rollback", "--yes")
        assert none.exit_code == 2 and "no earlier release recorded" in none.stderr
        assert [c for c in none.calls if c["op"] == "UpdateAlias"] == []
    finally:
        failover(config, "down", "--yes")
