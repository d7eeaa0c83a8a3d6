"""The whole life cycle under the README's operator policy, enforced by the sandbox.

The sandbox runs with `--enforce-policy` on the JSON block of the README's IAM
section (read from README.md, so the documentation is what is tested): every call
`failover` makes, and every action AWS checks on its behalf (replica regions, passed
role, service-linked roles, GetFunction's tags), must be allowed by it. The alarm
e-mail is confirmed through the sandbox's outbox, so `sns:GetSubscriptionAttributes`
is exercised too.

Removing an action from the README makes a step fail with the sandbox's AccessDenied,
which the tool reports naming the action; the assertion message shows it. An action
granted but never needed is reported as well (least privilege), unless listed in
NOT_EXERCISED with the reason.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import SandboxProcess
from tests.e2e_helpers import Run, failover
from tests.readme_policy import actions, readme_policy, write
from tests.sandbox_outbox_helpers import CONFIRMATION, Outbox, link
from tests.test_status_helpers import poll_status, use_sandbox

pytestmark = pytest.mark.sandbox

EAST = "us-east-1"
ADMIN_KEY = "sandbox-admin"  # the account's administrator: not held to the policy
EMAIL = "ops@example.com"
BUNDLE = Path(__file__).resolve().parent.parent / "failover_cli" / "lambda_bundle"
# Granted by the README for paths this life cycle does not take, with the reason.
NOT_EXERCISED = {
    "iam:UpdateAssumeRolePolicy": "only when the role's trust policy drifted",
    "iam:DetachRolePolicy": "only when someone attached a managed policy to the role",
    "apigateway:PATCH": "only when the API, its domain name or mapping drifted",
    "lambda:DeleteFunctionConcurrency": "only when function.reserved_concurrency is removed",
}


def admin(service: str, endpoint: str, region: str = EAST) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=ADMIN_KEY,
        aws_secret_access_key=ADMIN_KEY,
    )


def get(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as answer:
        body: bytes = answer.read()
    return body


def access_report(endpoint: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(get(f"{endpoint}/_sandbox/iam"))
    return report


def step(config: Path, *args: str) -> Run:
    run = failover(config, *args)
    assert run.exit_code == 0, (
        f"`failover {' '.join(args)}` failed under the README's operator policy "
        f"(exit {run.exit_code}):\n{run.stderr}"
    )
    return run


def _config(name: str, zone: str, domain: str, bundle: Path, **function: int) -> str:
    interval = function.pop("interval", 10)
    concurrency = function.pop("reserved", 0)
    reserved = f", reserved_concurrency: {concurrency}" if concurrency else ""
    return (
        f"stack: {name}\n"
        "regions: [us-east-1, us-west-2]\n"
        f"table: {{name: {name}.Hello}}\n"
        f"function: {{name: {name}-fn, memory_mb: {function['memory']}, source: {bundle}"
        f"{reserved}}}\n"
        f"domain: {{name: {domain}, hosted_zone: {zone}, routing: failover}}\n"
        f"health_check: {{interval_s: {interval}, failure_threshold: 1}}\n"
        f"alarms: {{email: {EMAIL}}}\n"
    )


def _healthy(run: Run, data: dict[str, Any]) -> bool:
    subscriptions = data["alarms"]["subscriptions"]
    confirmed = bool(subscriptions) and not any(s["pending"] for s in subscriptions)
    return run.exit_code == 0 and data["serving_region"] == EAST and confirmed


def test_the_whole_life_cycle_succeeds_under_the_readme_policy(
    launch_sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    document = readme_policy()
    name = f"pol{uuid.uuid4().hex[:8]}"
    zone, domain = f"{name}.test", f"app.{name}.test"
    sandbox: SandboxProcess = launch_sandbox(
        "--time-scale",
        "20",
        "--outbox",
        str(tmp_path / "outbox"),
        "--enforce-policy",
        str(write(tmp_path, document)),
    )
    endpoint = use_sandbox(monkeypatch, sandbox, domain)
    admin("route53", endpoint).create_hosted_zone(Name=zone, CallerReference=name)
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE, bundle)
    config = tmp_path / "failover.yaml"
    config.write_text(_config(name, zone, domain, bundle, memory=128))
    try:
        step(config, "up")
        confirmation = Outbox(tmp_path / "outbox").wait_for(EMAIL, CONFIRMATION)
        get(link(confirmation, "confirm"))
        poll_status(config, _healthy, timeout=90, what="all healthy, e-mail confirmed")
        step(config, "plan")
        step(config, "drill", "--region", EAST, "--timeout", "2m")
        step(config, "rotate-secret")
        admin("logs", endpoint).create_log_stream(
            logGroupName=f"/aws/lambda/{name}-fn", logStreamName="never-written"
        )
        step(config, "gc-logs", "--min-age", "0s")
        # Changed code and settings (a new interval replaces the health checks and moves
        # the records): the update paths need their actions too.
        (bundle / "extra.py").write_text("VERSION = 2\n")
        config.write_text(_config(name, zone, domain, bundle, memory=256, interval=30, reserved=5))
        step(config, "up")
        step(config, "down", "--yes")
    finally:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ADMIN_KEY)
        failover(config, "down", "--yes")  # leaves nothing behind if a step failed
    report = access_report(endpoint)
    assert report["denied"] == [], f"the sandbox refused: {report['denied']}"
    granted = actions(document)
    unused = sorted(granted - set(report["allowed"]) - set(NOT_EXERCISED))
    assert not unused, f"the README grants actions the life cycle never needed: {unused}"
    assert set(NOT_EXERCISED) <= granted, sorted(set(NOT_EXERCISED) - granted)
