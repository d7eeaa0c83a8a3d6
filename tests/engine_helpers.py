"""Helpers for engine and resource-handler tests against moto in-process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from failover_cli.aws.clients import ClientFactory
from failover_cli.aws.retry import Clock
from failover_cli.config.schema import Config
from failover_cli.engine.context import Context

REPO = Path(__file__).resolve().parent.parent

MUTATING_PREFIXES = (
    "Create",
    "Put",
    "Update",
    "Delete",
    "Tag",
    "Untag",
    "Register",
    "Deregister",
    "Add",
    "Remove",
    "Publish",
    "Subscribe",
    "Unsubscribe",
    "Change",
    "Request",
    "Set",
    "Attach",
    "Detach",
    "Associate",
    "Disassociate",
    "Enable",
    "Disable",
    "Import",
    "BatchWrite",
    "TransactWrite",
    "Invoke",
    "Start",
    "Stop",
    "Modify",
    "Reset",
    "Rotate",
)


def is_mutating(operation: str) -> bool:
    return operation.startswith(MUTATING_PREFIXES)


@dataclass
class CallRecorder:
    """Records every AWS call made through a ClientFactory: (service, region, operation)."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def __call__(self, service: str, region: str, operation: str, _params: dict[str, Any]) -> None:
        self.calls.append((service, region, operation))

    @property
    def mutating(self) -> list[tuple[str, str, str]]:
        return [c for c in self.calls if is_mutating(c[2])]


def no_sleep_clock() -> Clock:
    """A clock whose sleep advances time instantly, so waits and retries cost nothing."""
    state = {"now": 0.0}

    def now() -> float:
        return state["now"]

    def sleep(seconds: float) -> None:
        state["now"] += seconds

    return Clock(now=now, sleep=sleep)


def make_config(**overrides: Any) -> Config:
    values: dict[str, Any] = {"stack": "hello", "regions": ("us-east-1", "us-west-2")}
    values.update(overrides)
    return Config(**values)


@contextmanager
def context(
    config: Config | None = None, *, clock: Clock | None = None
) -> Iterator[tuple[Context, CallRecorder]]:
    recorder = CallRecorder()
    clients = ClientFactory(call_hooks=[recorder])
    ctx = Context(config=config or make_config(), clients=clients, clock=clock or no_sleep_clock())
    yield ctx, recorder
