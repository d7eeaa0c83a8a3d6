"""`rotate-secret`: a new health-checker secret with no moment where a health check fails.

1. Every function accepts both secrets: HEALTH_CHECKER_ID_NEXT=<new> merged into
   its environment (the function honours it next to HEALTH_CHECKER_ID).
2. Every health check probes `?healthCheckerId=<new>` (UpdateHealthCheck, with
   every other changeable setting resent as it was): each region's probe and the
   switch readers probing its function (`/health/switch/<R>`, same secret).
3. Wait until every checker has moved to the new path (rotate_watch.py).
4. Every function keeps only the new one: HEALTH_CHECKER_ID=<new>, _NEXT removed.

Re-runnable after an interruption anywhere: AWS says where it stopped. A
HEALTH_CHECKER_ID_NEXT on any function is the secret being rotated to — a new
one is never made while one is pending, so a resumed run converges to that one
secret (preferring the one the checks already use). Each step skips what is
already done. Afterwards `up` reads the secret back from HEALTH_CHECKER_ID and
finds the path it wants, so `plan` has nothing to change. Secrets are shown
masked only, and the report holds nothing else.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from failover_cli.aws.errors import error_code
from failover_cli.aws.retry import Backoff, retry
from failover_cli.engine.context import Context
from failover_cli.engine.secret import (
    NEXT_SECRET_VARIABLE,
    SECRET_VARIABLE,
    fingerprint,
    mask,
    new_secret,
)
from failover_cli.ops.fanout import per_region
from failover_cli.ops.function_environment import edit_environment, variables_of, wait_for_update
from failover_cli.ops.phase_watch import Say
from failover_cli.ops.rotate_watch import (
    POLL_SECONDS,
    CheckerWatch,
    await_new_path,
    server_time,
    succeeding,
)
from failover_cli.resources.health_check import health_path
from failover_cli.services.check_status import STATUS_READ_BUDGET, read_status
from failover_cli.services.health_checks import (
    ROUTE53_REGION,
    SECRET_PARAMETER,
    owned_health_checks,
)

DEFAULT_TIMEOUT = 900.0  # step 3; a 30 s interval x threshold 10 alone needs 330 s
Edit = Callable[[dict[str, str]], dict[str, str] | None]
# What UpdateHealthCheck can change; resent as they are (moto drops Regions otherwise).
_CHANGEABLE = (
    "IPAddress",
    "Port",
    "ResourcePath",
    "FullyQualifiedDomainName",
    "SearchString",
    "FailureThreshold",
    "Inverted",
    "Disabled",
    "EnableSNI",
    "Regions",
)
RESUME_HINT = (
    "Both secrets are still accepted, so no health check fails meanwhile; re-run "
    "`failover rotate-secret` to resume with the same new secret."
)


def _silent(_message: str) -> None:
    pass


def choose_secret(
    variables: dict[str, dict[str, str]],
    regions: list[str],
    check_secrets: set[str],
    make: Callable[[], str] = new_secret,
) -> tuple[str, bool]:
    """(the secret to rotate to, whether an interrupted rotation is being resumed)."""
    pending = [
        variables[r][NEXT_SECRET_VARIABLE]
        for r in regions
        if variables[r].get(NEXT_SECRET_VARIABLE)
    ]
    if not pending:
        return make(), False
    # Checks already moved (step 2 ran) decide; otherwise the primary's value wins.
    return next((s for s in pending if s in check_secrets), pending[0]), True


def accepting(new: str) -> Edit:
    """Step 1 for one function: also accept `new`, everything else as it is."""

    def edit(variables: dict[str, str]) -> dict[str, str] | None:
        if new in (variables.get(SECRET_VARIABLE), variables.get(NEXT_SECRET_VARIABLE)):
            return None
        return {**variables, NEXT_SECRET_VARIABLE: new}

    return edit


def promoting(new: str) -> Edit:
    """Step 4 for one function: accept `new` only, everything else as it is."""

    def edit(variables: dict[str, str]) -> dict[str, str] | None:
        if variables.get(SECRET_VARIABLE) == new and NEXT_SECRET_VARIABLE not in variables:
            return None
        kept = {k: v for k, v in variables.items() if k != NEXT_SECRET_VARIABLE}
        return {**kept, SECRET_VARIABLE: new}

    return edit


def secret_in_path(path: str) -> str | None:
    query = urllib.parse.urlsplit(path).query
    values = urllib.parse.parse_qs(query, keep_blank_values=True).get(SECRET_PARAMETER)
    return values[0] if values else None


def path_with_secret(path: str, secret: str, stage: str) -> str:
    """`path` with only its secret replaced (the stack's path when it has none)."""
    parts = urllib.parse.urlsplit(path)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if not any(k == SECRET_PARAMETER for k, _ in query):
        return health_path(stage, secret)
    query = [(k, secret if k == SECRET_PARAMETER else v) for k, v in query]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


@dataclass(frozen=True)
class CheckSwitch:
    region: str
    check_id: str
    switched: bool  # False: it already probed the new path


@dataclass(frozen=True)
class RotationReport:
    stack: str
    old: str | None  # masked; None when every function already had the new one
    new: str  # masked
    old_fingerprint: str | None  # fingerprint(): says it changed, reveals nothing
    new_fingerprint: str
    resumed: bool
    accepted: dict[str, bool]  # region -> step 1 wrote
    checks: tuple[CheckSwitch, ...]
    observed_seconds: float | None  # step 3; None without health checks
    promoted: dict[str, bool]  # region -> step 4 wrote

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "old_secret": self.old,
            "new_secret": self.new,
            "old_fingerprint": self.old_fingerprint,
            "new_fingerprint": self.new_fingerprint,
            "resumed": self.resumed,
            "functions": [
                {"region": r, "accepted_both": self.accepted[r], "promoted": self.promoted[r]}
                for r in self.accepted
            ],
            "health_checks": [
                {"region": c.region, "id": c.check_id, "switched": c.switched} for c in self.checks
            ],
            "observed_seconds": (
                None if self.observed_seconds is None else round(self.observed_seconds, 2)
            ),
        }


@dataclass(frozen=True)
class Found:
    """The state before anything is written, and what it means for this run."""

    variables: dict[str, dict[str, str]]  # region -> function environment
    checks: dict[str, list[dict[str, Any]]]  # region -> owned health checks
    new: str
    resumed: bool
    old: str | None  # the primary's current secret first; None when all have the new one


def detect(ctx: Context, make_secret: Callable[[], str] = new_secret) -> Found:
    """Read every function and check; a missing function stops here, before any change."""
    regions = list(ctx.config.regions)
    variables = per_region(
        regions, lambda r: variables_of(wait_for_update(ctx, r)), service="lambda"
    )
    checks = {r: _checks_probing(ctx, r) for r in regions}
    paths = [c["HealthCheckConfig"].get("ResourcePath", "") for r in regions for c in checks[r]]
    on_checks = {s for s in map(secret_in_path, paths) if s}
    new, resumed = choose_secret(variables, regions, on_checks, make_secret)
    currents = [variables[r].get(SECRET_VARIABLE) for r in regions]
    old = next((c for c in currents if c and c != new), None)
    return Found(variables, checks, new, resumed, old)


def _checks_probing(ctx: Context, region: str) -> list[dict[str, Any]]:
    """The owned checks that probe `region`'s API with the secret: its own probe and the
    switch readers it hosts (which read there whether another region is forced out). A
    reader on a path the function refuses answers without the marker: no objection, so
    switching readers can never take a region out."""
    stack = ctx.config.stack
    readers = [
        ctx.config.reader_check_name(other, region).removeprefix(f"{stack}-")
        for other in ctx.config.regions
        if other != region
    ]
    return [c for key in (region, *readers) for c in owned_health_checks(ctx, key)]


def rotate_secret(
    ctx: Context,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    say: Say = _silent,
    make_secret: Callable[[], str] = new_secret,
    poll: float = POLL_SECONDS,
    wall: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RotationReport:
    config = ctx.config
    regions = list(config.regions)
    found = detect(ctx, make_secret)
    new, old, checks = found.new, found.old, found.checks
    if found.resumed:
        say(f"Resuming the rotation to {mask(new)} found in {NEXT_SECRET_VARIABLE}.")
    else:
        shown = mask(old) if old else "(none)"
        say(f"Rotating the health-checker secret of stack {config.stack}: {shown} → {mask(new)}.")

    say("1/4 Functions accept both the old and the new secret…")
    accepted = per_region(
        regions,
        lambda r: edit_environment(ctx, r, accepting(new)).changed,
        service="lambda",
        on_interrupt=ctx.clock.cancel,  # Ctrl-C: no write after the one in flight
    )
    say("    " + _where(accepted))

    switches: list[CheckSwitch] = []
    watches: list[CheckerWatch] = []
    observed: float | None = None
    if not any(checks.values()):
        say("2/4 No health checks found: nothing probes with the secret, steps 2 and 3 skipped.")
    else:
        say("2/4 Health checks switch to the new secret…")
        for region in regions:
            for check in checks[region]:
                switch, watch = _switch_check(ctx, region, check["Id"], new, wall)
                switches.append(switch)
                if watch is not None:
                    watches.append(watch)
        say(
            "    "
            + ", ".join(
                f"{s.region} {'switched' if s.switched else 'already on it'}" for s in switches
            )
        )
        say("3/4 Waiting until every checker has probed the new path successfully…")
        observed = await_new_path(ctx, watches, timeout=timeout, poll=poll, hint=RESUME_HINT)
        say(f"    seen after {observed:.1f}s")

    say("4/4 Functions keep only the new secret…")
    promoted = per_region(
        regions,
        lambda r: edit_environment(ctx, r, promoting(new)).changed,
        service="lambda",
        on_interrupt=ctx.clock.cancel,  # Ctrl-C: no write after the one in flight
    )
    say("    " + _where(promoted))
    return RotationReport(
        config.stack,
        mask(old) if old else None,
        mask(new),
        fingerprint(old) if old else None,
        fingerprint(new),
        found.resumed,
        accepted,
        tuple(switches),
        observed,
        promoted,
    )


def _where(written: dict[str, bool]) -> str:
    return ", ".join(f"{r} {'updated' if w else 'already done'}" for r, w in written.items())


def _switch_check(
    ctx: Context, region: str, check_id: str, new: str, wall: Callable[[], datetime]
) -> tuple[CheckSwitch, CheckerWatch | None]:
    """Step 2 for one check, and what step 3 must watch (None: a disabled check, never probed)."""
    r53 = ctx.client("route53", ROUTE53_REGION)
    before = read_status(ctx, check_id, budget=STATUS_READ_BUDGET)

    def write() -> tuple[dict[str, Any], dict[str, Any] | None]:
        check = r53.get_health_check(HealthCheckId=check_id)["HealthCheck"]
        settings = check["HealthCheckConfig"]
        path = settings.get("ResourcePath", "")
        if secret_in_path(path) == new:
            return settings, None
        update = {k: settings[k] for k in _CHANGEABLE if settings.get(k) is not None}
        update["ResourcePath"] = path_with_secret(path, new, ctx.config.api.stage)
        if check.get("HealthCheckVersion") is not None:
            update["HealthCheckVersion"] = check["HealthCheckVersion"]  # refuse a stale write
        answer: dict[str, Any] = r53.update_health_check(HealthCheckId=check_id, **update)
        return settings, answer

    def raced(error: Exception) -> bool:
        return error_code(error) == "HealthCheckVersionMismatch"

    settings, answer = retry(
        write, retryable=raced, backoff=Backoff(first=0.5, budget=60.0), clock=ctx.clock
    )
    switch = CheckSwitch(region, check_id, answer is not None)
    if settings.get("Disabled"):
        return switch, None
    # Already switched by an earlier run: count from now, which is later than that switch.
    switched_at = server_time(answer or before, wall)
    watch = CheckerWatch(
        check_id,
        region,
        switched_at,
        int(settings.get("RequestInterval") or ctx.config.health_check.interval_s),
        int(settings.get("FailureThreshold") or ctx.config.health_check.failure_threshold),
        succeeding(before),
    )
    return switch, watch
