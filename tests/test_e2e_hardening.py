"""Issue 15 end to end: `up` on the sandbox with a throttle and a bundle holding a link.

What a user relies on: `up` says what it left out of the code (a link to a
file outside the bundle is never uploaded), the stages carry the throttle as
method settings, requests past the burst get API Gateway's 429, and a second
`up` changes nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from failover_cli.bundle import shipped_bundle_path
from tests.e2e_helpers import client, failover, unique_stack, write_config
from tests.sandbox_api_helpers import api_get

pytestmark = pytest.mark.sandbox
REGIONS = ("us-east-1", "us-west-2")


def test_up_skips_links_throttles_the_stages_and_converges(
    sandbox_env: str, tmp_path: Path
) -> None:
    source = tmp_path / "code"
    shutil.copytree(shipped_bundle_path(), source, ignore=shutil.ignore_patterns("__pycache__"))
    outside = tmp_path / "credentials"
    outside.write_text("aws_secret_access_key = not-for-lambda\n")
    (source / "config.ini").symlink_to(outside)
    stack = unique_stack("hard")
    config = write_config(
        tmp_path, stack, f"  source: {source}\napi:\n  throttle: {{rate: 1, burst: 1}}\n"
    )

    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    assert "left out of the function's code: config.ini: a symbolic link" in up.stderr
    try:
        for region in REGIONS:
            ag = client("apigateway", region, sandbox_env)
            api_id = next(a["id"] for a in ag.get_rest_apis()["items"] if a["name"] == stack)
            settings = ag.get_stage(restApiId=api_id, stageName="prod")["methodSettings"]["*/*"]
            assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (1, 1)
        # One request a second, bursts of one: ten in a row cannot all pass.
        answers = [api_get(sandbox_env, api_id, REGIONS[-1], "/prod/nope") for _ in range(10)]
        throttled = [a for a in answers if a.status == 429]
        assert throttled, [a.status for a in answers]
        assert json.loads(throttled[0].body) == {"message": "Too Many Requests"}
        assert {a.status for a in answers} <= {404, 429}  # the function's 404, or the gateway's

        again = failover(config, "up")
        assert again.exit_code == 0, again.stderr
        assert again.mutating == []
    finally:
        down = failover(config, "down", "--yes")
        assert down.exit_code == 0, down.stderr
