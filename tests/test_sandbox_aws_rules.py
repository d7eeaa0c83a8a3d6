"""The sandbox enforces AWS's own holds and rate limits (docs/aws-rules.md), and the tool
gets through each of them the way it must on AWS.

Tests that need a rule on that the session sandbox turns off start their own sandbox.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from failover_cli.aws.clients import ClientFactory
from failover_cli.sandbox.outage_regions import INTERNAL_AGENT
from tests.conftest import SandboxProcess
from tests.e2e_helpers import failover, unique_stack, write_config
from tests.sandbox_api_helpers import eventually, http
from tests.stack_inventory import inventory
from tests.test_sandbox_acm_domains import _create, _issued_certificate

pytestmark = pytest.mark.sandbox

EAST = "us-east-1"


def _use(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxProcess) -> str:
    sandbox.wait_until_ready()
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint)
    monkeypatch.setenv("FAILOVER_RESOLVE", f"*={sandbox.endpoint}")
    return sandbox.endpoint


def _set_rules(endpoint: str, **rules: float) -> dict[str, Any]:
    answer = http(f"{endpoint}/_sandbox/rules", method="POST", body=json.dumps(rules).encode())
    assert answer.status == 200, answer.body
    settings: dict[str, Any] = json.loads(answer.body)
    return settings


def test_down_leaves_only_the_table_dynamodb_holds_then_finishes_once_it_may(
    launch_sandbox: Callable[..., SandboxProcess],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """DynamoDB keeps a table that seeded a replica for 24 hours: the first `down` of
    every first trial meets it."""
    endpoint = _use(monkeypatch, launch_sandbox("--source-table-hold", "24h"))
    stack = unique_stack("hold")
    config = write_config(tmp_path, stack)
    names = {"table": f"{stack}.Hello", "function": f"{stack}-fn"}
    assert failover(config, "up").exit_code == 0

    held = failover(config, "down", "--yes")
    assert held.exit_code == 1
    assert "Traceback" not in held.stderr
    assert f"table {stack}.Hello (us-east-1)" in held.stderr
    assert re.search(r"can be deleted from about \d{4}-\d\d-\d\d \d\d:\d\d UTC", held.stderr)
    assert inventory(endpoint, stack, **names) == {"table": [f"{stack}.Hello (us-east-1)"]}

    _set_rules(endpoint, source_table_hold=0)  # a day later
    assert failover(config, "down", "--yes").exit_code == 0
    assert inventory(endpoint, stack, **names) == {}


def test_a_certificate_is_in_use_while_its_domain_exists_and_for_a_while_after(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, launch_sandbox("--time-scale", "10", "--certificate-release", "20s"))
    zone = f"zone-{uuid.uuid4().hex[:6]}.example.com"
    domain = f"api.{zone}"
    arn = _issued_certificate(domain, zone)
    _create(domain, arn)
    acm = boto3.client("acm", EAST)
    user = f"arn:aws:apigateway:{EAST}::/domainnames/{domain}"
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"] == [user]
    with pytest.raises(ClientError) as refused:
        acm.delete_certificate(CertificateArn=arn)
    assert refused.value.response["Error"]["Code"] == "ResourceInUseException"

    boto3.client("apigateway", EAST).delete_domain_name(domainName=domain)
    with pytest.raises(ClientError) as still:  # API Gateway has not let go yet
        acm.delete_certificate(CertificateArn=arn)
    assert still.value.response["Error"]["Code"] == "ResourceInUseException"

    def deleted() -> bool:
        try:
            acm.delete_certificate(CertificateArn=arn)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ResourceInUseException"
            return False
        return True

    eventually(deleted, "API Gateway to release the certificate")


def test_dynamodb_sees_new_write_auto_scaling_only_after_a_moment(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Application Auto Scaling is eventually consistent: right after the write target is
    registered, a replica of the provisioned table is refused as not auto-scaled."""
    _use(monkeypatch, launch_sandbox("--time-scale", "10"))
    name = f"scaled-{uuid.uuid4().hex[:8]}"
    dynamo = boto3.client("dynamodb", EAST)
    dynamo.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    boto3.client("application-autoscaling", EAST).register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension="dynamodb:table:WriteCapacityUnits",
        MinCapacity=1,
        MaxCapacity=10,
    )
    create = [{"Create": {"RegionName": "us-west-2"}}]
    with pytest.raises(ClientError) as early:
        dynamo.update_table(TableName=name, ReplicaUpdates=create)
    assert "Pay-Per-Request or AutoScaled" in early.value.response["Error"]["Message"]

    def accepted() -> bool:
        try:
            dynamo.update_table(TableName=name, ReplicaUpdates=create)
        except ClientError as error:
            assert "AutoScaled" in error.response["Error"]["Message"]
            return False
        return True

    eventually(accepted, "DynamoDB to see the write auto scaling")


def _check() -> str:
    # An endpoint check (GetHealthCheckStatus refuses calculated ones), disabled: never probed.
    check_id: str = boto3.client("route53", EAST).create_health_check(
        CallerReference=uuid.uuid4().hex,
        HealthCheckConfig={
            "Type": "HTTP",
            "FullyQualifiedDomainName": "example.com",
            "Disabled": True,
        },
    )["HealthCheck"]["Id"]
    return check_id


def test_get_health_check_status_is_throttled_at_route53s_rate(sandbox_env: str) -> None:
    check_id = _check()
    once = boto3.client("route53", EAST, config=Config(retries={"max_attempts": 1}))
    codes = []
    for _ in range(12):
        try:
            once.get_health_check_status(HealthCheckId=check_id)
            codes.append("ok")
        except ClientError as error:
            codes.append(error.response["Error"]["Code"])
    assert "Throttling" in codes
    assert set(codes) <= {"ok", "Throttling"}


def test_the_tool_paces_itself_under_that_rate(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its own sandbox: the limit is per account, and other tests' reads would use it up.
    _use(monkeypatch, launch_sandbox())
    check_id = _check()
    paced = ClientFactory().client("route53", EAST)
    paced.meta.events.register(
        "needs-retry.route53.GetHealthCheckStatus",
        lambda response=None, **_: _no_throttle(response),
    )
    for _ in range(8):
        paced.get_health_check_status(HealthCheckId=check_id)


def test_the_sandboxs_own_reads_leave_the_accounts_quota_alone(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch page reads every health check each second; on AWS that traffic is not the
    account's, so it must not throttle the user's own `status` while the page is open."""
    _use(monkeypatch, launch_sandbox())
    check_id = _check()
    once = Config(retries={"max_attempts": 1})
    internal = boto3.client(
        "route53", EAST, config=once.merge(Config(user_agent_extra=INTERNAL_AGENT))
    )
    for _ in range(8):  # twice the burst
        internal.get_health_check_status(HealthCheckId=check_id)
    user = boto3.client("route53", EAST, config=once)
    for _ in range(4):  # the account's burst is still whole
        user.get_health_check_status(HealthCheckId=check_id)


def _no_throttle(response: Any) -> None:
    """Fail the test at the first throttled answer (botocore would retry it silently)."""
    if response is not None:
        parsed = response[1] if isinstance(response, tuple) else {}
        code = (parsed or {}).get("Error", {}).get("Code")
        assert code != "Throttling", "the tool's own pace was throttled"


def test_the_rules_endpoint_shows_and_refuses_nonsense(sandbox_env: str) -> None:
    shown = json.loads(http(f"{sandbox_env}/_sandbox/rules").body)
    assert shown["source_table_hold"] == 0  # the session sandbox turns it off
    assert shown["health_check_status_per_second"] == 1.0
    for bad in ({"no_such_rule": 1}, {"certificate_release": -1}, {"first_metric_after": "x"}):
        answer = http(f"{sandbox_env}/_sandbox/rules", method="POST", body=json.dumps(bad).encode())
        assert answer.status == 400
    assert json.loads(http(f"{sandbox_env}/_sandbox/rules").body) == shown
