"""A stack in an in-process sandbox, driven through the library calls the commands make.

Like `failover demo`: a config with a custom domain, the hosted zone created
first (a user would already own it), boto3 and the tool's HTTP probes pointed
at the sandbox through the standard environment variables for the duration.
Each command gets a fresh ClientFactory, as a fresh `failover` process would,
with hooks that count its AWS calls and, optionally, delay each one.
"""

from __future__ import annotations

import gc
import json
import os
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from failover_cli.aws.clients import CallHook, ClientFactory
from failover_cli.aws.retry import Clock
from failover_cli.cli.demo import environment
from failover_cli.config.loader import load_config
from failover_cli.config.schema import Config
from failover_cli.engine.context import Context
from failover_cli.engine.model import Change
from failover_cli.ops.status_model import StackStatus
from tests.engine_helpers import is_mutating  # the test suite's definition of "mutating"

ZONE = "example.com"
PRIMARY, SECONDARY = "us-east-1", "us-west-2"
CONFIG = f"""\
stack: bench
regions: [{PRIMARY}, {SECONDARY}]
domain:
  name: hello.{ZONE}
  hosted_zone: {ZONE}
  base_path: v1
  routing: failover
health_check:
  interval_s: 10
  failure_threshold: 2
alarms:
  email: ops@example.com
"""


@dataclass
class CallCounter:
    """A ClientFactory hook recording (service, region, operation) of every AWS call."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, service: str, region: str, operation: str, _params: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append((service, region, operation))

    @property
    def total(self) -> int:
        return len(self.calls)

    @property
    def mutating(self) -> list[str]:
        return [f"{s}:{op}" for s, _, op in self.calls if is_mutating(op)]

    def per_service(self) -> dict[str, int]:
        return dict(sorted(Counter(s for s, _, _ in self.calls).items()))

    def run(self, command: str, seconds: float) -> Run:
        mutating = self.mutating
        return Run(command, seconds, self.total, len(mutating), self.per_service(), tuple(mutating))

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()


@dataclass(frozen=True)
class Delay:
    """A ClientFactory hook that sleeps before every call: a round trip, in the calling thread."""

    seconds: float

    def __call__(self, _service: str, _region: str, _operation: str, _params: Any) -> None:
        time.sleep(self.seconds)


@dataclass(frozen=True)
class Run:
    command: str
    seconds: float
    calls: int
    mutating: int
    per_service: dict[str, int]
    mutating_calls: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "seconds": round(self.seconds, 4),
            "calls": self.calls,
            "mutating": self.mutating,
            "per_service": self.per_service,
            "mutating_calls": list(self.mutating_calls),
        }


@contextmanager
def sandbox_stack(time_scale: float, config_text: str = CONFIG) -> Iterator[Config]:
    """A running sandbox, its environment set, the hosted zone created; the config to use.

    moto keeps its state in module globals, so a later sandbox in this process would see
    this one's leftovers: the hosted zone is deleted again (the stack by the caller).
    """
    from failover_cli.sandbox.aws_rules import AwsRules
    from failover_cli.sandbox.server import Sandbox

    with tempfile.TemporaryDirectory(prefix="failover-bench-") as folder:
        path = Path(folder) / "failover.yaml"
        path.write_text(config_text, encoding="utf-8")
        sandbox = Sandbox(
            port=0,
            time_scale=time_scale,
            outbox=Path(folder) / "outbox",
            # down measured whole; the tool's own time, not IAM's or Lambda's delays
            rules=AwsRules(
                source_table_hold=0,
                certificate_release=0,
                role_assumable_after=0,
                function_update_seconds=0,
            ),
        )
        sandbox.start()
        try:
            with environment(sandbox.environment()):
                config = load_config(path)
                route53 = context(config).client("route53", "us-east-1")
                zone = route53.create_hosted_zone(
                    Name=ZONE, CallerReference=f"bench-{time.time_ns()}"
                )["HostedZone"]["Id"]
                try:
                    yield config
                finally:
                    route53.delete_hosted_zone(Id=zone)
        finally:
            sandbox.stop()
            gc.unfreeze()  # what the sandbox held may go now


@contextmanager
def deployed(time_scale: float, config_text: str = CONFIG) -> Iterator[Config]:
    """`sandbox_stack` with the stack up inside (`down` on the way out, whatever happened)."""
    with sandbox_stack(time_scale, config_text) as config:
        try:
            up(context(config, time_scale=time_scale))
            yield config
        finally:
            down(context(config, time_scale=time_scale))


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@contextmanager
def hanging(region: str) -> Iterator[None]:
    """`region`'s AWS API endpoints hang (the sandbox's outage switch, as a user throws it)
    while inside: every call is accepted and never answered; checkers, functions and the
    name servers go on, as Route 53's and Lambda's data planes do."""
    _outage("POST", {"region": region, "mode": "hang"})
    try:
        yield
    finally:
        _outage("DELETE", {"region": region})


def _outage(method: str, body: dict[str, str]) -> None:
    url = os.environ["AWS_ENDPOINT_URL"] + "/_sandbox/outage"  # set by sandbox_stack
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method)
    with _DIRECT.open(request, timeout=10) as answer:
        answer.read()


def context(
    config: Config, hooks: list[CallHook] | None = None, *, time_scale: float = 1.0
) -> Context:
    """A Context whose polling waits (replicas, certificates) last 1/time_scale as long:
    the sandbox is that much faster than AWS, so the tool may poll it that much more often."""
    import failover_cli.resources  # noqa: F401  (the resource kinds register with the engine)

    clock = Clock(sleep=lambda seconds: time.sleep(seconds / time_scale))
    return Context(config=config, clients=ClientFactory(call_hooks=hooks), clock=clock)


def measure(
    command: str,
    config: Config,
    action: Callable[[Context], object],
    *,
    delay: float = 0.0,
    time_scale: float = 1.0,
) -> Run:
    """Run one command on a fresh Context, counting (and optionally delaying) its calls."""
    counter = CallCounter()
    ctx = context(config, _hooks(counter, delay), time_scale=time_scale)
    settle_heap()
    started = time.perf_counter()
    action(ctx)
    return counter.run(command, time.perf_counter() - started)


class Watcher:
    """`status --watch`: one Context for every refresh, its clients built by a first one."""

    def __init__(self, config: Config, *, delay: float = 0.0) -> None:
        self.counter = CallCounter()
        self.ctx = context(config, _hooks(self.counter, delay))
        status(self.ctx)

    def refresh(self, command: str) -> Run:
        self.counter.clear()
        settle_heap()
        started = time.perf_counter()
        status(self.ctx)
        return self.counter.run(command, time.perf_counter() - started)


def settle_heap() -> None:
    """Collect garbage, then freeze the survivors out of the collector's sight.

    The sandbox shares this process: moto's backends, every earlier command's boto3
    models... A full collection of that heap pauses every thread for about a second,
    at random, which a real `failover` process (its own small heap) never suffers.
    After a freeze, collections during a measurement only scan what it allocates.
    """
    gc.collect()
    gc.freeze()


def _hooks(counter: CallCounter, delay: float) -> list[CallHook]:
    return [counter, Delay(delay)] if delay else [counter]


# -- what the commands do (cmd_up, cmd_status, cmd_down), minus the printing ----------


def _quiet(_change: Change, _phase: str, _seconds: float) -> None:
    pass


def up(ctx: Context) -> None:
    from failover_cli.engine.stack import plan_for_up, run_up

    run_up(ctx, plan_for_up(ctx), _quiet)


def status(ctx: Context) -> StackStatus:
    from failover_cli.net.http import HttpClient
    from failover_cli.ops.status import gather

    return gather(ctx, HttpClient())


def down(ctx: Context) -> None:
    from failover_cli.engine.stack import plan_for_down, run_down

    run_down(ctx, plan_for_down(ctx, keep_table=False), _quiet, keep_table=False)


def wait_until_serving(config: Config, timeout: float = 60) -> StackStatus:
    """Status until every region is healthy and the domain answers (a fresh stack needs
    an interval or two of health checks); raises when it never happens."""
    deadline = time.monotonic() + timeout
    while True:
        seen = status(context(config))
        if seen.healthy and seen.serving_region:
            return seen
        if time.monotonic() > deadline:
            raise RuntimeError(f"the stack was not healthy and serving within {timeout:.0f}s")
        time.sleep(0.5)
