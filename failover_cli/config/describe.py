"""A loaded config as plain JSON data and as a short human summary (for `validate`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from failover_cli.config.access_section import describe_access
from failover_cli.config.schema import Config
from failover_cli.errors import ConfigError, FailoverError


def config_to_json(config: Config) -> dict[str, Any]:
    """Every field, defaults included; paths as strings and tuples as lists."""
    return _plain(dataclasses.asdict(config))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value


def problems_to_json(error: FailoverError) -> list[dict[str, Any]]:
    """One object per problem: file, line, key and problem for config errors."""
    located: list[ConfigError] = getattr(error, "problems", None) or (
        [error] if isinstance(error, ConfigError) else []
    )
    if not located:
        return [{"problem": error.render()}]
    return [
        {"file": item.path, "line": item.line, "key": item.key, "problem": item.problem}
        for item in located
    ]


def describe(config: Config, shipped_bundle: Path) -> str:
    """A few aligned lines saying what the config will build."""
    table = config.table
    function = config.function
    health = config.health_check
    regions = ", ".join([f"{config.primary_region} (primary)", *config.regions[1:]])
    capacity = (
        f"provisioned, auto-scaled {table.autoscaling.min}..{table.autoscaling.max} "
        f"at {table.autoscaling.target_percent}%"
        if table.billing == "provisioned"
        else "on-demand"
    )
    source = (
        "the starter bundle shipped with failover"
        if function.source == shipped_bundle
        else str(function.source)
    )
    rows = [
        ("stack", config.stack),
        ("regions", regions),
        ("table", f"{table.name} (key {table.partition_key}, {capacity})"),
        (
            "function",
            f"{function.name} ({function.runtime}, {function.architecture}, "
            f"{function.memory_mb} MB, {function.timeout_s} s timeout, "
            f"{function.deep_ping_percent}% deep pings, {_concurrency(config)})",
        ),
        ("code", source),
        ("api stage", config.api.stage),
        (
            "throttle",
            f"{config.api.throttle.rate} requests/s, bursts of {config.api.throttle.burst} "
            "(API Gateway answers 429 beyond)",
        ),
        ("domain", _domain(config)),
        (
            "health check",
            f"every {health.interval_s} s, down after {health.failure_threshold} failures, "
            f'looks for "{health.search_string}", from {", ".join(health.checker_regions)}',
        ),
        ("alarms", f"e-mail {config.alarms.email}" if config.alarms.email else "no e-mail"),
        ("logs", f"kept {config.logs.retention_days} day(s)"),
        ("tags", ", ".join(f"{k}={v}" for k, v in config.tags.items()) or "ownership tags only"),
        ("access", describe_access(config.access)),
        ("iam", _boundary(config)),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{config.path} is valid (checked offline; no AWS call made)."]
    lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    return "\n".join(lines)


def _boundary(config: Config) -> str:
    arn = config.iam.permissions_boundary
    return f"every role carries the boundary {arn}" if arn else "no permissions boundary"


def _concurrency(config: Config) -> str:
    reserved = config.function.reserved_concurrency
    return "no reserved concurrency" if reserved is None else f"{reserved} reserved concurrency"


def _domain(config: Config) -> str:
    domain = config.domain
    if domain is None:
        return "no domain (the API is reached at its execute-api URL)"
    path = f"/{domain.base_path}" if domain.base_path else "/ (no base path)"
    return (
        f"{domain.name} in zone {domain.hosted_zone}, {domain.routing} routing, "
        f"base path {path}, TTL {domain.ttl} s"
    )
