"""`failover sandbox` as a user runs it: export lines, clean stops, a taken port."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.sandbox

REPO_ROOT = Path(__file__).resolve().parent.parent


def wait_for_output(read: Any, lines: int, deadline_s: float = 30) -> list[str]:
    end = time.monotonic() + deadline_s
    while True:
        text = read()
        if text.count("\n") >= lines or time.monotonic() > end:
            return str(text).splitlines()
        time.sleep(0.05)


def expected_exports(port: int) -> list[str]:
    endpoint = f"http://127.0.0.1:{port}"
    return [
        f"export AWS_ENDPOINT_URL={endpoint}",
        "export AWS_ACCESS_KEY_ID=testing",
        "export AWS_SECRET_ACCESS_KEY=testing",
        "export AWS_DEFAULT_REGION=us-east-1",
        f"export FAILOVER_RESOLVE='*={endpoint}'",
        f"export FAILOVER_IP_RANGES={endpoint}/_sandbox/ip-ranges.json",
    ]


def test_prints_the_export_lines_and_stops_on_sigterm(launch_sandbox: Any) -> None:
    sandbox = launch_sandbox()
    sandbox.wait_until_ready()

    printed = wait_for_output(sandbox.stdout, 7)
    assert printed[:6] == expected_exports(sandbox.port)
    # Route 53's name servers: a free port of their own (tests/test_sandbox_nameserver.py).
    assert re.fullmatch(r"export FAILOVER_NAMESERVERS=127\.0\.0\.1:\d+", printed[6])
    assert sandbox.endpoint in sandbox.stderr()
    assert sandbox.stop(signal.SIGTERM) == 0
    assert "Sandbox stopped." in sandbox.stderr()
    assert "Traceback" not in sandbox.stderr()


def test_ctrl_c_stops_cleanly(launch_sandbox: Any) -> None:
    sandbox = launch_sandbox("--time-scale", "10")
    # An accelerated clock is exported, so drills report emulated seconds too.
    assert "export FAILOVER_TIME_SCALE=10" in wait_for_output(sandbox.stdout, 8)
    sandbox.wait_until_ready()

    assert sandbox.stop(signal.SIGINT) == 0
    assert "Sandbox stopped." in sandbox.stderr()
    assert "Traceback" not in sandbox.stderr()


def test_json_flag_prints_the_environment_as_json(launch_sandbox: Any) -> None:
    sandbox = launch_sandbox(global_args=("--json",))
    sandbox.wait_until_ready()

    printed = json.loads(wait_for_output(sandbox.stdout, 1)[0])
    assert printed["endpoint"] == sandbox.endpoint
    assert printed["environment"]["AWS_ENDPOINT_URL"] == sandbox.endpoint
    assert set(printed["environment"]) == {
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "FAILOVER_RESOLVE",
        "FAILOVER_IP_RANGES",
        "FAILOVER_NAMESERVERS",
    }


def test_a_taken_port_is_one_clear_line_and_a_nonzero_exit() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "failover_cli", "sandbox", "--port", str(port)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"Port {port}" in lines[0] and "already in use" in lines[0]
    assert "--port" in lines[0]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("no_such_rule=1", "unknown rule"),
        ("function_update_seconds", "NAME=VALUE"),
        ("role_assumable_after=-1", ">= 0"),
    ],
)
def test_a_bad_rule_is_a_usage_error_before_anything_starts(value: str, said: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "failover_cli", "sandbox", "--port", "0", "--rule", value],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "--rule" in done.stderr
    assert "Traceback" not in done.stderr


def test_hosted_zones_are_made_at_start_without_the_aws_cli(launch_sandbox: Any) -> None:
    sandbox = launch_sandbox(
        "--hosted-zone", "example.com", "--hosted-zone", "Example.org.",
        "--hosted-zone", "example.com", global_args=("--json",),
    )  # fmt: skip
    sandbox.wait_until_ready()
    printed = json.loads(wait_for_output(sandbox.stdout, 1)[0])  # written once they exist
    assert sorted(printed["hosted_zones"]) == ["example.com", "example.org"]

    import boto3

    route53 = boto3.client("route53", region_name="us-east-1", endpoint_url=sandbox.endpoint)
    zones = {z["Name"]: z["Id"].split("/")[-1] for z in route53.list_hosted_zones()["HostedZones"]}
    assert zones == {f"{name}.": zone for name, zone in printed["hosted_zones"].items()}


def test_a_bad_hosted_zone_name_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "failover_cli", "sandbox", "--port", "0", "--hosted-zone", "x"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "--hosted-zone" in done.stderr and "not a DNS name" in done.stderr
