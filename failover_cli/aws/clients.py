"""One boto3 Session, one client per (service, region), botocore's retry config.

Credentials, endpoints (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>) and
profiles come from boto3's standard chain. The factory is thread-safe: the
engine and `status` fan out across regions from a thread pool.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

# Lambda, IAM and API Gateway throttle readily; adaptive mode adds client-side
# rate limiting on top of the standard exponential backoff.
RETRY_CONFIG: dict[str, Any] = {"mode": "adaptive", "max_attempts": 10}

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
        connect_timeout: float = 10,
        read_timeout: float = 60,
    ) -> None:
        self._profile = profile
        self._session = session
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        from failover_cli.aws.pacing import Pacer

        # Pacing first: a call's log entry and counters then show when it really went out.
        self._pacer = Pacer()
        self._hooks: list[CallHook] = [self._pacer, *(call_hooks or [])]
        self._timeouts = (connect_timeout, read_timeout)
        self._account_id: str | None = None

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            import boto3

            self._session = boto3.Session(profile_name=self._profile)
        return self._session

    def pace_with(self, now: Callable[[], float], sleep: Callable[[float], None]) -> None:
        """Rate-limited calls wait on this clock (the command's: cancellable, fake in tests)."""
        self._pacer.use_clock(now, sleep)

    def add_hook(self, hook: CallHook) -> None:
        self._hooks.append(hook)

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            existing = self._clients.get(key)
            if existing is not None:
                return existing
            from botocore.config import Config

            config = Config(
                retries=dict(RETRY_CONFIG),  # type: ignore[arg-type]
                connect_timeout=self._timeouts[0],
                read_timeout=self._timeouts[1],
                max_pool_connections=20,
            )
            made = self.session.client(service, region_name=region, config=config)  # type: ignore[call-overload]
            made.meta.events.register("before-call.*.*", self._before_call(service, region))
            made.meta.events.register("after-call.*.*", _stamp_service(service))
            made.meta.events.register("after-call-error.*.*", _name_failed_call)
            self._clients[key] = made
            return made

    def _before_call(self, service: str, region: str) -> Callable[..., None]:
        def hook(model: Any, params: dict[str, Any], **_: Any) -> None:
            for h in self._hooks:
                h(service, region, model.name, params)

        return hook

    def account_id(self, region: str) -> str:
        """The caller's account id (one STS call, cached)."""
        if self._account_id is None:
            self._account_id = self.client("sts", region).get_caller_identity()["Account"]
        return self._account_id


def _stamp_service(service: str) -> Callable[..., None]:
    """Write the service into an error response, so a ClientError that reaches the error
    boundary without its context can still name the IAM action (`route53:…`, not `:…`)."""
    from failover_cli.aws.errors import SERVICE_KEY

    def stamp(parsed: Any = None, **_: Any) -> None:
        if isinstance(parsed, dict) and "Error" in parsed:
            parsed.setdefault("ResponseMetadata", {})[SERVICE_KEY] = service

    return stamp


def _name_failed_call(
    exception: BaseException | None = None, event_name: str = "", **_: Any
) -> None:
    """A connection error or time-out (retries spent) does not say which call failed: note
    the operation on it, so that the error shown can name it as it names a ClientError's."""
    if exception is not None and not getattr(exception, "operation_name", None):
        with contextlib.suppress(AttributeError):  # an exception type without a __dict__
            setattr(exception, "operation_name", event_name.rsplit(".", 1)[-1])  # noqa: B010
