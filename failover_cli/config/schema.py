"""The config as typed, frozen data. Defaults here are the documented defaults (SPEC §3).

Loading and validation live in `loader.py`; nothing here touches files or AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Billing = Literal["provisioned", "on-demand"]
Routing = Literal["latency", "failover"]


@dataclass(frozen=True)
class Autoscaling:
    min: int = 1
    max: int = 10
    target_percent: int = 50


@dataclass(frozen=True)
class TableConfig:
    name: str = "prod.Hello"
    partition_key: str = "HelloKey"
    billing: Billing = "provisioned"
    autoscaling: Autoscaling = field(default_factory=Autoscaling)
    seed_item: dict[str, str] = field(
        default_factory=lambda: {"HelloKey": "Hello", "Hello": "Deep hello from "}
    )


@dataclass(frozen=True)
class FunctionConfig:
    name: str = "thelambda"
    runtime: str = "python3.13"
    architecture: Literal["arm64", "x86_64"] = "arm64"
    memory_mb: int = 128
    timeout_s: int = 5
    source: Path = Path("lambda_bundle")  # resolved against the config file's folder
    deep_ping_percent: int = 10
    environment: dict[str, str] = field(default_factory=dict)
    reserved_concurrency: int | None = None  # None: share the account's unreserved pool


@dataclass(frozen=True)
class Throttle:
    """The stage's default method throttling: steady requests per second, and the burst."""

    rate: int = 50
    burst: int = 100


@dataclass(frozen=True)
class ApiConfig:
    stage: str = "prod"
    throttle: Throttle = field(default_factory=Throttle)


@dataclass(frozen=True)
class DomainConfig:
    name: str
    hosted_zone: str
    base_path: str = "v1"
    routing: Routing = "latency"
    ttl: int = 60


@dataclass(frozen=True)
class HealthCheckConfig:
    interval_s: int = 10
    failure_threshold: int = 2
    search_string: str = "hello from"
    checker_regions: tuple[str, ...] = ("us-east-1", "us-west-1", "us-west-2")


@dataclass(frozen=True)
class SwitchConfig:
    """How Route 53's switch readers probe (SPEC §3 `switch:`): a forced failover takes
    about interval_s x failure_threshold plus replication."""

    interval_s: int = 30
    failure_threshold: int = 1


@dataclass(frozen=True)
class AlarmsConfig:
    email: str | None = None


@dataclass(frozen=True)
class LogsConfig:
    retention_days: int = 1


@dataclass(frozen=True)
class IamConfig:
    # A managed policy's ARN every role the stack creates carries; `iam-policy` then lets
    # the operator create and change roles only with it (no escalation through them).
    permissions_boundary: str | None = None


CHECKERS_KEYWORD = "route53-health-checkers"
AccessRoutes = Literal["health", "all"]


@dataclass(frozen=True)
class AccessConfig:
    """The IP allow-list in front of the API (absent: the shared secret only)."""

    allow: tuple[str, ...]  # CHECKERS_KEYWORD and/or CIDRs (normalised, e.g. 198.51.100.7/32)
    routes: AccessRoutes = "health"  # health: /health only; all: every route
    auto_refresh: bool = False

    @property
    def checkers(self) -> bool:
        return CHECKERS_KEYWORD in self.allow

    @property
    def cidrs(self) -> tuple[str, ...]:
        """The operator's own CIDRs (everything but the keyword)."""
        return tuple(entry for entry in self.allow if entry != CHECKERS_KEYWORD)


@dataclass(frozen=True)
class DeployConfig:
    """How a release rolls: one region at a time in `order`, each gated for `bake_s`."""

    order: tuple[str, ...] = ()  # empty: the default order (ops/release_waves.py)
    bake_s: float = 120.0  # the Route 53 check must stay healthy this long per wave
    canary_percent: int = 0  # 1..50: each wave routes this share to the release first; 0: none


@dataclass(frozen=True)
class Config:
    stack: str
    regions: tuple[str, ...]
    table: TableConfig = field(default_factory=TableConfig)
    function: FunctionConfig = field(default_factory=FunctionConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    domain: DomainConfig | None = None
    health_check: HealthCheckConfig = field(default_factory=HealthCheckConfig)
    alarms: AlarmsConfig = field(default_factory=AlarmsConfig)
    logs: LogsConfig = field(default_factory=LogsConfig)
    tags: dict[str, str] = field(default_factory=dict)
    access: AccessConfig | None = None
    iam: IamConfig = field(default_factory=IamConfig)
    switch: SwitchConfig = field(default_factory=SwitchConfig)
    deploy: DeployConfig = field(default_factory=DeployConfig)
    path: Path = Path("failover.yaml")  # where it was loaded from

    @property
    def primary_region(self) -> str:
        return self.regions[0]

    @property
    def role_name(self) -> str:
        return f"{self.stack}-function"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function.name}"

    @property
    def api_name(self) -> str:
        return self.stack

    def health_check_name(self, region: str) -> str:
        return f"{self.stack}-{region}"

    def region_check_name(self, region: str) -> str:
        """The CALCULATED check of `region` (its probe AND its switch readers)."""
        return f"{self.stack}-{region}-switched"

    def reader_check_name(self, region: str, reader: str) -> str:
        """The check probing `reader`'s function for whether `region` is forced out."""
        return f"{self.stack}-{region}-read-in-{reader}"

    @property
    def topic_name(self) -> str:
        return f"{self.stack}-alarms"

    def alarm_name(self, region: str) -> str:
        return f"{self.stack}-{region}-health"

    def ownership_tags(self) -> dict[str, str]:
        """User tags plus the two ownership tags (which always win)."""
        return {**self.tags, STACK_TAG: self.stack, MANAGED_BY_TAG: MANAGED_BY_VALUE}


STACK_TAG = "failover:stack"
MANAGED_BY_TAG = "failover:managed-by"
MANAGED_BY_VALUE = "failover"
