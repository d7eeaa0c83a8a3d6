"""The deadline of one AWS call: an endpoint that never answers is given up on within its
budget, while quick failures (throttling) still get every attempt botocore allows.

The hanging endpoint is a loopback socket that accepts and never answers, which is
what a regional control-plane outage looks like from outside.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from failover_cli.aws.clients import ClientFactory
from failover_cli.aws.deadlines import MUTATING, READ_ONLY, Deadline, read_only
from failover_cli.aws.outage import Unreachable, answer_within, outage_region
from tests.faults import Fault, FaultInjector, Rule, shorten_botocore_backoff

QUICK = Deadline("test", connect_timeout=0.5, read_timeout=0.3, max_attempts=10, call_budget=0.8)


class Silent:
    """A TCP server on 127.0.0.1 that accepts connections and never writes a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Silent]:
    server = Silent()
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    yield server
    server.close()


def test_a_hanging_endpoint_is_given_up_on_after_the_budget_not_after_every_attempt(
    silent: Silent,
) -> None:
    lam = ClientFactory(deadline=QUICK).client("lambda", "us-west-2")
    with pytest.raises(ReadTimeoutError) as caught:
        lam.get_function_configuration(FunctionName="f")
    # 10 attempts were allowed; the budget (0.8 s of 0.3 s time-outs) stopped it after a few.
    assert 1 <= len(silent.accepted) <= 4
    assert outage_region(caught.value) == "us-west-2"  # blamed on the region it went to


def test_answer_within_turns_a_hang_into_unreachable_naming_the_region(silent: Silent) -> None:
    lam = ClientFactory(deadline=MUTATING).client("lambda", "us-west-2")  # a 15 s time-out
    started = time.monotonic()
    with pytest.raises(Unreachable) as caught:
        answer_within(
            lambda: lam.get_function_configuration(FunctionName="f"),
            0.5,
            region="us-west-2",
            what="Lambda",
        )
    assert time.monotonic() - started < 5  # the wall deadline, not botocore's time-out
    assert caught.value.unreachable_region == "us-west-2"
    assert "us-west-2 is unreachable: Lambda gave no answer within 0.5s" in str(caught.value)


def test_throttling_still_gets_every_attempt(
    silent: Silent, monkeypatch: pytest.MonkeyPatch
) -> None:
    shorten_botocore_backoff(monkeypatch)
    factory = ClientFactory(deadline=READ_ONLY)
    injector = FaultInjector([Rule(Fault.THROTTLE)])
    injector.attach(factory)
    with pytest.raises(ClientError) as caught:
        factory.client("lambda", "us-east-1").get_function_configuration(FunctionName="f")
    assert injector.total(Fault.THROTTLE) == READ_ONLY.max_attempts
    assert outage_region(caught.value) is None  # throttling is an answer, not an outage


def test_a_5xx_answer_is_an_outage_of_the_region_it_came_from(
    silent: Silent, monkeypatch: pytest.MonkeyPatch
) -> None:
    shorten_botocore_backoff(monkeypatch)
    factory = ClientFactory(deadline=READ_ONLY)
    FaultInjector([Rule(Fault.SERVER_ERROR)]).attach(factory)
    with pytest.raises(ClientError) as caught:
        factory.client("route53", "us-east-1").list_health_checks()
    assert outage_region(caught.value) == "us-east-1"


def test_status_timeout_scales_the_read_only_deadline() -> None:
    longer = read_only(30)
    assert longer.call_budget > READ_ONLY.call_budget and longer.read_timeout == 30
    assert read_only(2).read_timeout == 2  # each attempt waits as long as the region does
    assert MUTATING.call_budget > READ_ONLY.call_budget


def test_an_error_answered_after_the_budget_keeps_its_modeled_exception_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A call answered after its budget is spent (a loaded machine, throttling retried for a
    # minute) is ended by the budget check. Its answer must still raise the class botocore
    # would: `read_topic` catches sns.exceptions.NotFoundException to learn that a topic is
    # missing, and a bare ClientError made a fresh `up` fail with "NotFound".
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    spent = Deadline("spent", connect_timeout=5, read_timeout=5, max_attempts=3, call_budget=0)
    with mock_aws():
        sns = ClientFactory(deadline=spent).client("sns", "us-east-1")
        with pytest.raises(sns.exceptions.NotFoundException):
            sns.get_topic_attributes(TopicArn="arn:aws:sns:us-east-1:123456789012:missing")
