"""boto3 clients that call the sandbox's own public API over loopback.

A feature that needs another service's behaviour (API Gateway invoking a
function, say) goes through that service's public API, so whatever the layer
adds to it (running the code, logging) happens exactly as for any client.
Clients are cached: building one costs tens of milliseconds.
"""

from __future__ import annotations

import threading
from typing import Any

from failover_cli.sandbox.outage_regions import INTERNAL_AGENT
from failover_cli.sandbox.requests import INTERNAL_ACCESS_KEY

FAKE_KEY = INTERNAL_ACCESS_KEY  # the sandbox's own calls: never held to --enforce-policy
DEFAULT_ACCOUNT_ID = "123456789012"  # the account moto files the fake credentials under

_lock = threading.Lock()
_session: Any = None
_clients: dict[tuple[str, str, str, str, float], Any] = {}


def client(
    endpoint: str,
    service: str,
    region: str,
    *,
    account_id: str = DEFAULT_ACCOUNT_ID,
    read_timeout: float = 60.0,
) -> Any:
    """A client for `service` in `region` of the sandbox at `endpoint`, acting in `account_id`.

    No retries (the caller decides what a failure means) and no proxy: loopback
    traffic must not go through whatever HTTP(S)_PROXY the user has set.
    """
    key = (endpoint, service, region, account_id, read_timeout)
    with _lock:  # botocore sessions are not safe to build clients from concurrently
        found = _clients.get(key)
        if found is not None:
            return found
        global _session
        import boto3
        from botocore.config import Config

        if _session is None:
            _session = boto3.session.Session(
                aws_access_key_id=FAKE_KEY, aws_secret_access_key=FAKE_KEY, region_name=region
            )
        made = _session.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            config=Config(
                retries={"total_max_attempts": 1},
                connect_timeout=5,
                read_timeout=read_timeout,
                proxies={},
                user_agent_extra=INTERNAL_AGENT,  # AWS's own traffic: no outage gates it
            ),
        )
        if account_id != DEFAULT_ACCOUNT_ID:
            # moto files a request under this header's account (as the layer does).
            def as_account(request: Any, **_: Any) -> None:
                request.headers["x-moto-account-id"] = account_id

            made.meta.events.register("before-sign", as_account)
        _clients[key] = made
        return made
