"""Fault injection between the tool and AWS (the sandbox, or moto): test support, not shipped.

Why botocore's event hooks and not a loopback HTTP proxy: a proxy sees bytes and
would have to parse five wire protocols to learn each request's service,
operation and region, could not sit in front of moto in-process, and cannot
raise Ctrl-C where the tool would feel it. Inside botocore every request
carries those names, and botocore's own retry logic runs right after the hook,
so an injected fault meets exactly the code a real one would. Nothing here
touches the tool: `install()` wraps `AppState.clients` (every CLI command builds
its ClientFactory there) and `attach()` works on any ClientFactory: it adds a
call hook with `add_hook` and registers on each client as the factory makes it.

Two levels, matching what happens on the wire and what the tool sees:

- wire faults, per HTTP attempt (`before-send`, registered first so they also sit in
  front of moto's in-process stubber). botocore's retry handler sees them as real:
  THROTTLE answers 400/429 with the service protocol's own error shape (JSON
  `__type` + `x-amzn-ErrorType` for json, the header for rest-json, an XML
  `ErrorResponse` for query and rest-xml; the protocol is the model's
  `resolved_protocol`, so CloudWatch's json wins over its cbor), SERVER_ERROR answers
  500 InternalFailure, DROP raises ConnectionClosedError before anything is sent,
  UNREACHABLE raises EndpointConnectionError, RESET lets the request reach the server
  and take effect and then loses the answer (ConnectionClosedError: botocore sends
  it again, as after a real connection reset; needs a real server such as the
  sandbox), DELAY sleeps and lets the call go on, HANG is an endpoint that accepts
  and never answers: it waits the client's read time-out and raises botocore's
  ReadTimeoutError, as the socket would.
- call faults, per logical API call (the calls FAILOVER_CALL_LOG records): FAIL
  raises a ClientError botocore does not retry (`InjectedFault`, or the rule's
  `code`), INTERRUPT raises KeyboardInterrupt in the calling thread, SIGINT sends the
  process a real SIGINT (Python raises KeyboardInterrupt in the main thread, where
  Ctrl-C lands, and signal handlers such as the drill's shield see it).
  `after=True` lets the call take effect first and strikes when its answer is back
  ("interrupted after the step").

Which calls: each Rule matches by operation (`"CreateFunction"` or
`"lambda:CreateFunction"`), service, region and mutating-or-not, optionally only
once another operation has completed (`armed_after`; calls before that are not
counted). Among the matches it strikes the `nth` one, or each with probability
`rate`, at most `limit` times. Random draws are a hash of (seed, rule, service,
region, operation, how many such calls came before), never a shared RNG stream,
so thread interleaving does not change which calls fail: the same seed gives the
same faults. `injected` counts what was done, `attempts` and `calls` what was seen.

`shorten_botocore_backoff()` scales botocore's pauses between retries (not its
decisions), for tests of calls that fail on every attempt.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from failover_cli.aws.clients import ClientFactory
from failover_cli.cli.state import AppState
from tests.engine_helpers import is_mutating


class Fault(StrEnum):
    THROTTLE = "throttle"
    SERVER_ERROR = "server-error"
    DROP = "drop"
    UNREACHABLE = "unreachable"
    RESET = "reset"
    DELAY = "delay"
    HANG = "hang"
    FAIL = "fail"
    INTERRUPT = "interrupt"
    SIGINT = "sigint"


WIRE_FAULTS = frozenset(
    {
        Fault.THROTTLE,
        Fault.SERVER_ERROR,
        Fault.DROP,
        Fault.UNREACHABLE,
        Fault.RESET,
        Fault.DELAY,
        Fault.HANG,
    }
)
INJECTED_CODE = "InjectedFault"


@dataclass(frozen=True)
class Step:
    """One logical call of a recorded run: the `occurrence`-th (1-based) of its kind."""

    service: str
    region: str
    operation: str
    occurrence: int

    def __str__(self) -> str:
        return f"{self.service}:{self.operation}#{self.occurrence} ({self.region})"


@dataclass(frozen=True)
class Rule:
    fault: Fault
    operations: tuple[str, ...] = ()  # "Op" or "service:Op"; empty: every operation
    services: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    mutating: bool | None = None  # True: only mutating calls; False: only reads
    rate: float = 1.0
    nth: int | None = None  # strike only the nth matching call (1-based)
    limit: int | None = None  # strike at most this many times
    delay_ms: int = 0
    after: bool = False  # call faults: strike once the call has taken effect
    armed_after: tuple[str, int] | None = None  # ("service:Op" or "Op", n completed calls)
    code: str = INJECTED_CODE  # the error code FAIL raises
    message: str = ""  # and its message ("injected fault at <operation> ..." by default)

    @classmethod
    def at_step(
        cls, step: Step, fault: Fault = Fault.FAIL, *, after: bool = False, code: str = ""
    ) -> Rule:
        """Strike exactly the call `step` names (same service, region, operation, rank)."""
        return cls(
            fault,
            operations=(f"{step.service}:{step.operation}",),
            regions=(step.region,),
            nth=step.occurrence,
            after=after,
            code=code or INJECTED_CODE,
        )

    def matches(self, service: str, region: str, operation: str) -> bool:
        if self.operations and not _names(service, operation) & set(self.operations):
            return False
        if self.services and service not in self.services:
            return False
        if self.regions and region not in self.regions:
            return False
        return self.mutating is None or is_mutating(operation) == self.mutating


def _names(service: str, operation: str) -> set[str]:
    return {operation, f"{service}:{operation}"}


def steps_of(calls: Iterable[dict[str, Any]], *, mutating: bool = True) -> list[Step]:
    """The calls of a FAILOVER_CALL_LOG (e2e_helpers.Run.calls) as Steps, in log order."""
    seen: Counter[tuple[str, str, str]] = Counter()
    steps = []
    for call in calls:
        if mutating and not is_mutating(call["op"]):
            continue
        key = (call["service"], call["region"], call["op"])
        seen[key] += 1
        steps.append(Step(*key, seen[key]))
    return steps


@dataclass
class FaultInjector:
    rules: list[Rule]
    seed: int = 0
    injected: Counter[tuple[Fault, str]] = field(default_factory=Counter)  # (fault, "svc:Op")
    attempts: int = 0  # HTTP attempts seen (wire level)
    calls: int = 0  # logical calls seen
    log: list[str] = field(default_factory=list)  # "<monotonic> fault service:Op region"
    _matched: Counter[tuple[int, str, str, str]] = field(default_factory=Counter)
    _struck: Counter[int] = field(default_factory=Counter)  # per rule index
    _completed: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _instrumented: set[int] = field(default_factory=set)

    # -- attaching ------------------------------------------------------------------------

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FaultInjector:
        """Attach to the ClientFactory of every CLI command run while `monkeypatch` holds."""
        original = AppState.clients

        def clients(state: AppState) -> ClientFactory:
            factory = original(state)
            self.attach(factory)
            return factory

        monkeypatch.setattr(AppState, "clients", clients)
        return self

    def attach(self, factory: ClientFactory) -> None:
        factory.add_hook(self._before_call)  # after FAILOVER_CALL_LOG's: struck calls are logged
        make = factory.client

        def client(service: str, region: str, *args: Any, **kwargs: Any) -> Any:
            made = make(service, region, *args, **kwargs)
            self._instrument(made, service, region)
            return made

        setattr(factory, "client", client)  # noqa: B010  (shadows the method on this instance)

    def _instrument(self, made: Any, service: str, region: str) -> None:
        with self._lock:
            if id(made) in self._instrumented:
                return
            self._instrumented.add(id(made))
        protocol = made.meta.service_model.resolved_protocol
        events = made.meta.events
        read_timeout = float(made.meta.config.read_timeout)

        def before_send(request: Any, event_name: str, **_: Any) -> AWSResponse | None:
            operation = event_name.rsplit(".", 1)[-1]
            return self._on_send(service, region, operation, protocol, request, read_timeout)

        def after_call(http_response: Any, model: Any, **_: Any) -> None:
            ok = http_response is not None and http_response.status_code < 300
            self._on_answer(service, region, model.name, ok)

        def after_error(event_name: str, **_: Any) -> None:
            self._on_answer(service, region, event_name.rsplit(".", 1)[-1], False)

        events.register_first("before-send", before_send)
        events.register_first("after-call", after_call)
        events.register_first("after-call-error", after_error)

    # -- counting ---------------------------------------------------------------------------

    def total(self, *faults: Fault) -> int:
        return sum(n for (f, _), n in self.injected.items() if not faults or f in faults)

    def summary(self) -> str:
        return ", ".join(f"{f.value} {op} x{n}" for (f, op), n in sorted(self.injected.items()))

    # -- deciding ---------------------------------------------------------------------------

    def _hits(
        self, level: frozenset[Fault], service: str, region: str, operation: str
    ) -> list[tuple[int, Rule]]:
        """The rules of this level that would strike this call (counts the match)."""
        hits = []
        with self._lock:
            for index, rule in enumerate(self.rules):
                if rule.fault not in level or not rule.matches(service, region, operation):
                    continue
                if rule.armed_after is not None:
                    name, count = rule.armed_after
                    if self._completed[name] < count:
                        continue
                key = (index, service, region, operation)
                self._matched[key] += 1
                rank = self._matched[key]
                if rule.limit is not None and self._struck[index] >= rule.limit:
                    continue
                if rule.nth is not None:
                    hit = rank == rule.nth
                else:
                    draw = f"{self.seed}|{index}|{service}|{region}|{operation}|{rank}"
                    hit = random.Random(draw).random() < rule.rate
                if hit:
                    hits.append((index, rule))
        return hits

    def _record(self, index: int, service: str, region: str, operation: str) -> Fault:
        fault = self.rules[index].fault
        with self._lock:
            self._struck[index] += 1
            self.injected[(fault, f"{service}:{operation}")] += 1
            self.log.append(f"{time.monotonic():.2f} {fault.value} {service}:{operation} {region}")
        return fault

    # -- the hooks ----------------------------------------------------------------------------

    def _before_call(
        self, service: str, region: str, operation: str, _params: dict[str, Any]
    ) -> None:
        with self._lock:
            self.calls += 1
        for index, rule in self._hits(CALL_LEVEL, service, region, operation):
            if rule.after:
                _pending(operation).append(index)
                continue
            self._record(index, service, region, operation)
            _strike_call(rule, operation, taken_effect=False)

    def _on_answer(self, service: str, region: str, operation: str, ok: bool) -> None:
        if ok:
            with self._lock:
                self._completed[operation] += 1
                self._completed[f"{service}:{operation}"] += 1
        pending = _pending(operation)
        if not pending:
            return
        index = pending.pop(0)
        if ok:  # a call that failed anyway took no effect to strike after
            self._record(index, service, region, operation)
            _strike_call(self.rules[index], operation, taken_effect=True)

    def _on_send(
        self,
        service: str,
        region: str,
        operation: str,
        protocol: str,
        request: Any,
        read_timeout: float = 60.0,
    ) -> AWSResponse | None:
        with self._lock:
            self.attempts += 1
        for index, rule in self._hits(WIRE_FAULTS, service, region, operation):
            fault = self._record(index, service, region, operation)
            if fault is Fault.DELAY:
                time.sleep(rule.delay_ms / 1000)
                continue
            if fault is Fault.HANG:
                time.sleep(read_timeout)
                raise ReadTimeoutError(endpoint_url=request.url)
            if fault is Fault.DROP:
                raise ConnectionClosedError(endpoint_url=request.url)
            if fault is Fault.UNREACHABLE:
                raise EndpointConnectionError(endpoint_url=request.url)
            if fault is Fault.RESET:
                _send_and_forget(request)
                raise ConnectionClosedError(endpoint_url=request.url)
            return error_response(request.url, protocol, fault)
        return None


CALL_LEVEL = frozenset(set(Fault) - WIRE_FAULTS)

# After-call strikes decided in before-call, waiting (per thread) for the call's answer.
_local = threading.local()


def _pending(operation: str) -> list[int]:
    table: dict[str, list[int]] = _local.__dict__.setdefault("pending", {})
    return table.setdefault(operation, [])


def _strike_call(rule: Rule, operation: str, *, taken_effect: bool) -> None:
    fault = rule.fault
    when = "after it took effect" if taken_effect else "before it was sent"
    if fault is Fault.SIGINT:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)  # the main thread gets KeyboardInterrupt meanwhile
        return
    if fault is Fault.INTERRUPT:
        raise KeyboardInterrupt(f"injected at {operation} {when}")
    message = rule.message or f"injected fault at {operation} {when}"
    raise ClientError({"Error": {"Code": rule.code, "Message": message}}, operation)


# -- wire answers ---------------------------------------------------------------------------


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterable[bytes]:
        yield self._data


def error_response(url: str, protocol: str, fault: Fault) -> AWSResponse:
    """A throttling or 500 answer exactly as the service's protocol shapes its errors."""
    throttle = fault is Fault.THROTTLE
    request_id = str(uuid.uuid4())
    message = "Rate exceeded (injected)" if throttle else "Internal failure (injected)"
    if protocol in ("json", "rest-json"):
        if throttle:
            code, status = (
                ("TooManyRequestsException", 429)
                if protocol == "rest-json"
                else ("ThrottlingException", 400)
            )
        else:
            code, status = "InternalFailure", 500
        headers = {
            "Content-Type": "application/x-amz-json-1.1"
            if protocol == "json"
            else "application/json",
            "x-amzn-ErrorType": code,
            "x-amzn-RequestId": request_id,
        }
        body = {"__type": code, "message": message} if protocol == "json" else {"message": message}
        return _answer(url, status, headers, json.dumps(body).encode())
    if protocol in ("query", "rest-xml"):
        code, status, kind = (
            ("Throttling", 400, "Sender")
            if throttle
            else (
                "InternalFailure",
                500,
                "Receiver",
            )
        )
        xml = (
            "<ErrorResponse><Error>"
            f"<Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
        return _answer(url, status, headers, xml.encode())
    raise NotImplementedError(f"no injected error shape for protocol {protocol}")


def _answer(url: str, status: int, headers: dict[str, str], body: bytes) -> AWSResponse:
    return AWSResponse(url, status, cast(Any, headers), _Body(body))  # any mapping will do


def _send_and_forget(request: Any) -> None:
    """Deliver the request for real (it takes effect), then drop the answer."""
    from botocore.httpsession import URLLib3Session

    session = URLLib3Session(timeout=30)
    try:
        session.send(request).content  # noqa: B018  (read it all: the server has answered)
    finally:
        session.close()


def throttle_and_fail(throttle_rate: float, error_rate: float, **match: Any) -> list[Rule]:
    """`throttle_rate` of attempts throttled and `error_rate` answered 500 (disjoint draws)."""
    return [
        Rule(Fault.THROTTLE, rate=throttle_rate, **match),
        Rule(Fault.SERVER_ERROR, rate=error_rate / max(1 - throttle_rate, 1e-9), **match),
    ]


def delays(ms: int, **match: Any) -> list[Rule]:
    return [Rule(Fault.DELAY, delay_ms=ms, **match)]


class _ScaledTime:
    def __init__(self, factor: float) -> None:
        self._factor = factor

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self._factor)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def shorten_botocore_backoff(monkeypatch: pytest.MonkeyPatch, factor: float = 0.01) -> None:
    """botocore's pauses between attempts, times `factor`: which errors it retries and how
    often stay its own, but a call failing every attempt (the first and 10 retries: a
    minute or more of backoff, up to 20 s a pause) gives up in about a second."""
    import botocore.endpoint

    monkeypatch.setattr(botocore.endpoint, "time", _ScaledTime(factor))
