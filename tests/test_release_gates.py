"""How a region's gates judge the answers of a new release (pure: the requests are faked).

What a user relies on: a release that cannot start is rolled back on its first 5xx, and
a deep ping is judged as the region's Route 53 health check judges it, so one slow
table read does not roll back a good release.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from failover_cli.aws.retry import Clock
from failover_cli.config.schema import HealthCheckConfig
from failover_cli.ops import invoke as invoke_module
from failover_cli.ops.failover_observer import HealthReading
from failover_cli.ops.invoke import InvokeAnswer
from failover_cli.ops.release_gates import DEEP_MAX_TRIES, GateFailure, bake, check_region
from tests.engine_helpers import context, make_config

REGION = "us-west-2"


class FakeApi:
    """Answers each path with the next status of its script (then the last one again)."""

    def __init__(self, **scripts: list[int]):
        self.scripts = scripts
        self.asked: list[str] = []

    def __call__(self, _ctx: object, region: str, path: str) -> InvokeAnswer:
        self.asked.append(path)
        key = "deep" if "deep=true" in path else path.split("?")[0].strip("/")
        script = self.scripts.get(key) or [200]
        status = script.pop(0) if len(script) > 1 else script[0]
        url = f"https://api.execute-api.{region}.amazonaws.com/prod{path}"
        return InvokeAnswer(region, "GET", url, status, body='{"message": "x"}')

    def count(self, path: str) -> int:
        return sum(1 for asked in self.asked if asked == path)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    fake = FakeApi()
    monkeypatch.setattr(invoke_module, "invoke", fake)
    yield fake


def _gate(threshold: int = 2) -> GateFailure | None:
    config = make_config(health_check=HealthCheckConfig(failure_threshold=threshold))
    with context(config) as (ctx, _):
        return check_region(ctx, REGION, bake_s=0, route53=False)


def test_one_failed_deep_ping_is_asked_again_and_the_release_passes(api: FakeApi) -> None:
    api.scripts["deep"] = [503, 200]
    assert _gate() is None
    assert api.count("/health?deep=true") == 2
    assert api.count("/hello") == 3  # the application gate ran after it


def test_a_deep_ping_failing_as_often_as_route53_needs_fails_the_gate(api: FakeApi) -> None:
    api.scripts["deep"] = [503]
    failure = _gate(threshold=2)
    assert failure is not None and failure.gate == "deep /health"
    assert failure.evidence.startswith("2 requests in a row, the last: HTTP 503 from https://")
    assert api.count("/health?deep=true") == 2 and api.count("/hello") == 0


@pytest.mark.parametrize(("threshold", "tries"), [(1, 1), (10, DEEP_MAX_TRIES)])
def test_the_deep_pings_tries_follow_the_threshold_within_a_bound(
    api: FakeApi, threshold: int, tries: int
) -> None:
    api.scripts["deep"] = [502]
    failure = _gate(threshold)
    assert failure is not None and failure.gate == "deep /health"
    assert api.count("/health?deep=true") == tries


def test_a_release_that_cannot_start_is_failed_on_its_first_answer(api: FakeApi) -> None:
    api.scripts["health"] = [502]  # an import error answers 502 on every route
    failure = _gate(threshold=3)
    assert failure is not None and failure.gate == "shallow /health"
    assert failure.evidence.startswith("HTTP 502 from https://")
    assert api.asked == ["/health?deep=false"]


class ManualTime:
    """A clock whose pauses advance it at once (bake waits without waiting)."""

    def __init__(self) -> None:
        self.t = 0.0

    def clock(self) -> Clock:
        return Clock(now=lambda: self.t, sleep=self.advance)

    def advance(self, seconds: float) -> None:
        self.t += seconds


def _readings(*healthy: bool) -> Callable[[], HealthReading]:
    """Each call the next state (then the last one again), as 3 checkers report it."""
    states = list(healthy)

    def read() -> HealthReading:
        now = states.pop(0) if len(states) > 1 else states[0]
        return HealthReading(REGION, "hc-1", now, 3 if now else 0, 3)

    return read


def test_a_check_unhealthy_from_before_the_move_gets_time_to_heal_then_bakes() -> None:
    # A good release right after a rolled-back bad one: the check still says 0/3.
    said: list[str] = []
    clock = ManualTime()
    failure = bake(
        _readings(False, False, True), bake_s=4, recover_s=20, clock=clock.clock(), say=said.append
    )
    assert failure is None
    assert said and "from before the move" in said[0]
    assert clock.t >= 4  # the bake ran its whole time once the check was healthy


def test_a_check_that_never_heals_fails_the_gate_once_route53_had_its_time() -> None:
    clock = ManualTime()
    failure = bake(_readings(False), bake_s=0, recover_s=20, clock=clock.clock(), say=print)
    assert failure is not None and failure.gate == "Route 53 health check"
    assert "unhealthy (0/3 checkers), still 20s after the move" in failure.evidence
    assert clock.t >= 20


def test_a_check_that_turns_unhealthy_during_the_bake_fails_at_once() -> None:
    clock = ManualTime()
    failure = bake(
        _readings(True, False, True), bake_s=60, recover_s=20, clock=clock.clock(), say=print
    )
    assert failure is not None and failure.evidence == "unhealthy (0/3 checkers)"
    assert clock.t < 60
