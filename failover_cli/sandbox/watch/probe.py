"""Server-side half of the watch page: probe a stack (found by stacks.py) through its domain.

Everything here goes through the sandbox's own public AWS APIs over loopback
(boto3 with the sandbox as endpoint), exactly as a user's script would, so it
depends on no other feature's internals. The health-checker secret is read
from the functions' environment, used for the `/hello` call and never leaves
this module: answers carry the region, status, message, latency and health.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.exceptions import ClientError

from failover_cli.sandbox.outage_regions import INTERNAL_AGENT
from failover_cli.sandbox.requests import INTERNAL_ACCESS_KEY
from failover_cli.sandbox.watch.stacks import (
    ROUTE53_REGION,
    HealthCheckRef,
    StackView,
    find_stacks,
    hello_path,
)

SECRET_VARIABLE = "HEALTH_CHECKER_ID"
HEALTHY_SHARE = 0.18  # Route 53: healthy while more than 18% of checkers say so
DISCOVERY_TTL = 3.0  # real seconds: a page polling every second rescans at most this often
HELLO_TIMEOUT = 5.0


class Watcher:
    """Discovers stacks (cached briefly) and probes them; one per sandbox, thread-safe."""

    def __init__(self, endpoint: str, *, clock: Callable[[], float] = time.monotonic):
        self.endpoint = endpoint
        split = urlsplit(endpoint)
        self.host = split.hostname or "127.0.0.1"
        self.port = split.port or 80
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}
        self._session: Any = None
        self._cache: tuple[float, list[StackView]] | None = None

    # -- discovery ---------------------------------------------------------

    def stacks(self) -> list[StackView]:
        """Stacks found by their tagged Route 53 health checks, with domain and mapping."""
        with self._lock:
            if self._cache is not None and self._clock() - self._cache[0] < DISCOVERY_TTL:
                return self._cache[1]
        found = find_stacks(self.client)
        with self._lock:
            self._cache = (self._clock(), found)
        return found

    def forget(self) -> None:
        with self._lock:
            self._cache = None

    # -- probing -------------------------------------------------------------

    def probe(self, stack_name: str) -> dict[str, Any]:
        """One `/hello` through the stack's custom domain plus each region's health."""
        stack = next((s for s in self.stacks() if s.name == stack_name), None)
        if stack is None:
            self.forget()  # deployed a moment ago? look again next time
            return {"stack": stack_name, "problem": "no-stack"}
        with ThreadPoolExecutor(max_workers=1 + len(stack.checks)) as pool:
            hello = pool.submit(self._hello, stack)
            health = list(pool.map(self._health, stack.checks))
        answer: dict[str, Any] = {"stack": stack.name, "domain": stack.domain, **hello.result()}
        answer["health"] = health
        return answer

    def _hello(self, stack: StackView) -> dict[str, Any]:
        if stack.domain is None or stack.base_path is None:
            return {"problem": "no-domain"}
        secret = self._secret(stack)
        if secret is None:
            return {"problem": "no-secret"}
        path = f"{hello_path(stack.base_path)}?healthCheckerId={quote(secret, safe='')}"
        started = time.perf_counter()
        # Straight to the sandbox with the domain as Host: the custom-domain route,
        # the way FAILOVER_RESOLVE sends the tool's own requests. A fresh connection
        # each time, so nothing like a browser's keep-alive can pin a region.
        connection = http.client.HTTPConnection(self.host, self.port, timeout=HELLO_TIMEOUT)
        try:
            connection.request(
                "GET", path, headers={"Host": stack.domain, "Cache-Control": "no-store"}
            )
            response = connection.getresponse()
            body = response.read()
            status, region_header = response.status, response.getheader("X-Failover-Region")
        except OSError as error:
            return _answer(None, None, f"no answer: {error}", started)
        finally:
            connection.close()
        payload = _json_object(body)
        region = region_header or payload.get("region")
        message = payload.get("message")
        if not isinstance(message, str):
            # Not the function's JSON: whatever else answered (no route, moto itself).
            message = f"HTTP {status} that is not a function's answer"
        # Whatever answered, the secret never goes back to the browser.
        return _answer(region, status, message.replace(secret, "…"), started)

    def _secret(self, stack: StackView) -> str | None:
        for region in stack.regions:
            name = stack.functions.get(region)
            if name is None:
                continue
            lam = self.client("lambda", region)
            try:
                config = lam.get_function_configuration(FunctionName=name)
            except lam.exceptions.ResourceNotFoundException:
                self.forget()
                continue
            secret = config.get("Environment", {}).get("Variables", {}).get(SECRET_VARIABLE)
            if secret:
                return str(secret)
        return None

    def _health(self, ref: HealthCheckRef) -> dict[str, Any]:
        route53 = self.client("route53", ROUTE53_REGION)
        try:
            answer = route53.get_health_check_status(HealthCheckId=ref.check_id)
        except route53.exceptions.NoSuchHealthCheck:
            self.forget()
            observations: list[dict[str, Any]] = []
        except ClientError:  # one unread check must not cost the page its /hello answer
            return {**health_summary(ref, []), "healthy": None}  # unknown, not unhealthy
        else:
            observations = answer.get("HealthCheckObservations", [])
        return health_summary(ref, observations)

    # -- clients -------------------------------------------------------------

    def client(self, service: str, region: str) -> Any:
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                self._clients[key] = self._new_client(service, region)
            return self._clients[key]

    def _new_client(self, service: str, region: str) -> Any:
        import boto3
        from botocore.config import Config

        if self._session is None:
            # Fake credentials of our own: the sandbox's environment may hold none.
            self._session = boto3.session.Session(
                aws_access_key_id=INTERNAL_ACCESS_KEY, aws_secret_access_key="testing"
            )
        config = Config(
            proxies={},  # loopback only: never through a proxy from the environment
            retries={"max_attempts": 2, "mode": "standard"},
            connect_timeout=2,
            read_timeout=10,
            user_agent_extra=INTERNAL_AGENT,  # the page watches: no outage switch gates it
        )
        return self._session.client(
            service, region_name=region, endpoint_url=self.endpoint, config=config
        )


def health_summary(ref: HealthCheckRef, observations: list[dict[str, Any]]) -> dict[str, Any]:
    """Healthy or not as Route 53 decides it, from GetHealthCheckStatus's observations."""
    statuses = [str(o.get("StatusReport", {}).get("Status", "")) for o in observations]
    good = sum(1 for status in statuses if status.startswith("Success"))
    healthy = bool(statuses) and good / len(statuses) > HEALTHY_SHARE
    if ref.inverted:
        healthy = not healthy
    if ref.disabled:  # Route 53 counts a disabled check as healthy
        healthy = True
    return {
        "region": ref.region,
        "check_id": ref.check_id,
        "healthy": healthy,
        "healthy_checkers": good,
        "checkers": len(statuses),
    }


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _answer(region: Any, status: int | None, message: str, started: float) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "region": region if isinstance(region, str) and region else None,
        "status": status,
        "message": message,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
