"""What every resource handler gets: clients, config, clock, progress and a per-run memo."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from failover_cli.aws.retry import Clock

if TYPE_CHECKING:
    from failover_cli.aws.clients import ClientFactory
    from failover_cli.aws.deadlines import Deadline
    from failover_cli.config.schema import Config

T = TypeVar("T")

Progress = Callable[[str, str], None]  # (region or "", message)
GLOBAL_REGION = "us-east-1"  # where IAM's and Route 53's global endpoints sign


def _quiet(_region: str, _message: str) -> None:
    pass


@dataclass
class Context:
    config: Config
    clients: ClientFactory
    clock: Clock = field(default_factory=Clock)
    progress: Progress = _quiet
    # Values shared between handlers within one run (the health-checker secret,
    # ids learnt while applying). Keys are free-form strings.
    outputs: dict[str, Any] = field(default_factory=dict)
    # The deadline of this context's calls (None: the client factory's, i.e. the command's).
    deadline: Deadline | None = None
    _memo: dict[str, Any] = field(default_factory=dict)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock)
    _flights: dict[str, _Flight] = field(default_factory=dict)  # keys being computed

    def __post_init__(self) -> None:
        pace_with = getattr(self.clients, "pace_with", None)  # test doubles may lack it
        if pace_with is not None:
            pace_with(self.clock.now, self.clock.pause)

    def client(self, service: str, region: str, deadline: Deadline | None = None) -> Any:
        """The client for `region` with `deadline` (the command's by default)."""
        deadline = deadline or self.deadline
        if deadline is None:  # keeps working with factories that take two arguments
            return self.clients.client(service, self.aws_region(region))
        return self.clients.client(service, self.aws_region(region), deadline)

    def reading(self) -> Context:
        """This context for reads that should give up on a region sooner (the observe
        phase of `up` and `down`): same config, memo and outputs, the OBSERVE deadline."""
        from dataclasses import replace

        from failover_cli.aws.deadlines import OBSERVE

        return replace(self, deadline=OBSERVE)

    def aws_region(self, region: str) -> str:
        """Global services (IAM, Route 53) are called in us-east-1, where their single
        endpoint signs in the aws partition, never through the primary region: an outage
        of the primary must not take them with it.
        https://docs.aws.amazon.com/general/latest/gr/iam-service.html
        https://docs.aws.amazon.com/general/latest/gr/r53.html
        """
        from failover_cli.engine.model import GLOBAL

        return GLOBAL_REGION if region == GLOBAL else region

    @property
    def account_id(self) -> str:
        primary = self.config.primary_region
        others = [r for r in (*self.config.regions, "us-east-1") if r != primary]
        return self.clients.account_id(primary, *dict.fromkeys(others))

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Compute a read-only answer once per run (e.g. one GetFunction per region).

        A thread asking for a key that another thread is computing waits for that answer
        (or its error) instead of asking AWS again: the observe phase starts every kind
        at once, and each asked for the account's health-check listing itself (ten
        ListHealthChecks and ten ListTagsForResources in a converged `up`)."""
        me = threading.get_ident()
        with self._memo_lock:
            if key in self._memo:
                return self._memo[key]
            flight = self._flights.get(key)
            if flight is None:
                flight = self._flights[key] = _Flight(owner=me)
        if flight.owner != me:
            answer: T = flight.answer()
            return answer
        try:
            value = compute()
        except BaseException as error:
            self._land(key, flight)
            flight.fail(error)
            raise
        with self._memo_lock:
            if self._flights.get(key) is flight:  # not forgotten meanwhile: keep it
                self._memo.setdefault(key, value)
            value = self._memo.get(key, value)
        self._land(key, flight)
        flight.succeed(value)
        return value

    def _land(self, key: str, flight: _Flight) -> None:
        with self._memo_lock:
            if self._flights.get(key) is flight:
                del self._flights[key]

    def forget(self, key: str) -> None:
        """Drop the answer; a computation under way is not kept either (it may have read
        before the change that makes the caller forget)."""
        with self._memo_lock:
            self._memo.pop(key, None)
            self._flights.pop(key, None)

    def forget_all(self) -> None:
        """Drop every memoized answer (before re-observing after changes)."""
        with self._memo_lock:
            self._memo.clear()
            self._flights.clear()


@dataclass
class _Flight:
    """One thread's computation of a memo key, which other threads wait for."""

    owner: int  # the computing thread: if its computation asks for the key again, it
    # computes it again rather than wait for itself
    _done: threading.Event = field(default_factory=threading.Event)
    _value: Any = None
    _error: BaseException | None = None

    def succeed(self, value: Any) -> None:
        self._value = value
        self._done.set()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._done.set()

    def answer(self) -> Any:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value
