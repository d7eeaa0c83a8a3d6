"""The sandbox server itself: moto passes through; `Sandbox` starts and stops in-process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import boto3
import pytest

pytestmark = pytest.mark.sandbox

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_what_moto_does_well_passes_through(sandbox_env: str) -> None:
    assert boto3.client("sts").get_caller_identity()["Account"] == "123456789012"
    assert isinstance(
        boto3.client("lambda", region_name="us-west-2").list_functions()["Functions"], list
    )
    iam = boto3.client("iam")
    # AWS managed policies exist, as on AWS (MOTO_IAM_LOAD_MANAGED_POLICIES).
    policy = iam.get_policy(
        PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    )
    assert policy["Policy"]["PolicyName"] == "AWSLambdaBasicExecutionRole"
    role = f"passthrough-{uuid.uuid4().hex[:8]}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument="{}")
    assert role in {r["RoleName"] for r in iam.list_roles()["Roles"]}


def test_plain_tables_have_no_replica_fields(sandbox_env: str) -> None:
    client = boto3.client("dynamodb", region_name="eu-west-1")
    name = f"plain-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table = client.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert "Replicas" not in table and "GlobalTableVersion" not in table


# Runs in its own interpreter: a Sandbox in pytest's process would share
# moto's global backends with the tests that use mock_aws.
IN_PROCESS = textwrap.dedent(
    """
    import json, os, socket, threading, time
    from failover_cli.sandbox import Sandbox

    began = time.perf_counter()
    sandbox = Sandbox(port=0, time_scale=5)
    sandbox.start()
    started_s = time.perf_counter() - began
    os.environ.update(sandbox.environment())
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)
    import boto3
    tables = boto3.client("dynamodb").list_tables()["TableNames"]
    port, endpoint, running = sandbox.port, sandbox.endpoint, sandbox.running
    sandbox.stop()
    sandbox.stop()  # twice is harmless
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        closed = False
    except OSError:
        closed = True
    with Sandbox() as again:
        second = again.running
    print(json.dumps({
        "port": port, "endpoint": endpoint, "running": running, "tables": tables,
        "closed": closed, "running_after_stop": sandbox.running, "second": second,
        "threads": sorted(t.name for t in threading.enumerate()), "started_s": started_s,
    }))
    """
)


def test_sandbox_starts_on_a_free_port_and_stops_in_process() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IN_PROCESS],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"Sandbox.start() took {result['started_s']:.2f}s")  # a measurement, not an assertion
    assert result["port"] > 0
    assert result["endpoint"] == f"http://127.0.0.1:{result['port']}"
    assert result["running"] is True and result["tables"] == []
    assert result["closed"] is True and result["running_after_stop"] is False
    assert result["second"] is True
    assert result["threads"] == ["MainThread"]  # no server or scheduler thread left behind
