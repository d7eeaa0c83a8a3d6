"""The sandbox throttles a stage as API Gateway does: a token bucket of `burst` tokens that
refills at `rate` a second; an empty bucket answers 429 and the function does not run."""

from __future__ import annotations

import json

import boto3
import pytest

from failover_cli.sandbox.apigateway.throttle import StageThrottles
from tests.sandbox_api_helpers import SECRET, api_get, create_api, health_function, unique

REGION = "us-east-1"
KEY = ("123456789012", REGION, "abc", "prod")


def _settings(rate: float, burst: int) -> dict[str, dict[str, float]]:
    return {"*/*": {"throttlingRateLimit": rate, "throttlingBurstLimit": burst}}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_burst_passes_then_429_until_the_rate_refills() -> None:
    clock = FakeClock()
    throttles = StageThrottles(clock)
    settings = _settings(rate=2, burst=3)
    assert [throttles.allow(KEY, settings) for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token at 2 a second
    assert [throttles.allow(KEY, settings) for _ in range(2)] == [True, False]
    clock.now += 60  # refills to the burst, not beyond
    assert [throttles.allow(KEY, settings) for _ in range(4)] == [True, True, True, False]


def test_stages_have_their_own_buckets_and_unthrottled_stages_pass() -> None:
    throttles = StageThrottles(FakeClock())
    settings = _settings(rate=1, burst=1)
    assert throttles.allow(KEY, settings) and not throttles.allow(KEY, settings)
    assert throttles.allow((*KEY[:3], "dev"), settings)
    assert all(throttles.allow(KEY, None) for _ in range(100))
    assert all(throttles.allow(KEY, {"*/*": {"loggingLevel": "INFO"}}) for _ in range(100))


@pytest.mark.sandbox
def test_requests_past_the_burst_get_api_gateways_429(sandbox_env: str) -> None:
    """runs code"""
    api = create_api(REGION, health_function(REGION, unique("throttled")))
    # One token every 100 s: the burst of 2 is all this test can use, however slow the machine.
    boto3.client("apigateway", REGION).update_stage(
        restApiId=api,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0.01"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "2"},
        ],
    )
    path = f"/prod/health?healthCheckerId={SECRET}"
    answers = [api_get(sandbox_env, api, REGION, path) for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 429, 429]
    assert json.loads(answers[2].body) == {"message": "Too Many Requests"}
    assert answers[2].headers.get("x-amzn-ErrorType") == "TooManyRequestsException"
