"""force-fail's two mechanisms, and how it picks one when the region is down.

- `function`: FORCE_FAIL=true in the region's function (function_environment.py); needs the
  region's Lambda API.
- `health-check`: the region's Route 53 health check is given a search string no
  answer contains (services/health_check_override.py); needs only Route 53's global
  control plane, so it works when the region itself does not answer.

With `--via auto` (the default) the region's Lambda API gets LAMBDA_WAIT seconds
to answer a read; when it does not, force-fail says so and uses the health check.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from failover_cli.aws.deadlines import READ_ONLY
from failover_cli.aws.outage import Unreachable, answer_within, outage_region
from failover_cli.engine.context import Context
from failover_cli.errors import FailoverError
from failover_cli.ops.function_environment import FlagChange, read_configuration, variables_of
from failover_cli.ops.phase_watch import Watch
from failover_cli.services.health_check_override import (
    OverrideChange,
    check_overridden,
    set_override,
)
from failover_cli.services.health_checks import ROUTE53_REGION, find_health_check

LAMBDA_WAIT = 12.0  # seconds the region's Lambda API gets before force-fail falls back


class Via(StrEnum):
    AUTO = "auto"
    FUNCTION = "function"
    HEALTH_CHECK = "health-check"


@dataclass(frozen=True)
class FunctionRead:
    """The region's function environment, or why it could not be read."""

    variables: dict[str, str] | None
    unreachable: Unreachable | None = None


@dataclass(frozen=True)
class ForceFailReport:
    """What force-fail did: FORCE_FAIL, the health-check override, or both (on restore)."""

    change: FlagChange | None  # FORCE_FAIL; None: not touched
    watch: Watch | None = None  # with --wait
    check: OverrideChange | None = None  # the health-check override; None: not touched

    @property
    def region(self) -> str:
        return self.change.region if self.change else self.check.region if self.check else ""

    @property
    def wanted(self) -> bool:
        return self.change.wanted if self.change else bool(self.check and self.check.wanted)

    @property
    def action(self) -> str:
        return "fail" if self.wanted else "restore"

    @property
    def changed(self) -> bool:
        return bool(self.change and self.change.changed) or bool(self.check and self.check.changed)

    @property
    def via(self) -> str:
        """The mechanisms touched: function, health-check, or function+health-check."""
        parts = (("function", self.change), ("health-check", self.check))
        return "+".join(name for name, part in parts if part is not None)

    def to_json(self) -> dict[str, Any]:
        watched = self.watch
        return {
            "region": self.region,
            "action": self.action,
            "via": self.via,
            "changed": self.changed,
            "previous": self.change.previous if self.change else None,
            "phases": [p.to_json() for p in watched.phases] if watched else [],
            "total_seconds": round(watched.total_seconds, 2) if watched else 0.0,
        }


def read_function_within(ctx: Context, region: str, seconds: float = LAMBDA_WAIT) -> FunctionRead:
    """The function's variables, read with the read-only deadline and a wall time."""
    try:
        configuration = answer_within(
            lambda: read_configuration(ctx, region, READ_ONLY),
            seconds,
            region=region,
            what="its Lambda API",
        )
    except Unreachable as why:
        return FunctionRead(None, why)
    return FunctionRead(variables_of(configuration))


def fallback_hint(region: str) -> str:
    return (
        f"Fail it through its Route 53 health check instead: "
        f"failover force-fail --region {region} --via health-check"
    )


def the_check(ctx: Context, region: str) -> dict[str, Any]:
    """The region's health check, read afresh (an override is written against its version)."""
    check = find_health_check(ctx, region, fresh=True)
    if check is None:
        raise FailoverError(
            f"Stack {ctx.config.stack} has no health check for {region}, so it cannot be "
            "failed through one",
            hint="Deploy the stack with `failover up` first.",
            region=region,
        )
    return check


def check_override_state(ctx: Context, region: str) -> tuple[dict[str, Any] | None, bool | None]:
    """(the check, whether the override is on); (None, None) when Route 53 is out."""
    try:
        check = find_health_check(ctx, region, fresh=True)
    except Exception as error:
        if outage_region(error, default=ROUTE53_REGION) is None:
            raise
        return None, None
    return check, check_overridden(check) if check is not None else False


def write_override(ctx: Context, region: str, wanted: bool) -> OverrideChange:
    r53 = ctx.client("route53", ROUTE53_REGION)
    wanted_search = ctx.config.health_check.search_string
    return set_override(r53, the_check(ctx, region), region, wanted, wanted_search)


def describe_override(change: OverrideChange) -> str:
    if change.wanted:
        return (
            f"The health check of {change.region} ({change.check_id}) now looks for a string "
            "no answer contains: every checker fails it, whatever the region answers."
        )
    return f"The health check of {change.region} ({change.check_id}) has its search string back."


def forced_regions(ctx: Context) -> list[str]:
    """The stack's regions where FORCE_FAIL or the health-check override is on, read
    together (a region that does not answer counts by its health check alone)."""
    from concurrent.futures import ThreadPoolExecutor

    from failover_cli.ops.function_environment import is_force_failed

    def forced(region: str) -> bool:
        read = read_function_within(ctx, region)
        if read.variables is not None and is_force_failed(read.variables):
            return True
        return bool(check_override_state(ctx, region)[1])

    regions = list(ctx.config.regions)
    with ThreadPoolExecutor(max_workers=len(regions)) as pool:
        found = list(pool.map(forced, regions))
    return [r for r, on in zip(regions, found, strict=True) if on]
