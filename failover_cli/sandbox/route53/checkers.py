"""Route 53 health checkers: every health check in moto is really probed.

One checker per checker region of each check runs on the check's
RequestInterval (emulated seconds, so divided by the time scale) from the
scheduler; the probe itself (probe.py) runs on a small thread pool so
the scheduler never waits on HTTP. Results go to `context.health`
(health_state.py), which applies the failure threshold and the 18% rule.

The checks are re-read from moto right after any health-check call through
the layer and, as a safety net, every RESCAN_SECONDS: created, updated and
deleted checks are picked up either way.
"""

from __future__ import annotations

import functools
import logging
import random
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.execute_api_hosts import execute_api_host
from failover_cli.sandbox.health_state import CheckRules, HealthState, Observation
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response
from failover_cli.sandbox.route53.probe import (
    PROBED_TYPES,
    UNREACHABLE,
    ProbeResult,
    Target,
    probe,
)
from failover_cli.sandbox.scheduler import Job
from failover_cli.sandbox.stop_hooks import on_stop

log = logging.getLogger(__name__)

# Route 53's checker regions, used when a check names none (as Route 53 does).
DEFAULT_REGIONS = (
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
)
RESCAN_SECONDS = 10.0  # emulated; changes made through the layer are seen at once anyway
FIRST_PROBE_WITHIN = 2.0  # emulated seconds: new checks are probed almost at once
PROBE_THREADS = 8
_LOCALHOST = re.compile(r"(^|\.)localhost$")
_HEALTH_CHECK_PATH = re.compile(r"^/2013-04-01/healthcheck(/[^/]+)?/?$")


@dataclass(frozen=True)
class CheckConfig:
    """One health check as read from moto: how to probe it and how to judge it."""

    check_id: str
    target: Target
    interval: float
    rules: CheckRules

    @property
    def probed(self) -> bool:
        # CALCULATED, CLOUDWATCH_METRIC and RECOVERY_CONTROL checks have no endpoint.
        return self.target.type in PROBED_TYPES and not self.rules.disabled


def install(context: SandboxContext) -> None:
    checkers = HealthCheckers(context)
    context.layer.add(HealthCheckChanges(checkers))
    context.scheduler.call_every(RESCAN_SECONDS, checkers.sync, first_after=0)
    on_stop(context, checkers.close)


class HealthCheckChanges(Interceptor):
    """Re-reads the checks as soon as a create, update or delete succeeded."""

    def __init__(self, checkers: HealthCheckers):
        self.checkers = checkers

    def wants(self, request: AwsRequest) -> bool:
        return (
            request.service == "route53"
            and request.method in ("POST", "DELETE")
            and _HEALTH_CHECK_PATH.match(request.path) is not None
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        response = forward(request)
        if response.status < 300:
            self.checkers.sync()
        return response


class HealthCheckers:
    """The checkers of every check, kept in line with moto's health checks."""

    def __init__(
        self,
        context: SandboxContext,
        *,
        read_checks: Callable[[], Iterable[CheckConfig]] | None = None,
        run_probe: Callable[[Target, str], ProbeResult] | None = None,
    ):
        self.context = context
        self.state: HealthState = context.health
        self._read_checks = read_checks or read_moto_checks
        self._run_probe = run_probe or self._probe_target
        self._lock = threading.Lock()
        self._configs: dict[str, CheckConfig] = {}
        self._jobs: dict[tuple[str, str], Job] = {}
        self._busy: set[tuple[str, str]] = set()
        self._pool = ThreadPoolExecutor(PROBE_THREADS, thread_name_prefix="sandbox-health")
        endpoint = urlsplit(context.endpoint)
        self._sandbox = (endpoint.hostname or "127.0.0.1", endpoint.port or 80)

    def sync(self) -> None:
        """Start, re-configure and stop checkers to match the checks that exist now."""
        with self._lock:  # read under the lock too: an older read must not be applied last
            checks = {c.check_id: c for c in self._read_checks()}
            for check_id in set(self._configs) - set(checks):
                self._stop(check_id, keep=())
                del self._configs[check_id]
            self.state.forget_all_but(checks)
            for check_id, config in checks.items():
                previous = self._configs.get(check_id)
                if previous == config:
                    continue
                self._configs[check_id] = config
                self.state.track(check_id, config.rules)
                regions = config.rules.regions if config.probed else ()
                if previous is not None and previous.interval != config.interval:
                    self._stop(check_id, keep=())
                else:
                    self._stop(check_id, keep=regions)
                for region in regions:
                    if (check_id, region) not in self._jobs:
                        self._jobs[(check_id, region)] = self.context.scheduler.call_every(
                            config.interval,
                            functools.partial(self._due, check_id, region),
                            first_after=random.uniform(0, FIRST_PROBE_WITHIN),
                        )

    def close(self) -> None:
        """Stop every checker and let the pool's threads end (probes running finish first)."""
        with self._lock:
            for job in self._jobs.values():
                job.cancel()
            self._jobs.clear()
            self._configs.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _stop(self, check_id: str, keep: Iterable[str]) -> None:
        """Cancel the check's checker jobs except those of the regions in `keep`."""
        kept = set(keep)
        for key in [k for k in self._jobs if k[0] == check_id and k[1] not in kept]:
            self._jobs.pop(key).cancel()

    def _due(self, check_id: str, region: str) -> None:
        """On the scheduler thread: hand the probe to the pool, unless one is still running."""
        key = (check_id, region)
        with self._lock:
            config = self._configs.get(check_id)
            if config is None or not config.probed or key in self._busy:
                return  # a slow probe still running: this beat is skipped
            self._busy.add(key)
        try:
            self._pool.submit(self._check, config, region)
        except RuntimeError:  # the pool is shut down: the process is exiting
            with self._lock:
                self._busy.discard(key)

    def _check(self, config: CheckConfig, region: str) -> None:
        try:
            # The checker calls from an address inside its region's published ranges.
            address = self.context.ip_ranges.checker_address(region)
            result = self._run_probe(config.target, address)
            self.state.record(
                config.check_id,
                Observation(
                    region=region,
                    ip_address=address,
                    status=result.status,
                    checked_at=datetime.now(UTC),
                    success=result.success,
                ),
            )
        except Exception:
            log.exception("health checker %s in %s failed", config.check_id, region)
        finally:
            with self._lock:
                self._busy.discard((config.check_id, region))

    def _probe_target(self, target: Target, address: str) -> ProbeResult:
        region = execute_api_region(target.fqdn or "")
        if region and self.context.outages.data_plane_down(region):
            # The region's data plane is down (outage switch): Route 53 cannot
            # connect. Answered at once, so a dead region never ties up the pool.
            return ProbeResult(False, UNREACHABLE)
        return probe(
            target, self._sandbox, serves_host, self.context.layer.dispatch, source_ip=address
        )


def serves_host(host: str) -> bool:
    """Whether a request for `host` is answered by the sandbox (and not the internet)."""
    return is_sandbox_host(host) or host in custom_domain_names()


def execute_api_region(host: str) -> str | None:
    """The region of a REST API host (`<id>.execute-api.<region>.amazonaws.com`), else None."""
    found = execute_api_host(host.rstrip(".").lower())
    return found.region if found else None


def is_sandbox_host(host: str) -> bool:
    """REST API hosts, regional domain names and *.localhost: the sandbox's by their name."""
    # REST API hosts and regional domain names (execute_api_hosts), and *.localhost.
    return execute_api_host(host) is not None or _LOCALHOST.search(host) is not None


def custom_domain_names() -> set[str]:
    """The API Gateway custom domain names of every account and region."""
    from moto.apigateway.models import apigateway_backends

    names: set[str] = set()
    for regions in list(apigateway_backends.values()):
        for backend in list(regions.values()):
            names.update(str(name).lower() for name in list(backend.domain_names))
    return names


def read_moto_checks() -> list[CheckConfig]:
    """Every health check moto holds, in any account."""
    from moto.route53.models import route53_backends

    configs: list[CheckConfig] = []
    for partitions in list(route53_backends.values()):
        for backend in list(partitions.values()):
            configs.extend(_config(check) for check in list(backend.health_checks.values()))
    return configs


def _config(check: Any) -> CheckConfig:
    check_type = str(check.type_ or "").upper()
    target = Target(
        type=check_type,
        fqdn=check.fqdn or None,
        ip_address=check.ip_address or None,
        port=int(check.port or (443 if check_type.startswith("HTTPS") else 80)),
        resource_path=check.resource_path or None,
        search_string=check.search_string,
    )
    rules = CheckRules(
        regions=tuple(check.regions or DEFAULT_REGIONS),
        failure_threshold=int(check.failure_threshold or 3),
        inverted=_flag(check.inverted),
        disabled=_flag(check.disabled),
    )
    return CheckConfig(str(check.id), target, float(check.request_interval or 30), rules)


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
