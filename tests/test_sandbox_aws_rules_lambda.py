"""AWS rules a first real `up` meets in Lambda and Route 53, enforced by the sandbox.

Lambda refuses an update (or a publish) while the previous one is in progress
(ResourceConflictException) and cannot assume a role created seconds ago
(InvalidParameterValueException); Route 53
refuses a health check whose path or search string is over 255 characters or that names
fewer than 3 checker regions. The raw calls show the sandbox enforcing each rule; the
tool's life cycle on a sandbox with the delays on shows it gets past them. The rows of
docs/aws-rules.md name these tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from failover_cli.resources.health_check import health_path
from failover_cli.sandbox.lambda_.updates import ROLE_NOT_READY
from tests.conftest import SandboxProcess
from tests.e2e_helpers import NO_BAKE, failover
from tests.sandbox_api_helpers import eventually
from tests.test_security_lookalikes import TRUST  # a role Lambda may assume
from tests.test_status_helpers import use_sandbox

pytestmark = pytest.mark.sandbox

EAST = "us-east-1"
EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18


@pytest.fixture
def slow_lambda(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch
) -> str:
    """A sandbox where updates stay in progress for 6 s and a new role for 5 s (real time:
    wide enough for the calls that must land inside them on a busy machine)."""
    sandbox = launch_sandbox(
        "--rule", "function_update_seconds=6", "--rule", "role_assumable_after=5"
    )
    return use_sandbox(monkeypatch, sandbox)


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def make_function(endpoint: str, name: str, role: str) -> Any:
    lam = boto3.client("lambda", EAST, endpoint_url=endpoint)
    return lam.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="h.h",
        Code={"ZipFile": EMPTY_ZIP},
    )


def test_a_new_role_is_not_assumable_by_lambda_at_once(slow_lambda: str) -> None:
    name = f"r{uuid.uuid4().hex[:8]}"
    iam = boto3.client("iam", EAST, endpoint_url=slow_lambda)
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    with pytest.raises(ClientError) as refused:
        make_function(slow_lambda, name, role)
    assert code(refused) == "InvalidParameterValueException"
    assert ROLE_NOT_READY in str(refused.value)
    created = eventually(lambda: _try_create(slow_lambda, name, role), "an assumable role", 30)
    assert created["FunctionName"] == name


def _try_create(endpoint: str, name: str, role: str) -> Any:
    try:
        return make_function(endpoint, name, role)
    except ClientError as error:
        if "cannot be assumed" in str(error):
            return None
        raise


def test_an_update_in_progress_refuses_the_next_until_it_is_done(slow_lambda: str) -> None:
    name = f"u{uuid.uuid4().hex[:8]}"
    iam = boto3.client("iam", EAST, endpoint_url=slow_lambda)
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    eventually(lambda: _try_create(slow_lambda, name, role), "the role to be assumable", 30)
    lam = boto3.client("lambda", EAST, endpoint_url=slow_lambda)
    answer = lam.update_function_configuration(FunctionName=name, MemorySize=256)
    assert answer["LastUpdateStatus"] == "InProgress"
    assert lam.get_function(FunctionName=name)["Configuration"]["LastUpdateStatus"] == "InProgress"
    with pytest.raises(ClientError) as refused:
        lam.update_function_code(FunctionName=name, ZipFile=EMPTY_ZIP)
    assert code(refused) == "ResourceConflictException"
    assert "An update is in progress" in str(refused.value)
    with pytest.raises(ClientError) as unpublished:  # a version never snapshots half an update
        lam.publish_version(FunctionName=name)
    assert code(unpublished) == "ResourceConflictException"
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert lam.get_function_configuration(FunctionName=name)["LastUpdateStatus"] == "Successful"
    published = lam.publish_version(FunctionName=name)
    assert (published["MemorySize"], published["State"]) == (256, "Pending")
    with pytest.raises(ClientError) as pending:  # not invocable until Lambda has prepared it
        lam.invoke(FunctionName=name, Qualifier="1", Payload=b"{}")
    assert code(pending) == "ResourceConflictException"
    lam.update_function_configuration(FunctionName=name, MemorySize=512)  # accepted now
    # A published version is never the one being updated.
    version = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    assert version["LastUpdateStatus"] == "Successful"
    lam.get_waiter("published_version_active").wait(FunctionName=name, Qualifier="1")
    assert lam.invoke(FunctionName=name, Qualifier="1", Payload=b"{}")["StatusCode"] == 200


def test_the_tool_gets_past_both_on_up_force_fail_and_down(
    slow_lambda: str, tmp_path: Path
) -> None:
    stack = f"ru{uuid.uuid4().hex[:6]}"
    config = tmp_path / "failover.yaml"
    config.write_text(
        f"stack: {stack}\nregions: [us-east-1, us-west-2]\n"
        f"table: {{name: {stack}.Hello, billing: on-demand}}\n"
        # The release below is here for Lambda's update window, not for its bake (2 minutes
        # a region; with both, the test met its 300 s timeout in CI).
        f"{NO_BAKE}"
        f"function:\n  name: {stack}-fn\n"
    )
    try:
        up = failover(config, "up")
        assert up.exit_code == 0, up.stderr
        assert "for the new IAM role to propagate" in up.stderr
        # force-fail right after up's configuration write, then restore right after it.
        for args in (("--region", EAST), ("--region", EAST, "--restore")):
            run = failover(config, "force-fail", *args)
            assert run.exit_code == 0, run.stderr
        config.write_text(config.read_text() + "  memory_mb: 256\n")
        changed = failover(config, "up")  # code unchanged, configuration changed: waits
        assert changed.exit_code == 0, changed.stderr
    finally:
        assert failover(config, "down", "--yes").exit_code == 0


def test_route53_refuses_health_check_settings_over_its_limits(sandbox_env: str) -> None:
    unchecked = Config(parameter_validation=False)  # botocore would refuse the regions itself
    r53 = boto3.client("route53", EAST, endpoint_url=sandbox_env, config=unchecked)
    base = {
        "Type": "HTTPS_STR_MATCH",
        "FullyQualifiedDomainName": "x.execute-api.us-east-1.amazonaws.com",
        "Port": 443,
        "ResourcePath": "/prod/health",
        "SearchString": "hello from",
        "Regions": ["us-east-1", "us-west-1", "us-west-2"],
    }
    cases = [
        {"ResourcePath": "/" + "p" * 255},
        {"SearchString": "s" * 256},
        {"Regions": ["us-east-1", "us-west-1"]},
    ]
    for case in cases:
        with pytest.raises(ClientError) as refused:
            r53.create_health_check(
                CallerReference=uuid.uuid4().hex, HealthCheckConfig={**base, **case}
            )
        assert code(refused) == "InvalidInput", case
    made = r53.create_health_check(CallerReference=uuid.uuid4().hex, HealthCheckConfig=base)
    check = made["HealthCheck"]["Id"]
    try:
        with pytest.raises(ClientError) as refused:
            r53.update_health_check(HealthCheckId=check, SearchString="s" * 256)
        assert code(refused) == "InvalidInput"
        r53.update_health_check(HealthCheckId=check, SearchString="s" * 255)  # at the limit
    finally:
        r53.delete_health_check(HealthCheckId=check)


def test_the_longest_health_check_path_the_config_allows_fits_route53() -> None:
    """stage is at most 128 characters (validate), the secret 48: the path stays <= 255."""
    from failover_cli.engine.secret import new_secret

    assert len(health_path("s" * 128, new_secret())) <= 255


def test_the_refresher_waits_for_an_update_in_progress_before_uploading_its_code(
    slow_lambda: str, tmp_path: Path
) -> None:
    """Issue 22 item 10: `<stack>-ip-ranges` mid-update (an operator's change, an
    interrupted run's) takes the new code once the update is done, not a
    ResourceConflictException."""
    from failover_cli.aws.clients import ClientFactory
    from failover_cli.config.loader import load_config
    from failover_cli.engine.context import Context
    from failover_cli.engine.model import FieldChange, Observed, Spec
    from failover_cli.resources import ip_refresher
    from tests.e2e_helpers import write_config

    stack = f"rr{uuid.uuid4().hex[:6]}"
    name = f"{stack}-ip-ranges"
    iam = boto3.client("iam", EAST, endpoint_url=slow_lambda)
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    eventually(lambda: _try_create(slow_lambda, name, role), "the role to be assumable", 30)
    lam = boto3.client("lambda", EAST, endpoint_url=slow_lambda)
    lam.update_function_configuration(FunctionName=name, MemorySize=256)  # now in progress
    data, sha = ip_refresher.code()
    props = ip_refresher.RefresherProps(True, sha, "{}", "", role, zip_bytes=data)
    spec = Spec(ip_refresher.KIND, EAST, name, props)
    ctx = Context(config=load_config(write_config(tmp_path, stack)), clients=ClientFactory())
    change = FieldChange("code_sha256", "old", sha)
    ip_refresher.RefresherHandler().update(ctx, spec, Observed(exists=True), [change])
    assert lam.get_function_configuration(FunctionName=name)["CodeSha256"] == sha
