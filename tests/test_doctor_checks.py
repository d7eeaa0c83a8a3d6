"""doctor's checks that the sandbox cannot show: public DNS delegation, and whose policy
is simulated. moto holds the zone; the public NS answer comes from an injected resolver
(tests never ask real DNS)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from moto import mock_aws

from failover_cli.aws.deadlines import Deadline
from failover_cli.config.schema import DomainConfig
from failover_cli.ops.doctor import Doctor, Verdict
from failover_cli.ops.doctor_iam import principal_of
from tests.engine_helpers import context, make_config

ZONE = "example.org"


@pytest.fixture
def servers() -> Iterator[list[str]]:
    with mock_aws():
        zone = boto3.client("route53", "us-east-1").create_hosted_zone(
            Name=ZONE, CallerReference="doctor"
        )
        yield zone["DelegationSet"]["NameServers"]


def zone_check(answer: object) -> tuple[Verdict, str, str]:
    def resolve(zone: str, timeout: float) -> list[str]:
        assert zone == ZONE and timeout == 5.0
        if isinstance(answer, Exception):
            raise answer
        return list(answer)  # type: ignore[call-overload]

    config = make_config(domain=DomainConfig(f"app.{ZONE}", ZONE))
    with context(config) as (ctx, _):
        check = Doctor(ctx, resolve).hosted_zone(in_sandbox=False)
    return check.verdict, check.detail, check.fix


def test_a_delegated_zone_passes(servers: list[str]) -> None:
    verdict, detail, _ = zone_check([f"{s.upper()}." for s in servers])  # DNS spelling
    assert verdict is Verdict.OK and "is delegated" in detail


def test_a_zone_the_registrar_does_not_point_to_fails_with_both_sets(servers: list[str]) -> None:
    verdict, detail, fix = zone_check(["ns1.registrar-parking.example."])
    assert verdict is Verdict.FAIL
    assert "ns1.registrar-parking.example" in detail and servers[0].rstrip(".") in detail
    assert "registrar" in fix


def test_no_dns_answer_in_time_is_could_not_check(servers: list[str]) -> None:
    verdict, detail, _ = zone_check(TimeoutError("no answer in 5s"))
    assert verdict is Verdict.UNKNOWN and "no answer in 5s" in detail


def test_the_simulated_principal_of_each_kind_of_caller() -> None:
    user = "arn:aws:iam::111122223333:user/ops"
    assert principal_of(user) == user
    session = "arn:aws:sts::111122223333:assumed-role/Deployer/ci-1234"
    assert principal_of(session) == "arn:aws:iam::111122223333:role/Deployer"
    assert principal_of("arn:aws:iam::111122223333:root") is None


def test_a_role_session_is_simulated_as_its_role_with_its_path() -> None:
    """An SSO session's ARN leaves out the role's path; GetRole puts it back."""
    with mock_aws():
        iam = boto3.client("iam", "us-east-1")
        arn = iam.create_role(
            RoleName="AWSReservedSSO_Admin_1234",
            Path="/aws-reserved/sso.amazonaws.com/",
            AssumeRolePolicyDocument="{}",
        )["Role"]["Arn"]
        with context(make_config()) as (ctx, _):
            session = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_1234/me"
            principal = principal_of(session)
            assert principal is not None
            assert Doctor(ctx, lambda *_: [])._with_path(principal) == arn


class _SlowRoute53(BaseHTTPRequestHandler):
    """Answers GetAccountLimit (1 health check allowed, none used), after a pause longer
    than the quick read time-out below: a slow but answering endpoint."""

    def do_GET(self) -> None:
        time.sleep(1.0)
        body = (
            b'<GetAccountLimitResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
            b"<Limit><Type>MAX_HEALTH_CHECKS_BY_OWNER</Type><Value>1</Value></Limit>"
            b"<Count>0</Count></GetAccountLimitResponse>"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def test_a_slow_quota_answer_is_waited_for_and_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The command's own deadline gives up after 0.3 s; doctor must read as patiently as
    # `up` does, or a limit the stack would exceed reads as "could not check" (exit 0).
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowRoute53)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    quick = Deadline("quick", connect_timeout=1, read_timeout=0.3, max_attempts=2, call_budget=0.5)
    config = make_config()
    try:
        with context(config) as (ctx, _):
            ctx = replace(ctx, deadline=quick)
            check = Doctor(ctx, lambda zone, timeout: []).health_check_quota()
    finally:
        server.shutdown()
        server.server_close()
    assert check.verdict is Verdict.FAIL
    assert f"0 of 1 used; the stack needs {len(config.regions)}" in check.detail
