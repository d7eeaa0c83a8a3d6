"""Route 53 health checkers as logic, in-process and without moto.

The status rules (threshold, 18%, Inverted, Disabled), Route 53's verdict on
an HTTP answer, which targets the sandbox serves, the GetHealthCheckStatus
document, and the checkers' scheduling driven by fake checks and probes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import botocore.session
import pytest
from botocore.parsers import create_parser

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.health_state import CheckRules, HealthState, Observation
from failover_cli.sandbox.layer import Layer
from failover_cli.sandbox.outage_regions import Mode, Unanswered
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response
from failover_cli.sandbox.route53.checkers import CheckConfig, HealthCheckers, is_sandbox_host
from failover_cli.sandbox.route53.probe import (
    RESPONSE_TIMED_OUT,
    UNREACHABLE,
    ProbeResult,
    Target,
    judge,
    probe,
    served_by_sandbox,
)
from failover_cli.sandbox.route53.status import status_xml
from failover_cli.sandbox.scheduler import Scheduler

THREE = ("us-east-1", "us-west-2", "eu-west-1")
WHEN = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def seen(region: str, success: bool) -> Observation:
    status = "Success: HTTP Status Code 200, OK." if success else "Failure: HTTP Status Code 503"
    return Observation(region, "192.0.2.1", status, WHEN, success)


def tracked(rules: CheckRules, check_id: str = "hc") -> HealthState:
    state = HealthState()
    state.track(check_id, rules)
    return state


# -- the status rules -----------------------------------------------------------


def test_a_new_check_is_healthy_and_an_unknown_one_too() -> None:
    state = tracked(CheckRules(THREE))
    assert state.is_healthy("hc")
    assert state.observations("hc") == []
    assert state.is_healthy("never-heard-of")


def test_a_checker_flips_only_after_threshold_results_in_a_row() -> None:
    state = tracked(CheckRules(("us-east-1",), failure_threshold=3))
    for success in (False, False, True, False, False):  # the success resets the streak
        state.record("hc", seen("us-east-1", success))
    assert state.checker_status("hc") == {"us-east-1": True}
    state.record("hc", seen("us-east-1", False))
    assert state.checker_status("hc") == {"us-east-1": False}
    assert not state.is_healthy("hc")
    state.record("hc", seen("us-east-1", True))
    state.record("hc", seen("us-east-1", True))
    assert not state.is_healthy("hc")
    state.record("hc", seen("us-east-1", True))
    assert state.is_healthy("hc")


def test_observations_are_each_checkers_last_report_even_before_it_flips() -> None:
    state = tracked(CheckRules(THREE, failure_threshold=3))
    state.record("hc", seen("us-east-1", True))
    state.record("hc", seen("us-east-1", False))
    state.record("hc", seen("eu-west-1", True))
    assert {(o.region, o.success) for o in state.observations("hc")} == {
        ("us-east-1", False),
        ("eu-west-1", True),
    }
    assert state.is_healthy("hc")


@pytest.mark.parametrize(
    ("healthy_checkers", "total", "healthy"),
    [(1, 3, True), (0, 3, False), (1, 5, True), (1, 6, False), (2, 8, True), (1, 8, False)],
)
def test_healthy_while_more_than_18_percent_of_checkers_say_so(
    healthy_checkers: int, total: int, healthy: bool
) -> None:
    regions = tuple(f"r-{i}" for i in range(total))
    state = tracked(CheckRules(regions, failure_threshold=1))
    for region in regions[healthy_checkers:]:
        state.record("hc", seen(region, False))
    assert state.is_healthy("hc") is healthy


@pytest.mark.parametrize(
    ("inverted", "disabled", "checkers_healthy", "healthy"),
    [
        (True, False, True, False),
        (True, False, False, True),
        (False, True, False, True),  # disabled counts as healthy
        (True, True, True, False),  # disabled and inverted: the way to force unhealthy
    ],
)
def test_inverted_and_disabled(
    inverted: bool, disabled: bool, checkers_healthy: bool, healthy: bool
) -> None:
    state = tracked(CheckRules(THREE, 1, inverted=inverted, disabled=disabled))
    if not checkers_healthy:
        for region in THREE:
            state.record("hc", seen(region, False))
    assert state.is_healthy("hc") is healthy


def test_changed_regions_drop_old_checkers_and_late_reports() -> None:
    state = tracked(CheckRules(THREE, failure_threshold=1))
    state.record("hc", seen("us-east-1", False))
    state.track("hc", CheckRules(("us-west-2", "ap-southeast-1"), failure_threshold=1))
    assert set(state.checker_status("hc")) == {"us-west-2", "ap-southeast-1"}
    state.record("hc", seen("us-east-1", False))  # a probe that was still running
    assert [o.region for o in state.observations("hc")] == []
    state.forget("hc")
    state.record("hc", seen("us-west-2", False))
    assert state.is_healthy("hc") and state.check_ids() == []


# -- Route 53's verdict and wording ------------------------------------------------

STR_MATCH = Target("HTTPS_STR_MATCH", "x.example", None, 443, "/p", "hello from")


def test_a_2xx_or_3xx_with_the_string_succeeds() -> None:
    result = judge(STR_MATCH, 200, "OK", b'{"message": "Shallow hello from eu-west-1"}')
    assert result == ProbeResult(True, "Success: HTTP Status Code 200, OK.")
    plain = Target("HTTP", "x.example", None, 80, "/")
    assert judge(plain, 302, "Found", b"").success


def test_other_statuses_fail_with_their_code() -> None:
    result = judge(STR_MATCH, 503, "Service Unavailable", b"hello from the error page")
    assert result == ProbeResult(False, "Failure: HTTP Status Code 503, Service Unavailable.")


def test_the_string_must_be_in_the_first_5120_bytes() -> None:
    late = b"x" * 5120 + b"hello from"
    result = judge(STR_MATCH, 200, "OK", late)
    assert not result.success
    assert result.status.startswith("Failure: Search string not found")
    assert judge(STR_MATCH, 200, "OK", late[10:]).success


def test_host_header_as_route53_builds_it() -> None:
    assert STR_MATCH.host_header == "x.example"
    assert Target("HTTP", "x.example", None, 8080, "/").host_header == "x.example:8080"
    assert Target("HTTP", None, "192.0.2.1", 80, None).host_header == "192.0.2.1"
    assert Target("HTTP", None, "192.0.2.1", 80, None).path == "/"


@pytest.mark.parametrize(
    ("host", "served"),
    [
        ("a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", True),
        ("d-abc123.execute-api.eu-west-1.amazonaws.com", True),
        ("a1b2c3d4e5.execute-api.us-east-1.localhost", True),
        ("hello.localhost", True),
        ("localhost", True),
        ("example.com", False),
        ("execute-api.us-east-1.amazonaws.com.evil.com", False),
        ("notlocalhost", False),
    ],
)
def test_which_hosts_the_sandbox_serves(host: str, served: bool) -> None:
    # (serves_host also looks up custom domains in moto: not in this process.)
    target = Target("HTTP", host, None, 80, "/")
    assert served_by_sandbox(target, 4566, is_sandbox_host) is served


def test_ip_targets_are_served_only_on_the_sandbox_port_of_loopback() -> None:
    def target(ip: str, port: int) -> Target:
        return Target("HTTP", "a.execute-api.us-east-1.amazonaws.com", ip, port, "/")

    assert served_by_sandbox(target("127.0.0.1", 4566), 4566, is_sandbox_host)
    assert not served_by_sandbox(target("127.0.0.1", 443), 4566, is_sandbox_host)
    assert not served_by_sandbox(target("192.0.2.10", 4566), 4566, is_sandbox_host)


def test_an_outside_target_fails_without_any_connection() -> None:
    def never(host: str) -> bool:
        return False

    def nothing_may_be_sent(request: object) -> Response:
        raise AssertionError("sent")

    outside = Target("HTTPS", "example.com", None, 443, "/")
    result = probe(outside, ("127.0.0.1", 9), never, nothing_may_be_sent)
    assert result == ProbeResult(False, UNREACHABLE)


SANDBOX = ("127.0.0.1", 4566)
API = Target(
    "HTTPS_STR_MATCH",
    "abc.execute-api.us-west-2.amazonaws.com",
    None,
    443,
    "/prod/health?healthCheckerId=x",
    "hello from",
)


def test_a_probe_sends_route_53s_get_through_the_layer_and_judges_the_answer() -> None:
    sent: list[AwsRequest] = []

    def layer(request: AwsRequest) -> Response:
        sent.append(request)
        return Response(200, (), b'{"message": "Shallow hello from us-west-2"}')

    result = probe(API, SANDBOX, is_sandbox_host, layer, source_ip="15.177.2.3")
    assert result == ProbeResult(True, "Success: HTTP Status Code 200, OK. Resolved IP: 127.0.0.1.")
    (request,) = sent
    assert (request.method, request.host, request.path) == (
        "GET",
        "abc.execute-api.us-west-2.amazonaws.com",  # no :443, as Route 53 sends it
        "/prod/health",
    )
    assert request.query == "healthCheckerId=x"
    assert request.headers["user-agent"].startswith("Amazon-Route53-Health-Check-Service")
    assert request.headers["x-forwarded-for"] == "15.177.2.3"  # the checker's address
    assert "authorization" not in request.headers


@pytest.mark.parametrize(
    ("mode", "status"), [(Mode.HANG, RESPONSE_TIMED_OUT), (Mode.REFUSE, UNREACHABLE)]
)
def test_an_outage_that_gives_no_answer_fails_the_probe(mode: Mode, status: str) -> None:
    def outage(request: AwsRequest) -> Response:
        raise Unanswered(mode, "us-west-2")

    result = probe(API, SANDBOX, is_sandbox_host, outage, response_timeout=0.05)
    assert result == ProbeResult(False, status)


def test_an_answer_later_than_route_53_waits_is_a_timeout() -> None:
    release = threading.Event()

    def slow(request: AwsRequest) -> Response:
        release.wait(10)
        return Response(200, (), b"hello from")

    try:
        result = probe(API, SANDBOX, is_sandbox_host, slow, response_timeout=0.05)
    finally:
        release.set()
    assert result == ProbeResult(False, RESPONSE_TIMED_OUT)


def test_a_bug_in_the_layer_is_the_500_the_server_would_answer() -> None:
    def broken(request: AwsRequest) -> Response:
        raise KeyError("bug")

    result = probe(API, SANDBOX, is_sandbox_host, broken)
    assert result == ProbeResult(
        False, "Failure: HTTP Status Code 500, Internal Server Error. Resolved IP: 127.0.0.1."
    )


# -- GetHealthCheckStatus -------------------------------------------------------------


def test_the_status_document_parses_with_botocore() -> None:
    model = botocore.session.get_session().get_service_model("route53")
    shape = model.operation_model("GetHealthCheckStatus").output_shape
    assert shape is not None
    failure, success = "Failure: HTTP Status Code 503 <&>", "Success: HTTP Status Code 200, OK."
    body = status_xml(
        [
            Observation("us-west-2", "54.244.52.200", failure, WHEN, False),
            Observation("us-east-1", "107.23.255.10", success, WHEN, True),
        ]
    )
    parsed = create_parser("rest-xml").parse(
        {"body": body, "headers": {}, "status_code": 200}, shape
    )
    assert parsed["HealthCheckObservations"] == [
        {
            "Region": "us-east-1",
            "IPAddress": "107.23.255.10",
            "StatusReport": {"Status": success, "CheckedTime": WHEN},
        },
        {
            "Region": "us-west-2",
            "IPAddress": "54.244.52.200",
            "StatusReport": {"Status": failure, "CheckedTime": WHEN},
        },
    ]
    empty = create_parser("rest-xml").parse(
        {"body": status_xml([]), "headers": {}, "status_code": 200}, shape
    )
    assert empty.get("HealthCheckObservations", []) == []


# -- the checkers, with fake checks and probes ---------------------------------------


class FakeRoute53:
    """Checks to hand to the checkers, and a probe whose answer the test sets."""

    def __init__(self) -> None:
        self.checks: dict[str, CheckConfig] = {}
        self.success = True
        self.probes: list[Target] = []
        self.lock = threading.Lock()

    def read(self) -> list[CheckConfig]:
        return list(self.checks.values())

    def probe(self, target: Target, source_ip: str) -> ProbeResult:
        with self.lock:
            self.probes.append(target)
        return ProbeResult(self.success, "Success: fake" if self.success else "Failure: fake")


@pytest.fixture
def checkers() -> Iterator[tuple[HealthCheckers, FakeRoute53]]:
    # 1000x: a 10-second interval is 10 ms.
    scheduler = Scheduler(time_scale=1000)
    context = SandboxContext(Layer(lambda e, s: []), scheduler, "http://127.0.0.1:9", 1000)
    fake = FakeRoute53()
    checkers = HealthCheckers(context, read_checks=fake.read, run_probe=fake.probe)
    scheduler.start()
    yield checkers, fake
    checkers.close()
    scheduler.stop()


def config(check_id: str = "hc", *, disabled: bool = False, kind: str = "HTTPS") -> CheckConfig:
    target = Target(kind, "a.execute-api.us-east-1.amazonaws.com", None, 443, "/prod/health")
    return CheckConfig(check_id, target, 10, CheckRules(THREE, 2, disabled=disabled))


def eventually(condition: Callable[[], bool], what: str, deadline_s: float = 20) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def test_checkers_probe_flip_and_recover(checkers: tuple[HealthCheckers, FakeRoute53]) -> None:
    health, fake = checkers
    fake.checks["hc"] = config()
    health.sync()
    eventually(lambda: len(health.state.observations("hc")) == 3, "every checker reported")
    assert health.state.is_healthy("hc")
    fake.success = False
    eventually(lambda: not health.state.is_healthy("hc"), "unhealthy")
    assert {o.status for o in health.state.observations("hc")} == {"Failure: fake"}
    fake.success = True
    eventually(lambda: health.state.is_healthy("hc"), "healthy again")


def test_deleted_and_disabled_checks_stop_being_probed(
    checkers: tuple[HealthCheckers, FakeRoute53],
) -> None:
    health, fake = checkers
    fake.checks["hc"] = config()
    fake.checks["calc"] = config("calc", kind="CALCULATED")
    health.sync()
    eventually(lambda: len(fake.probes) > 6, "some probes")
    assert all(t.type == "HTTPS" for t in fake.probes)  # no endpoint, no probe
    fake.success = False
    fake.checks["hc"] = config(disabled=True)
    health.sync()
    time.sleep(0.05)  # a probe handed to the pool before the update may still land
    count = len(fake.probes)
    time.sleep(0.2)  # 20 intervals at this scale
    assert len(fake.probes) == count
    assert health.state.is_healthy("hc")
    del fake.checks["hc"]
    health.sync()
    assert "hc" not in health.state.check_ids()
