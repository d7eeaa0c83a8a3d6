"""`failover status` with a custom domain, against a time-scaled sandbox.

With failover routing the primary serves; after FORCE_FAIL on it the health
checkers see it fail, Route 53 (the sandbox's TestDNSAnswer and custom-domain
routing) moves to the secondary, and `status` reports the secondary as the
serving region with exit 3; after the restore the primary serves again, exit 0.

The sandbox's TestDNSAnswer and custom-domain routing exist: when either breaks,
this test fails rather than skips.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import SandboxProcess
from tests.e2e_helpers import Run, failover, write_config
from tests.test_status_helpers import (
    assert_secret_hidden,
    poll_status,
    secret_of,
    set_force_fail,
    use_sandbox,
)

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"


def _serving(region: str, code: int) -> Any:
    def wanted(run: Run, data: dict[str, Any]) -> bool:
        return run.exit_code == code and data["serving_region"] == region

    return wanted


def test_status_follows_a_failover_through_the_custom_domain(
    launch_sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = f"d{uuid.uuid4().hex[:10]}"
    zone, domain = f"{name}.test", f"app.{name}.test"
    sandbox: SandboxProcess = launch_sandbox("--time-scale", "10")
    endpoint = use_sandbox(monkeypatch, sandbox, domain)
    zone_id = boto3.client("route53", EAST).create_hosted_zone(
        Name=zone, CallerReference=uuid.uuid4().hex
    )["HostedZone"]["Id"]
    config = write_config(
        tmp_path,
        name,
        f"domain:\n  name: {domain}\n  hosted_zone: {zone}\n  routing: failover\n",
    )
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    fn = f"{name}-fn"
    secret = secret_of(endpoint, EAST, fn)
    try:
        run, data = poll_status(
            config, _serving(EAST, 0), timeout=60, what="the primary serving, all healthy"
        )
        answer = boto3.client("route53", EAST).test_dns_answer(
            HostedZoneId=zone_id.rsplit("/", 1)[-1], RecordName=domain, RecordType="A"
        )
        assert data["dns"]["name"] == domain and data["dns"]["record_data"]
        assert data["dns"]["record_data"] == answer["RecordData"]
        assert data["serving"]["url"].startswith(f"https://{domain}/v1/hello?")
        assert_secret_hidden(run, secret)

        set_force_fail(endpoint, EAST, fn, True)
        run, data = poll_status(config, _serving(WEST, 3), timeout=60, what="the secondary serving")
        east, west = data["regions"]
        assert east["force_fail"] is True and east["healthy"] is False
        assert west["healthy"] is True
        assert_secret_hidden(run, secret)
        human = failover(config, "status")
        assert human.exit_code == 3 and "Serving region" in human.stdout
        assert_secret_hidden(human, secret)

        set_force_fail(endpoint, EAST, fn, False)
        poll_status(config, _serving(EAST, 0), timeout=60, what="failback to the primary")
    finally:
        set_force_fail(endpoint, EAST, fn, False)
        assert failover(config, "down", "--yes").exit_code == 0
