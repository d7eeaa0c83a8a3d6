"""The sandbox's layer, request parsing and scheduler, in-process with a fake backend.

No moto here: these run in pytest's process, where moto state must not be
touched by a sandbox (see the sandbox fixtures in conftest.py).
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from failover_cli.sandbox.layer import Forward, Interceptor, Layer, OperationInterceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_error
from failover_cli.sandbox.scheduler import Scheduler

SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/{region}/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc"
)


def environ(
    body: bytes = b"",
    *,
    method: str = "POST",
    path: str = "/",
    query: str = "",
    host: str = "127.0.0.1:4566",
    headers: dict[str, str] | None = None,
    content_type: str = "application/x-amz-json-1.0",
) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_HOST": host,
    }
    for name, value in (headers or {}).items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def dynamodb_call(operation: str, payload: dict[str, Any], region: str = "us-west-2") -> Any:
    return environ(
        json.dumps(payload).encode(),
        headers={
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            "Authorization": SIGV4.format(region=region, service="dynamodb"),
        },
    )


class EchoBackend:
    """Stands in for moto: answers with what it received."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, env: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.calls += 1
        body = env["wsgi.input"].read(int(env.get("CONTENT_LENGTH") or 0))
        answer = json.dumps({"echo": body.decode(), "path": env["PATH_INFO"]}).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))]
        )
        return [answer]


def call(app: Layer, env: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(headers)

    body = b"".join(app(env, start_response))
    return captured["status"], captured["headers"], body


# -- request parsing -----------------------------------------------------------


def test_request_facts_come_from_sigv4_scope_and_target() -> None:
    request = AwsRequest.from_environ(dynamodb_call("UpdateTable", {"TableName": "t"}))
    assert (request.service, request.region, request.operation) == (
        "dynamodb",
        "us-west-2",
        "UpdateTable",
    )
    assert request.json() == {"TableName": "t"}


def test_query_protocol_operation_comes_from_the_form_body() -> None:
    env = environ(
        b"Action=ListRoles&Version=2010-05-08",
        content_type="application/x-www-form-urlencoded; charset=utf-8",
        headers={"Authorization": SIGV4.format(region="us-east-1", service="iam")},
    )
    request = AwsRequest.from_environ(env)
    assert (request.service, request.operation) == ("iam", "ListRoles")


def test_unsigned_request_takes_service_and_region_from_the_host() -> None:
    env = environ(
        method="GET", path="/prod/hello", host="abc123.execute-api.eu-west-1.localhost:4566"
    )
    request = AwsRequest.from_environ(env)
    assert (request.hostname, request.service, request.region, request.operation) == (
        "abc123.execute-api.eu-west-1.localhost",
        "execute-api",
        "eu-west-1",
        None,
    )


def test_unknown_region_defaults_to_us_east_1() -> None:
    assert AwsRequest.from_environ(environ(method="GET")).region == "us-east-1"


def test_body_is_replayed_for_whoever_reads_it_next() -> None:
    env = dynamodb_call("PutItem", {"TableName": "t"})
    request = AwsRequest.from_environ(env)
    assert env["wsgi.input"].read() == request.body
    assert request.to_environ()["wsgi.input"].read() == request.body


# -- the layer -------------------------------------------------------------------


class DescribeMarker(OperationInterceptor):
    """Lets the backend answer, then adds a field (the post-process pattern)."""

    service = "dynamodb"
    operations = frozenset({"DescribeTable"})

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        response = forward(request)
        return response.with_json({**response.json(), "marked": True})


class Refuser(OperationInterceptor):
    """Answers by itself (the check-first / handle-fully pattern)."""

    service = "dynamodb"
    operations = frozenset({"UpdateTable"})

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        return json_error(
            "ResourceInUseException", "busy", prefix="com.amazonaws.dynamodb.v20120810#"
        )


def test_requests_nobody_wants_go_straight_to_the_backend() -> None:
    backend = EchoBackend()
    layer = Layer(backend)
    layer.add(DescribeMarker())
    status, _, body = call(layer, dynamodb_call("PutItem", {"TableName": "t"}))
    assert status == 200 and json.loads(body)["echo"] == '{"TableName": "t"}'
    assert backend.calls == 1


def test_interceptor_post_processes_and_fixes_content_length() -> None:
    layer = Layer(EchoBackend())
    layer.add(DescribeMarker())
    status, headers, body = call(layer, dynamodb_call("DescribeTable", {"TableName": "t"}))
    assert status == 200
    assert json.loads(body)["marked"] is True
    assert headers["Content-Length"] == str(len(body))


def test_interceptor_can_answer_without_the_backend() -> None:
    backend = EchoBackend()
    layer = Layer(backend)
    layer.add(Refuser())
    status, headers, body = call(layer, dynamodb_call("UpdateTable", {"TableName": "t"}))
    assert status == 400 and backend.calls == 0
    assert json.loads(body)["__type"].endswith("#ResourceInUseException")
    assert headers["x-amz-crc32"]


def test_interceptors_chain_in_registration_order() -> None:
    seen: list[str] = []

    class Tagger(Interceptor):
        def __init__(self, name: str) -> None:
            self.name = name

        def wants(self, request: AwsRequest) -> bool:
            return True

        def handle(self, request: AwsRequest, forward: Forward) -> Response:
            seen.append(f"{self.name} in")
            response = forward(request)
            seen.append(f"{self.name} out")
            return response

    layer = Layer(EchoBackend())
    layer.add(Tagger("first"))
    layer.add(Tagger("second"))
    call(layer, dynamodb_call("DescribeTable", {}))
    assert seen == ["first in", "second in", "second out", "first out"]


def test_a_failing_interceptor_answers_500_and_the_server_lives_on() -> None:
    class Broken(Interceptor):
        def wants(self, request: AwsRequest) -> bool:
            return True

        def handle(self, request: AwsRequest, forward: Forward) -> Response:
            raise KeyError("bug")

    layer = Layer(EchoBackend())
    layer.add(Broken())
    status, _, body = call(layer, dynamodb_call("DescribeTable", {}))
    assert status == 500 and b"InternalFailure" in body


# -- the scheduler ---------------------------------------------------------------


@pytest.fixture
def scheduler() -> Any:
    # 1000x: an emulated second is a real millisecond.
    running = Scheduler(time_scale=1000)
    running.start()
    yield running
    running.stop()


def test_jobs_run_in_due_order_and_cancelled_ones_never(scheduler: Scheduler) -> None:
    ran: list[str] = []
    done = threading.Event()

    def late() -> None:
        ran.append("late")
        done.set()

    scheduler.call_later(20, late)
    scheduler.call_later(10, lambda: ran.append("early"))
    scheduler.call_later(5, lambda: ran.append("cancelled")).cancel()
    assert done.wait(timeout=10)
    assert ran == ["early", "late"]


def test_repeating_job_repeats_until_cancelled(scheduler: Scheduler) -> None:
    beats: list[int] = []
    three = threading.Event()

    def beat() -> None:
        beats.append(1)
        if len(beats) >= 3:
            three.set()

    job = scheduler.call_every(5, beat)
    assert three.wait(timeout=10)
    job.cancel()
    # A job queued after the cancel runs after any beat already due: then none follow.
    settled = threading.Event()
    scheduler.call_later(10, settled.set)
    assert settled.wait(timeout=10)
    count = len(beats)
    again = threading.Event()
    scheduler.call_later(30, again.set)
    assert again.wait(timeout=10)
    assert len(beats) == count


def test_a_failing_job_does_not_stop_the_others(scheduler: Scheduler) -> None:
    done = threading.Event()

    def broken() -> None:
        raise RuntimeError("a bug in a background job")

    scheduler.call_later(1, broken)
    scheduler.call_later(2, done.set)
    assert done.wait(timeout=10)


def test_stop_ends_the_thread() -> None:
    scheduler = Scheduler(time_scale=1)
    scheduler.start()
    scheduler.call_later(3600, lambda: None)
    scheduler.stop()
    assert not any(t.name == "sandbox-scheduler" for t in threading.enumerate())


def test_emulated_seconds_are_divided_by_the_time_scale() -> None:
    assert Scheduler(time_scale=10).real_seconds(30) == 3
    with pytest.raises(ValueError):
        Scheduler(time_scale=0)
