"""A drill of a three-region stack under Route 53's GetHealthCheckStatus rate limit.

The sandbox throttles GetHealthCheckStatus as Route 53 does (a burst of 4, then 1 per
second per account); a drill reads three checks while it waits. Its own pace must keep
every reading under the limit: every phase is reported, none from a throttled read.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from failover_cli.aws.clients import ClientFactory
from tests.e2e_helpers import failover, write_config
from tests.sandbox_api_helpers import http
from tests.test_status_helpers import use_sandbox

pytestmark = pytest.mark.sandbox
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


def _count_throttled_answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Throttling answer the command's clients get from GetHealthCheckStatus."""
    seen: list[str] = []
    original = ClientFactory.client

    def record(response: Any = None, **_: Any) -> None:
        if isinstance(response, tuple) and len(response) == 2:
            code = (response[1] or {}).get("Error", {}).get("Code")
            if code == "Throttling":
                seen.append(code)

    def client(self: ClientFactory, service: str, region: str, *more: Any) -> Any:
        made = original(self, service, region, *more)
        if service == "route53" and not getattr(made, "_throttle_probe", False):
            made.meta.events.register("needs-retry.route53.GetHealthCheckStatus", record)
            made._throttle_probe = True
        return made

    monkeypatch.setattr(ClientFactory, "client", client)
    return seen


def test_a_three_region_drill_reports_every_phase_without_throttled_reads(
    launch_sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = f"tri{uuid.uuid4().hex[:8]}"
    zone, domain = f"{name}.test", f"app.{name}.test"
    endpoint = use_sandbox(monkeypatch, launch_sandbox("--time-scale", "20"), domain)
    settings = json.loads(http(f"{endpoint}/_sandbox/rules").body)
    assert settings["health_check_status_per_second"] == 1.0  # the limit is on
    boto3.client("route53", "us-east-1").create_hosted_zone(
        Name=zone, CallerReference=uuid.uuid4().hex
    )
    config = write_config(
        tmp_path,
        name,
        f"domain:\n  name: {domain}\n  hosted_zone: {zone}\n  routing: latency\n"
        "health_check:\n  interval_s: 10\n  failure_threshold: 1\n",
    )
    config.write_text(
        config.read_text().replace(
            "regions: [us-east-1, us-west-2]", f"regions: [{', '.join(REGIONS)}]"
        )
    )
    assert failover(config, "up").exit_code == 0
    throttled = _count_throttled_answers(monkeypatch)
    try:
        run = failover(config, "drill", "--region", "us-east-1", "--json", "--timeout", "3m")
        assert run.exit_code == 0, run.stderr
        record = json.loads(run.stdout)
        phases = record["failover"]["phases"] + record["failback"]["phases"]
        assert all(p["reached"] and p["skipped"] is None for p in phases), phases
        assert not any("Throttl" in (p["seen"] or "") for p in phases), phases
        assert "Throttl" not in run.stderr
        assert record["restored"] is True
        # botocore would retry a throttled read silently: none may have happened.
        assert throttled == [], f"{len(throttled)} throttled GetHealthCheckStatus answers"
    finally:
        assert failover(config, "down", "--yes").exit_code == 0
