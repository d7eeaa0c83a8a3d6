"""Route 53's GetHealthCheckStatus limit (a burst of 4, then 1 per second) is respected
by the tool itself, so drills and rotations read slower but are never throttled."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from failover_cli.aws.clients import ClientFactory
from failover_cli.aws.pacing import TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _bucket(fake: FakeTime) -> TokenBucket:
    return TokenBucket(burst=4, rate=1.0, now=lambda: fake.now, sleep=fake.sleep)


def test_a_burst_of_four_then_one_per_second() -> None:
    fake = FakeTime()
    bucket = _bucket(fake)
    waits = [bucket.take() for _ in range(6)]
    assert waits[:4] == [0.0, 0.0, 0.0, 0.0]
    assert waits[4] == pytest.approx(1.0) and waits[5] == pytest.approx(1.0)
    assert fake.now == pytest.approx(2.0)


def test_idle_time_refills_the_burst_but_never_beyond_it() -> None:
    fake = FakeTime()
    bucket = _bucket(fake)
    for _ in range(4):
        bucket.take()
    fake.now += 60.0  # a minute without calls
    assert [bucket.take() for _ in range(4)] == [0.0] * 4
    assert bucket.take() == pytest.approx(1.0)


def test_every_client_of_a_command_shares_the_health_check_status_pace() -> None:
    fake = FakeTime()
    factory = ClientFactory()
    factory.pace_with(lambda: fake.now, fake.sleep)  # as Context does with its clock
    with mock_aws():
        check = boto3.client("route53", "us-east-1").create_health_check(
            CallerReference="pace",
            HealthCheckConfig={
                "Type": "HTTPS",
                "FullyQualifiedDomainName": "example.com",
                "RequestInterval": 30,
                "FailureThreshold": 3,
            },
        )["HealthCheck"]["Id"]
        # Two clients (two regions' threads of one drill, say) share one pace.
        for region in ("us-east-1", "us-west-2"):
            r53 = factory.client("route53", region)
            for _ in range(3):
                r53.get_health_check_status(HealthCheckId=check)
            r53.list_health_checks()  # other calls are not paced
    # 6 reads: 3 at once, then one every 1/0.9 s (just inside AWS's 4, then 1 a second).
    assert fake.now == pytest.approx(3 / 0.9)


def test_a_command_clock_paces_without_sleeping_for_real() -> None:
    """A Context hands its clock to the factory: fake clocks in tests, Ctrl-C in real runs."""
    from failover_cli.aws.retry import Clock
    from failover_cli.engine.context import Context
    from tests.engine_helpers import make_config

    fake = FakeTime()
    factory = ClientFactory()
    Context(config=make_config(), clients=factory, clock=Clock(lambda: fake.now, fake.sleep))
    for _ in range(4):
        factory._pacer("route53", "us-east-1", "GetHealthCheckStatus", {})
    assert fake.slept == [pytest.approx(1 / 0.9)]


def test_a_clock_far_from_zero_never_makes_the_wait_spin() -> None:
    """Refilled in float steps, a bucket could stay a hair under one token while the
    clock (at 1e9 seconds) cannot move by a hair: the wait must still end."""
    import threading

    fake = FakeTime()
    fake.now = 1e9
    bucket = _bucket(fake)
    waits: list[float] = []

    def drain() -> None:
        waits.extend(bucket.take() for _ in range(12))

    worker = threading.Thread(target=drain, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "take() kept waiting on a clock that advanced enough"
    assert waits[:4] == [0.0] * 4
    assert all(w == pytest.approx(1.0) for w in waits[4:])


def test_a_factory_client_comes_with_its_error_classes_built() -> None:
    """botocore builds them on first use without a lock; two threads at it at once could
    raise one class and catch another (`up` failed once: 'GetTopicAttributes failed:
    NotFound' past `except sns.exceptions.NotFoundException`). The factory builds them while
    it makes the client, under its lock."""
    from failover_cli.aws.clients import ClientFactory

    made = ClientFactory().client("sns", "us-east-1")
    assert made._exceptions is not None
    assert made.exceptions.from_code("NotFound") is made.exceptions.NotFoundException
