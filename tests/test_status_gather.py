"""`ops.status.gather` against moto in-process, with a fake HTTP client for the live probes.

Checks what the sandbox tests cannot see directly: the reads really run at the
same time (a barrier every first-wave call must reach together), a
half-built stack is reported piece by piece, and the secret used for the
probes never reaches the model.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from failover_cli.aws.retry import Clock
from failover_cli.bundle import build_bundle
from failover_cli.engine.desired import DesiredInputs
from failover_cli.errors import AwsError
from failover_cli.net.http import HttpAnswer, HttpClient
from failover_cli.ops.status import gather
from failover_cli.resources import alias, api, function, health_check, role
from tests.engine_helpers import context, make_config
from tests.faults import Fault, FaultInjector, Rule

SECRET = "s3cret-health-checker-id-0123456789abcdef"
REGIONS = ("us-east-1", "us-west-2")


class FakeHttp(HttpClient):
    """Answers like the functions would: 503 from regions whose function is forced to fail."""

    def __init__(self, failing: set[str]) -> None:
        super().__init__(overrides=[])
        self.failing = failing
        self.urls: list[str] = []
        self._lock = threading.Lock()

    def get(self, url: str, *, timeout: float = 5.0) -> HttpAnswer:
        with self._lock:
            self.urls.append(url)
        region = next(r for r in REGIONS if f".{r}." in url)
        if region in self.failing:
            body = {"message": f"Forced failure in {region} (echoing {SECRET})"}
            return HttpAnswer(503, json.dumps(body), {"X-Failover-Region": region}, 0.01)
        body = {"message": f"Shallow hello from {region}", "ping": "shallow"}
        return HttpAnswer(200, json.dumps(body), {"X-Failover-Region": region}, 0.01)


@pytest.fixture
def aws() -> Iterator[None]:
    # moto imports a service's models at its first request; Lambda's and Logs' both import
    # S3's at module level, and two reader threads importing them at once can meet S3's
    # half-initialised ("cannot import name 's3_backends'"). Imported here, one at a time.
    import moto.awslambda.models
    import moto.logs.models  # noqa: F401

    with mock_aws():
        yield


@pytest.fixture
def inputs(tmp_path: Path) -> DesiredInputs:
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    return DesiredInputs(make_config(), SECRET, build_bundle(tmp_path))


def _build(inputs: DesiredInputs) -> None:
    """Role, functions, APIs and health checks as `up` makes them (no table, no alarms)."""
    handlers = {
        "role": role.HANDLER,
        "function": function.HANDLER,
        "alias": alias.HANDLER,
        "api": api.HANDLER,
        "health_check": health_check.HANDLER,
    }
    with context() as (ctx, _):
        for module in (role, function, alias, api, health_check):
            for spec in module.desired(inputs):
                handlers[spec.kind].create(ctx, spec)


def _force_fail(region: str) -> None:
    lam = boto3.client("lambda", region)
    name = make_config().function.name
    env = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**env, "FORCE_FAIL": "true"}}
    )


def test_first_wave_reads_all_run_at_the_same_time(aws: None) -> None:
    # Every independent read of a stack with nothing deployed. If gather ran them
    # one after another, the first would wait at the barrier alone and break it.
    first_wave = {
        ("dynamodb", "DescribeTable"),
        ("lambda", "GetFunction"),
        ("apigateway", "GetRestApis"),
    }
    parties = len(first_wave) * len(REGIONS) + 3  # + ListHealthChecks, DescribeAlarms, STS
    barrier = threading.Barrier(parties, timeout=20)
    globals_ = {"ListHealthChecks", "DescribeAlarms", "GetCallerIdentity"}

    def hook(service: str, _region: str, operation: str, _params: dict[str, Any]) -> None:
        if (service, operation) in first_wave or operation in globals_:
            barrier.wait()

    with context() as (ctx, recorder):
        ctx.clients.add_hook(hook)
        # A generous deadline: this is about concurrency, and a loaded machine is slow.
        status = gather(ctx, FakeHttp(set()), timeout=60)
    assert not barrier.broken
    assert not status.deployed and status.exit_code == 3
    assert not recorder.mutating


def test_a_half_built_stack_is_reported_piece_by_piece(aws: None, inputs: DesiredInputs) -> None:
    _build(inputs)
    _force_fail("us-east-1")
    http = FakeHttp({"us-east-1"})
    with context() as (ctx, _):
        status = gather(ctx, http)

    assert status.deployed and not status.healthy and status.exit_code == 3
    east, west = status.regions
    assert east.function.force_fail and not east.healthy
    assert "FORCE_FAIL is on" in east.problems
    assert [p.status for p in east.probes] == [503, 503]
    assert west.healthy and not west.function.force_fail
    for region in status.regions:
        assert region.table.status == "missing" and region.alarm.state == "missing"
        assert region.api.id and region.api.url == (
            f"https://{region.api.id}.execute-api.{region.region}.amazonaws.com/prod"
        )
        assert region.health_check.id and region.health_check.status == "healthy"
    assert west.table.replica_status == "missing"
    assert status.topic_arn is None and status.dns is None and status.serving_region is None

    # The probes used the real secret, shallow and deep ...
    assert any(SECRET in u and u.endswith("&deep=true") for u in http.urls)
    assert any(SECRET in u and "deep" not in u for u in http.urls)
    # ... and nothing the model holds does, even text echoed back by an answer.
    dumped = json.dumps(status.to_json(), ensure_ascii=False)
    assert SECRET not in dumped and SECRET not in repr(status)
    assert "healthCheckerId=****(" in dumped


def test_a_missing_api_is_not_probed(aws: None, inputs: DesiredInputs) -> None:
    _build(inputs)
    ag = boto3.client("apigateway", "us-west-2")
    for item in ag.get_rest_apis()["items"]:
        ag.delete_rest_api(restApiId=item["id"])
    http = FakeHttp(set())
    with context() as (ctx, _):
        status = gather(ctx, http)
    west = status.regions[1]
    assert west.api.id is None and west.probes == () and "API missing" in west.problems
    assert status.regions[0].healthy and status.exit_code == 3
    assert all(".us-west-2." not in u for u in http.urls)


def test_an_aws_error_names_its_region_and_the_iam_action(aws: None) -> None:
    def hook(service: str, region: str, operation: str, _params: dict[str, Any]) -> None:
        if operation == "GetFunction" and region == "us-west-2":
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, operation
            )

    with context() as (ctx, _):
        ctx.clients.add_hook(hook)
        with pytest.raises(AwsError) as raised:
            gather(ctx, FakeHttp(set()))
    assert raised.value.region == "us-west-2"
    assert "lambda:GetFunction" in raised.value.render()


def _switch_table(region: str, forced_out: dict[str, str]) -> None:
    """The stack's table in `region` holding this replica's copy of the switch item."""
    config = make_config()
    key = config.table.partition_key
    ddb = boto3.client("dynamodb", region)
    ddb.create_table(
        TableName=config.table.name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    entries = {
        r: {"M": {"at": {"S": "2026-12-07T00:00:00Z"}, "by": {"S": by}}}
        for r, by in forced_out.items()
    }
    ddb.put_item(
        TableName=config.table.name,
        Item={key: {"S": "failover:switch"}, "forced_out": {"M": entries}, "revision": {"N": "1"}},
    )


def test_the_switch_is_shown_as_each_replica_holds_it(aws: None, inputs: DesiredInputs) -> None:
    _build(inputs)
    # us-west-2's replica has us-east-1 forced out; us-east-1's own copy has not caught up.
    _switch_table("us-west-2", {"us-east-1": "ops@laptop"})
    _switch_table("us-east-1", {})
    with context() as (ctx, _):
        status = gather(ctx, FakeHttp(set()))
    east, west = status.regions
    assert east.switch is not None and west.switch is not None
    assert east.switch.seen_by == {"us-east-1": False, "us-west-2": True}
    assert east.switch.forced_out and east.switch.disagreeing == ["us-east-1"]
    assert east.switch.entry == {"at": "2026-12-07T00:00:00Z", "by": "ops@laptop"}
    assert east.force_fail and "forced out by the switch" in east.problems
    assert not west.switch.forced_out and west.switch.disagreeing == [] and west.healthy
    # The readers and calculated checks this half-built stack lacks are named, not hidden.
    assert east.switch.readers == {"us-west-2": "missing"} and east.switch.calculated == "missing"
    region_json = status.to_json()["regions"][0]
    assert region_json["force_fail"] is True
    assert region_json["switch"]["seen_by"] == {"us-east-1": False, "us-west-2": True}
    assert region_json["switch"]["disagreeing"] == ["us-east-1"]


def test_a_region_whose_replica_has_no_switch_is_not_forced_out(
    aws: None, inputs: DesiredInputs
) -> None:
    _build(inputs)  # no table at all: nothing to read the switch from
    with context() as (ctx, _):
        status = gather(ctx, FakeHttp(set()))
    for region in status.regions:
        assert region.switch is not None and region.switch.forced_out is None
        assert not any("switch" in p for p in region.problems)


def test_throttled_check_reads_are_retried_then_said_unknown_not_failed(
    aws: None, inputs: DesiredInputs
) -> None:
    # Route 53's GetHealthCheckStatus quota is the account's: a command run just before
    # (`up`) may have spent it. botocore's own attempts are not the end of it ...
    _build(inputs)
    brief = FaultInjector([Rule(Fault.THROTTLE, operations=("GetHealthCheckStatus",), limit=8)])
    with context(clock=Clock()) as (ctx, _):
        brief.attach(ctx.clients)
        status = gather(ctx, FakeHttp(set()), timeout=30)
    assert brief.injected[(Fault.THROTTLE, "route53:GetHealthCheckStatus")] == 8
    assert [r.health_check.status for r in status.regions] == ["healthy", "healthy"]
    assert status.healthy and all(r.reachable for r in status.regions)

    # ... and a quota that stays spent past the deadline is said, not a failure. The
    # deadline must leave the other reads (the checks' lookup first) time to answer on a
    # starved machine: at 15 s, beside a CPU-bound process, the lookup itself missed it
    # once and the region was said unreachable. Only the throttled reads wait it out.
    endless = FaultInjector([Rule(Fault.THROTTLE, operations=("GetHealthCheckStatus",))])
    with context(clock=Clock()) as (ctx, _):
        endless.attach(ctx.clients)
        status = gather(ctx, FakeHttp(set()), timeout=30)
    for region in status.regions:
        check = region.health_check
        assert check is not None and check.id and region.reachable
        assert (check.status, check.note) == ("unknown", "throttled")
    assert status.healthy and status.exit_code == 0
