"""One boto3 Session, one client per (service, region, deadline), botocore's retry config.

Credentials, endpoints (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>) and
profiles come from boto3's standard chain. The factory is thread-safe: the
engine and `status` fan out across regions from a thread pool. Each command
gives the factory its `Deadline` (time-outs, attempts, a budget per call); a
command that mixes quick reads with writes asks for READ_ONLY clients by name.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from failover_cli.aws.deadlines import MUTATING, Deadline, install_budget

if TYPE_CHECKING:
    import boto3

# How long the account id is waited for from one region before the others are asked.
ACCOUNT_HEDGE_SECONDS = 2.0

# Called with (service, region, operation_name, params) before every request;
# tests and benchmarks use it to record or count calls.
CallHook = Callable[[str, str, str, dict[str, Any]], None]


class ClientFactory:
    """Builds and caches boto3 clients keyed by (service, region)."""

    def __init__(
        self,
        profile: str | None = None,
        *,
        session: boto3.Session | None = None,
        call_hooks: list[CallHook] | None = None,
        deadline: Deadline = MUTATING,
    ) -> None:
        self._profile = profile
        self._session = session
        self._clients: dict[tuple[str, str, Deadline], Any] = {}
        self._lock = threading.Lock()
        from failover_cli.aws.pacing import Pacer

        # Pacing first: a call's log entry and counters then show when it really went out.
        self._pacer = Pacer()
        self._hooks: list[CallHook] = [self._pacer, *(call_hooks or [])]
        self.deadline = deadline
        self._account_id: str | None = None

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            from failover_cli.aws.botocore_sharing import new_session

            self._session = new_session(self._profile)
        return self._session

    def pace_with(self, now: Callable[[], float], sleep: Callable[[float], None]) -> None:
        """Rate-limited calls wait on this clock (the command's: cancellable, fake in tests)."""
        self._pacer.use_clock(now, sleep)

    def add_hook(self, hook: CallHook) -> None:
        self._hooks.append(hook)

    def client(self, service: str, region: str, deadline: Deadline | None = None) -> Any:
        """The client of `service` in `region` with `deadline` (the factory's by default)."""
        deadline = deadline or self.deadline
        key = (service, region, deadline)
        with self._lock:
            existing = self._clients.get(key)
            if existing is not None:
                return existing
            made = self.session.client(  # type: ignore[call-overload]
                service, region_name=region, config=deadline.config()
            )
            # botocore builds a client's exception classes on first use, unlocked: two threads
            # at it at once (one raising NotFound, one evaluating `except
            # client.exceptions.NotFoundException`) can get two sets of classes, and the
            # except clause then misses the error. Built here, under the lock, once.
            made.exceptions  # noqa: B018
            install_budget(made, deadline)
            made.meta.events.register("before-call.*.*", self._before_call(service, region))
            made.meta.events.register("after-call.*.*", _stamp_service(service, region))
            made.meta.events.register("after-call-error.*.*", _name_failed_call(service, region))
            self._clients[key] = made
            return made

    def _before_call(self, service: str, region: str) -> Callable[..., None]:
        def hook(model: Any, params: dict[str, Any], **_: Any) -> None:
            for h in self._hooks:
                h(service, region, model.name, params)

        return hook

    def account_id(self, region: str, *fallbacks: str) -> str:
        """The caller's account id (one STS call, cached).

        STS answers in every region. When `region` is in an outage (no answer within
        ACCOUNT_HEDGE_SECONDS, refused, 5xx) the `fallbacks` are asked too and the first
        answer wins, so one region down does not stop the reads of the others that
        only need the account id to build an ARN.
        """
        if self._account_id is None:
            self._account_id = self._first_identity((region, *fallbacks))
        return self._account_id

    def _first_identity(self, regions: tuple[str, ...]) -> str:
        from concurrent.futures import FIRST_COMPLETED, Future, wait

        from failover_cli.aws.outage import outage_region, start

        def ask(where: str) -> Future[str]:
            client = self.client("sts", where)
            return start(lambda: str(client.get_caller_identity()["Account"]), name="sts")

        pending = {ask(regions[0]): regions[0]}
        waiting = list(regions[1:])
        first_error: BaseException | None = None
        while pending:
            timeout = ACCOUNT_HEDGE_SECONDS if waiting else None
            done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                where = pending.pop(future)
                error = future.exception()
                if error is None:
                    return future.result()
                if not outage_region(error, default=where):
                    raise error  # credentials, access denied: not a reason to ask elsewhere
                first_error = first_error or error
            if waiting and (not done or not pending):  # slow or out: ask the others too
                pending.update({ask(r): r for r in waiting})
                waiting = []
        assert first_error is not None
        raise first_error


def _stamp_service(service: str, region: str) -> Callable[..., None]:
    """Write the service into an error response, so a ClientError that reaches the error
    boundary without its context can still name the IAM action (`route53:…`, not `:…`),
    and the region the call went to (an outage's 503s are blamed on that region)."""
    from failover_cli.aws.errors import REGION_KEY, SERVICE_KEY

    def stamp(parsed: Any = None, **_: Any) -> None:
        if isinstance(parsed, dict) and "Error" in parsed:
            metadata = parsed.setdefault("ResponseMetadata", {})
            metadata[SERVICE_KEY] = service
            metadata[REGION_KEY] = region

    return stamp


def _name_failed_call(service: str, region: str) -> Callable[..., None]:
    """A connection error or time-out (retries spent) does not say which call failed: note
    the operation on it, so that the error shown can name it as it names a ClientError's,
    and the service and region it went to (Route 53's calls go to us-east-1 whatever
    region the health check is for), so that an outage is blamed on the right region."""

    def name(exception: BaseException | None = None, event_name: str = "", **_: Any) -> None:
        if exception is None:
            return
        with contextlib.suppress(AttributeError):  # an exception type without a __dict__
            if not getattr(exception, "operation_name", None):
                setattr(exception, "operation_name", event_name.rsplit(".", 1)[-1])  # noqa: B010
            setattr(exception, "aws_service", service)  # noqa: B010
            setattr(exception, "aws_region", region)  # noqa: B010

    return name
