"""`failover doctor` against the sandbox, and up's preflight before its first write.

On the sandbox every check is listed and passes (exit 0); without credentials it stops
with one paragraph (exit 2); a hosted zone that does not exist fails naming it (exit 1);
the permissions the sandbox enforces are simulated; a Route 53 limit the stack would
exceed fails doctor and stops `up` before it writes anything.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import SandboxProcess
from tests.e2e_helpers import client, failover, write_config
from tests.readme_policy import generated_policy, write
from tests.test_status_helpers import use_sandbox

pytestmark = pytest.mark.sandbox

EVERY_CHECK = (
    "identity",
    "sandbox",
    "permissions",
    "hosted zone",
    "runtime",
    "quota: Route 53 health checks",
    "quota: Lambda concurrency us-east-1",
    "quota: Lambda concurrency us-west-2",
    "quota: API Gateway regional APIs us-east-1",
    "quota: API Gateway regional APIs us-west-2",
    "alarm e-mail",
    "permissions boundary",
)


def domain_config(folder: Path, stack: str, zone: str) -> Path:
    return write_config(
        folder,
        stack,
        f"domain: {{name: app.{zone}, hosted_zone: {zone}}}\nalarms: {{email: ops@{zone}}}\n",
    )


def checks(config: Path) -> tuple[int, dict[str, dict[str, str]]]:
    run = failover(config, "doctor", "--json")
    assert run.exit_code in (0, 1), run.stderr
    found = {c["check"]: c for c in json.loads(run.stdout)["checks"]}
    assert not run.mutating, run.mutating  # read-only
    return run.exit_code, found


def test_doctor_on_the_sandbox_lists_every_check_and_exits_0(
    sandbox_env: str, tmp_path: Path
) -> None:
    stack = f"doc{uuid.uuid4().hex[:8]}"
    zone = f"{stack}.test"
    client("route53", "us-east-1", sandbox_env).create_hosted_zone(Name=zone, CallerReference=stack)
    config = domain_config(tmp_path, stack, zone)
    run = failover(config, "doctor")
    assert run.exit_code == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    for name in EVERY_CHECK:
        assert any(line[2:].startswith(name) for line in lines), (name, run.stdout)
    assert "the local sandbox" in run.stdout
    assert "public DNS delegation not checked" in run.stdout
    assert not run.mutating
    code, found = checks(config)
    assert code == 0
    assert found["permissions"]["verdict"] == "ok"  # nothing enforced: all allowed
    assert found["quota: Route 53 health checks"]["verdict"] == "ok"
    assert found["alarm e-mail"]["detail"].endswith("subscribed by the next `up`")


def test_a_hosted_zone_that_does_not_exist_fails_naming_it(
    sandbox_env: str, tmp_path: Path
) -> None:
    stack = f"doc{uuid.uuid4().hex[:8]}"
    config = domain_config(tmp_path, stack, f"{stack}-missing.test")
    run = failover(config, "doctor")
    assert run.exit_code == 1, run.stdout + run.stderr
    (line,) = [x for x in run.stdout.splitlines() if "hosted zone" in x]
    assert f"{stack}-missing.test does not exist" in line
    assert "fix:" in run.stdout and "1 check(s) will fail." in run.stdout


def test_without_credentials_it_exits_2_with_one_paragraph(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    run = failover(write_config(tmp_path, "nocreds"), "doctor")
    assert run.exit_code == 2
    assert not run.stdout and not run.calls
    paragraph = run.stderr.strip()
    assert paragraph.startswith("Error:") and "\n\n" not in paragraph
    assert "credentials" in paragraph.lower() and "Traceback" not in paragraph


def test_permissions_are_simulated_against_the_enforced_policy(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = write_config(tmp_path, f"doc{uuid.uuid4().hex[:8]}")
    # An on-call role: status and doctor only. Doctor runs, and says what up would lack.
    policy = generated_policy(config, "--command", "status", "--command", "doctor")
    use_sandbox(monkeypatch, launch_sandbox("--enforce-policy", str(write(tmp_path, policy))))
    code, found = checks(config)
    assert code == 1
    permissions = found["permissions"]
    assert permissions["verdict"] == "fail"
    assert "lambda:CreateFunction" in permissions["detail"]
    assert "iam:PassRole" in permissions["detail"]
    assert "lambda:GetFunctionConfiguration" not in permissions["detail"]  # granted
    assert "failover iam-policy" in permissions["fix"]


def test_a_limit_the_stack_would_exceed_fails_doctor_and_stops_up_before_any_write(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    endpoint = use_sandbox(monkeypatch, launch_sandbox())
    rules = urllib.request.Request(
        f"{endpoint}/_sandbox/rules", data=b'{"health_checks_per_account": 1}', method="POST"
    )
    urllib.request.build_opener(urllib.request.ProxyHandler({})).open(rules, timeout=10).close()
    config = write_config(tmp_path, f"doc{uuid.uuid4().hex[:8]}")
    code, found = checks(config)
    assert code == 1
    quota = found["quota: Route 53 health checks"]
    assert quota["verdict"] == "fail" and "0 of 1 used; the stack needs 2" in quota["detail"]
    run = failover(config, "up")
    assert run.exit_code == 1, run.stderr
    assert "would exceed the account's limit" in run.stderr
    assert not run.mutating, run.mutating  # stopped before its first write


def test_a_policy_scoped_to_another_stack_fails_the_simulation_on_this_stacks_names(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Actions are simulated on the resources the stack's calls name, not on "*": a policy
    scoped to another stack's names allows the lists but not this stack's function."""
    (tmp_path / "other").mkdir()
    other = write_config(tmp_path / "other", f"oth{uuid.uuid4().hex[:8]}")
    policy = generated_policy(other, "--stack-scoped")
    use_sandbox(monkeypatch, launch_sandbox("--enforce-policy", str(write(tmp_path, policy))))
    code, found = checks(write_config(tmp_path, f"doc{uuid.uuid4().hex[:8]}"))
    assert code == 1
    refused = found["permissions"]["detail"]
    assert "lambda:CreateFunction" in refused and "iam:PassRole" in refused
    assert "route53:ListHealthChecks" not in refused  # granted on "*"
