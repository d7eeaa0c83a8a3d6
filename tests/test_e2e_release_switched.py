"""A release while the switch holds a region out reaches it last, gated through its own API.

A region forced out through the switch serves normally through its own API but its routed
Route 53 health (probe AND readers) is unhealthy by design: the release's Route 53 bake
would fail it and roll it back, so no release could be made during a forced failover.
Issue 21: "regions that are forced out or unhealthy are deployed last and said so".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e_helpers import client, failover, unique_stack, write_config

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"
SWITCH = "switch:\n  interval_s: 10\n  failure_threshold: 1\n"


def _live_release(endpoint: str, region: str, function: str) -> str | None:
    lam = client("lambda", region, endpoint)
    live = lam.get_function_configuration(FunctionName=function, Qualifier="live")
    return (live.get("Environment") or {}).get("Variables", {}).get("RELEASE")


def test_a_release_reaches_a_region_the_switch_holds_out_last_and_without_the_bake(
    sandbox_env: str, tmp_path: Path
) -> None:
    stack = unique_stack("swrel")
    function = f"{stack}-fn"
    config = write_config(tmp_path, stack, SWITCH)
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    try:
        forced = failover(config, "force-fail", "--region", WEST, "--wait", "--timeout", "4m")
        assert forced.exit_code == 0, forced.stderr  # the readers object: WEST's check fails

        release = write_config(tmp_path, stack, "  environment:\n    RELEASE: 'r1'\n" + SWITCH)
        released = failover(release, "up")
        assert released.exit_code == 0, released.stderr
        assert "forced out by the switch" in released.stderr
        # The region held out goes last: the other region passed its gates first.
        assert released.stderr.index(f"{EAST}") < released.stderr.index("forced out by the")
        assert _live_release(sandbox_env, EAST, function) == "r1"
        assert _live_release(sandbox_env, WEST, function) == "r1"
    finally:
        restored = failover(config, "force-fail", "--region", WEST, "--restore")
        assert restored.exit_code == 0, restored.stderr
        assert failover(config, "down", "--yes").exit_code == 0
