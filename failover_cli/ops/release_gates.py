"""The gates a region passes after its alias moves to a new release (one wave of `up`).

In order, each through the region's own API (the way clients and the health
checks reach it, never the custom domain, which may route elsewhere):
(a) /health shallow and deep (deep reads the table: a release that cannot reach
its data fails here), (b) the application answering without 5xx (a handful of
requests), (c) the region's Route 53 health check staying healthy for the bake
time; a check still unhealthy from before the move (a release a gate just rolled
back) first gets the time Route 53 needs to turn it healthy on this one. The
first failure is returned with its evidence; None means the region passed.

The deep ping is judged as the region's Route 53 health check judges it: failed
after `health_check.failure_threshold` failures in a row (at most DEEP_MAX_TRIES
requests). Its table read gives up after 1 s so that a slow read answers 503 at
once; one such answer (a cold client, a slow replica) is no verdict on the
release, and Route 53 would not call the region unhealthy for it. Every other
request gates on its first answer: a release that cannot start (an import
error) fails the shallow ping, and is rolled back, at once.

With `deploy.canary_percent`, before the alias moves fully, the application
routes must answer without 5xx while the alias sends only that share to the new
version (`check_canary`): enough requests that the canary is expected to take
APP_REQUESTS of them (at most CANARY_MAX_REQUESTS). Which version answers a
request is Lambda's random draw, so a canary can go unseen (at 10%, 30 requests
miss it about 4% of the time): the full gates after the move still run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from failover_cli.aws.retry import Clock
from failover_cli.engine.context import Context

if TYPE_CHECKING:
    from failover_cli.ops.failover_observer import HealthReading

APP_REQUESTS = 3  # requests per application route
DEEP_MAX_TRIES = 3  # a threshold of 10 would hold a broken release for minutes
DEEP_RETRY_PAUSE_S = 1.0
BODY_EXCERPT = 160  # characters of a failing answer's body in the evidence
CANARY_MAX_REQUESTS = 60  # a 1% canary would otherwise need 300
POLL_S = 5.0  # how often the bake reads the health check (wall seconds, at most)
DEEP_GATE, DEEP_PATH = "deep /health", "/health?deep=true"
SHALLOW_PATH = "/health?deep=false"


@dataclass(frozen=True)
class GateFailure:
    gate: str  # "shallow /health", "deep /health", "application GET /hello", "Route 53 ..."
    evidence: str  # status code and body excerpt, or the check's state


def check_region(
    ctx: Context,
    region: str,
    *,
    bake_s: float,
    clock: Clock | None = None,
    route53: bool = True,
) -> GateFailure | None:
    """Run the gates (a), (b), (c) on `region`; the first failure, or None. Without
    `route53` (a region the switch holds out: its routed check is unhealthy by design)
    only the requests through its own API gate it."""
    clock = clock or ctx.clock
    for gate, path, times in _requests(ctx):
        for _ in range(times):
            if gate == DEEP_GATE:
                failure = _deep_gate(ctx, region, clock)
            else:
                failure = _request_gate(ctx, region, gate, path)
            if failure is not None:
                return failure
    return _bake(ctx, region, bake_s, clock) if route53 else None


def check_canary(ctx: Context, region: str, weight: float) -> GateFailure | None:
    """The application routes, while the alias sends `weight` (0..1) to the new version."""
    times = min(CANARY_MAX_REQUESTS, math.ceil(APP_REQUESTS / weight))
    gate, path, _ = _requests(ctx)[-1]
    for _ in range(times):
        failure = _request_gate(ctx, region, f"canary {weight:.0%}: {gate}", path)
        if failure is not None:
            return failure
    return None


def _requests(ctx: Context) -> list[tuple[str, str, int]]:
    """(gate, path, how many times): the health pings, then the application answering."""
    return [
        # Explicitly shallow: the function makes DEEP_PING_PERCENT of plain /health pings
        # deep, and a deep answer must be judged by the deep gate's rules, not this one's.
        ("shallow /health", SHALLOW_PATH, 1),
        (DEEP_GATE, DEEP_PATH, 1),
        ("application GET /hello", "/hello", APP_REQUESTS),
    ]


def _deep_gate(ctx: Context, region: str, clock: Clock) -> GateFailure | None:
    """The deep ping, failed only when it fails as many times in a row as the region's
    health check must fail to turn unhealthy."""
    tries = max(1, min(DEEP_MAX_TRIES, ctx.config.health_check.failure_threshold))
    failure = None
    for attempt in range(tries):
        if attempt:
            clock.pause(DEEP_RETRY_PAUSE_S)
        failure = _request_gate(ctx, region, DEEP_GATE, DEEP_PATH)
        if failure is None:
            return None
    assert failure is not None
    if tries == 1:
        return failure
    return GateFailure(failure.gate, f"{tries} requests in a row, the last: {failure.evidence}")


def _request_gate(ctx: Context, region: str, gate: str, path: str) -> GateFailure | None:
    from failover_cli.ops.invoke import invoke

    answer = invoke(ctx, region, path)  # the secret is added and masked in what comes back
    # 5xx is the release's failure (import error 502, deep ping 503); a 403 from an IP
    # allow-list that keeps this machine out says nothing about the release.
    if 0 < answer.status < 500:
        return None
    body = " ".join(answer.body.split())[:BODY_EXCERPT]
    what = f"HTTP {answer.status}" if answer.status else f"no answer ({answer.error})"
    return GateFailure(gate, f"{what} from {answer.url}" + (f": {body}" if body else ""))


def _bake(ctx: Context, region: str, bake_s: float, clock: Clock) -> GateFailure | None:
    """The region's Route 53 health check must not turn unhealthy for `bake_s` seconds."""
    from failover_cli.ops.failover_observer import AwsObserver

    observer = AwsObserver(ctx)
    return bake(
        lambda: observer.health(region),
        bake_s=bake_s,
        recover_s=recovery_seconds(ctx),
        clock=clock,
        say=lambda line: ctx.progress(region, line),
    )


def recovery_seconds(ctx: Context) -> float:
    """How long a check that was unhealthy before the alias moved may take to turn healthy
    on the new release: Route 53 turns it healthy after `failure_threshold` good answers
    in a row, one per interval, plus one interval for the probe under way."""
    from failover_cli.net.time_scale import time_scale

    probe = ctx.config.health_check
    return (probe.failure_threshold + 1) * probe.interval_s / time_scale()


def bake(
    read: Callable[[], HealthReading],
    *,
    bake_s: float,
    recover_s: float,
    clock: Clock,
    say: Callable[[str], None],
) -> GateFailure | None:
    """Gate (c) on the readings `read` gives. A check found unhealthy at its first reading
    judges the release it replaced (a release a gate just rolled back, an outage): it gets
    `recover_s` to turn healthy on this one, and the bake starts from then. Once healthy,
    the first unhealthy reading fails the gate."""
    reading = read()
    if reading.healthy is False:
        before = reading.describe()
        say(f"Route 53 health check {before} from before the move: up to {recover_s:g}s to heal")
        deadline = clock.now() + recover_s
        while reading.healthy is False:
            remaining = deadline - clock.now()
            if remaining <= 0:
                return GateFailure(
                    "Route 53 health check",
                    f"{reading.describe()}, still {recover_s:g}s after the move "
                    "(it was unhealthy before it)",
                )
            clock.pause(min(POLL_S, remaining))
            reading = read()
    end = clock.now() + bake_s
    while True:
        if reading.healthy is False:
            return GateFailure("Route 53 health check", reading.describe())
        remaining = end - clock.now()
        if remaining <= 0:
            return None
        clock.pause(min(POLL_S, remaining))
        reading = read()
