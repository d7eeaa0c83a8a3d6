"""Every command's every AWS call is allowed by `failover iam-policy`, proven on the sandbox.

The sandbox runs with `--enforce-policy` on `failover iam-policy` (and, in a second
run, `--stack-scoped`) for the test's config: every call `failover` makes, and every
action AWS checks on its behalf (replica regions, passed role, service-linked roles,
GetFunction's tags), must be allowed by it, on the stack's own resource names. Each
step also runs with the call log on, and each call it logged must be in the registry
under that command and allowed by `failover iam-policy --command <that command>` (the
narrower policies a CI runner or an on-call role gets). The alarm e-mail is confirmed
through the sandbox's outbox, so `sns:GetSubscriptionAttributes` is exercised too.

A call missing from the registry makes a step fail with the sandbox's AccessDenied,
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

from failover_cli.permissions.calls import COMMANDS, FREE, action_of, groups_of
from tests.conftest import SandboxProcess
from tests.e2e_helpers import Run, failover
from tests.readme_policy import actions, generated_policy, write
from tests.sandbox_outbox_helpers import CONFIRMATION, Outbox, link
from tests.test_status_helpers import poll_status, use_sandbox

pytestmark = pytest.mark.sandbox

EAST, WEST = "us-east-1", "us-west-2"
ADMIN_KEY = "sandbox-admin"  # the account's administrator: not held to the policy
EMAIL = "ops@example.com"
BUNDLE = Path(__file__).resolve().parent.parent / "failover_cli" / "lambda_bundle"
# Granted for paths this life cycle does not take, with the reason.
NOT_EXERCISED = {
    "iam:UpdateAssumeRolePolicy": "only when the role's trust policy drifted",
    "iam:DetachRolePolicy": "only when someone attached a managed policy to the role",
    "lambda:DeleteFunctionConcurrency": "only when function.reserved_concurrency is removed",
    "application-autoscaling:DeleteScalingPolicy": "only when a scaling policy is duplicated",
    "iam:DeleteRolePermissionsBoundary": "only when iam.permissions_boundary is removed",
    # Records follow each region's CALCULATED check, so replacing a probe moves no record.
    "route53:GetChange": "only when a replaced health check is still named by a record",
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
        f"`failover {' '.join(args)}` failed under its `failover iam-policy` "
        f"(exit {run.exit_code}):\n{run.stderr}"
    )
    assert_calls_allowed(config, args[0], run)
    return run


def assert_calls_allowed(config: Path, command: str, run: Run) -> None:
    """Each call `run` logged is in the registry under `command`, and its action is in
    `failover iam-policy --command <command>`."""
    groups = groups_of((command,), with_domain=True, with_access=True, with_auto_refresh=True)
    registered = {c for g in groups for c in g.calls}
    allowed = actions(generated_policy(config, "--command", command))
    made = {(c["service"], c["op"]) for c in run.calls} - FREE
    assert run.calls, f"no call logged for `failover {command}`"
    unregistered = sorted(made - registered)
    assert not unregistered, f"`{command}` made calls missing from its registry: {unregistered}"
    refused = sorted(action_of(*c) for c in made if action_of(*c) not in allowed)
    assert not refused, f"`iam-policy --command {command}` lacks {refused}"


def _config(name: str, zone: str, domain: str | None, bundle: Path, **function: int) -> str:
    interval = function.pop("interval", 10)
    allow_list = function.pop("access", 0)  # 1: with auto_refresh; 2: without
    refresh = "true" if allow_list == 1 else "false"
    allowed = "[route53-health-checkers, 198.51.100.0/24]"
    access = f"access: {{allow: {allowed}, auto_refresh: {refresh}}}\n"
    concurrency = function.pop("reserved", 0)
    reserved = f", reserved_concurrency: {concurrency}" if concurrency else ""
    routed = f"domain: {{name: {domain}, hosted_zone: {zone}, routing: failover}}\n"
    return (
        f"stack: {name}\n"
        "regions: [us-east-1, us-west-2]\n"
        f"table: {{name: {name}.Hello}}\n"
        f"function: {{name: {name}-fn, memory_mb: {function['memory']}, source: {bundle}"
        f"{reserved}}}\n"
        f"{routed if domain else ''}"
        f"health_check: {{interval_s: {interval}, failure_threshold: 1}}\n"
        f"alarms: {{email: {EMAIL}}}\n"
        f"{access if allow_list else ''}"
    )


def _healthy(run: Run, data: dict[str, Any]) -> bool:
    subscriptions = data["alarms"]["subscriptions"]
    confirmed = bool(subscriptions) and not any(s["pending"] for s in subscriptions)
    return run.exit_code == 0 and data["serving_region"] == EAST and confirmed


@pytest.mark.parametrize("scoped", [(), ("--stack-scoped",)], ids=["default", "stack-scoped"])
def test_every_command_succeeds_under_its_generated_policy(
    launch_sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, scoped: tuple[str, ...]
) -> None:
    name = f"pol{uuid.uuid4().hex[:8]}"
    zone, domain = f"{name}.test", f"app.{name}.test"
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE, bundle)
    config = tmp_path / "failover.yaml"
    # The policy of the config the life cycle ends with (access: added later needs
    # apigateway:UpdateRestApiPolicy): a user generates it for what they will run.
    config.write_text(_config(name, zone, domain, bundle, memory=128, access=1))
    document = generated_policy(config, *scoped)
    config.write_text(_config(name, zone, domain, bundle, memory=128))
    sandbox: SandboxProcess = launch_sandbox(
        "--time-scale",
        "20",
        "--outbox",
        str(tmp_path / "outbox"),
        "--enforce-policy",
        str(write(tmp_path, document)),
    )
    endpoint = use_sandbox(monkeypatch, sandbox, domain)
    monkeypatch.setenv("FAILOVER_TIME_SCALE", "20")  # as the sandbox exports it: bakes scale
    admin("route53", endpoint).create_hosted_zone(Name=zone, CallerReference=name)
    ran: set[str] = set()

    def run(*args: str) -> Run:
        ran.add(args[0])
        return step(config, *args)

    try:
        run("doctor")  # before the stack exists: the simulation allows all the policy grants
        run("up")
        confirmation = Outbox(tmp_path / "outbox").wait_for(EMAIL, CONFIRMATION)
        assert f"{EMAIL}: waiting for its confirmation" in run("doctor").stdout
        get(link(confirmation, "confirm"))
        poll_status(config, _healthy, timeout=90, what="all healthy, e-mail confirmed")
        assert f"{EMAIL}: confirmed" in run("doctor").stdout
        run("status")
        run("plan")
        run("force-fail", "--region", EAST, "--wait", "--timeout", "2m")
        run("force-fail", "--region", EAST, "--restore")
        run("force-fail", "--region", WEST)
        run("force-fail", "--region", WEST, "--restore")
        poll_status(config, _healthy, timeout=90, what="healthy again after the restore")
        run("drill", "--region", EAST, "--timeout", "2m")
        run("logs", "--since", "10m")
        run("invoke", "--region", EAST, "--path", "/health")
        run("rotate-secret")
        admin("logs", endpoint).create_log_stream(
            logGroupName=f"/aws/lambda/{name}-fn", logStreamName="never-written"
        )
        run("gc-logs", "--min-age", "0s")
        # Changed code and settings (a new interval replaces the health checks and moves
        # the records): the update paths need their actions too.
        (bundle / "extra.py").write_text("VERSION = 2\n")
        config.write_text(
            _config(name, zone, domain, bundle, memory=256, interval=30, reserved=5, access=1)
        )
        monkeypatch.setenv("FAILOVER_IP_RANGES", f"{endpoint}/_sandbox/ip-ranges.json")
        run("up")
        # Back to the release the second `up` replaced (same secret: rotated before it).
        run("rollback", "--yes")
        run("refresh-ip-ranges")
        # Without the domain, up finds the stack's former domain and deletes it; with
        # auto_refresh off, the refresher's function, subscription, role and log group.
        config.write_text(_config(name, zone, None, bundle, memory=256, interval=30, access=2))
        run("up", "--yes")
        run("down", "--yes")
    finally:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ADMIN_KEY)
        failover(config, "down", "--yes")  # leaves nothing behind if a step failed
    report = access_report(endpoint)
    assert report["denied"] == [], f"the sandbox refused: {report['denied']}"
    granted = actions(document)
    unused = sorted(granted - set(report["allowed"]) - set(NOT_EXERCISED))
    assert not unused, f"the policy grants actions the life cycle never needed: {unused}"
    assert set(NOT_EXERCISED) <= granted, sorted(set(NOT_EXERCISED) - granted)
    assert set(COMMANDS) <= ran, f"commands of the registry never run: {set(COMMANDS) - ran}"
