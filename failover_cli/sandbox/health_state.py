"""What the sandbox's Route 53 health checkers currently think, for any feature to read.

`HealthState` lives on the `SandboxContext` (`context.health`). The checkers
(route53/checkers.py) write to it; GetHealthCheckStatus, DNS answers and the
HealthCheckStatus metric read it:

    context.health.is_healthy(check_id)    # the check's status as Route 53 uses it
    context.health.observations(check_id)  # each checker's last report

Per checker (one per checker region) the status flips only after
FailureThreshold consecutive results the other way, as on Route 53. A check is
healthy while more than 18% of its checkers say so; `Disabled` counts as
healthy and `Inverted` flips the result.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

HEALTHY_SHARE = 0.18  # Route 53: healthy while MORE than 18% of checkers report healthy


@dataclass(frozen=True)
class Observation:
    """One checker's last report, as GetHealthCheckStatus shows it."""

    region: str
    ip_address: str
    status: str  # "Success: HTTP Status Code 200, OK" / "Failure: ..."
    checked_at: datetime
    success: bool


@dataclass(frozen=True)
class CheckRules:
    """The settings of a check that decide its status (not how to probe it)."""

    regions: tuple[str, ...]
    failure_threshold: int = 3
    inverted: bool = False
    disabled: bool = False


@dataclass
class _Checker:
    # Route 53 treats a new check as healthy until its checkers prove otherwise.
    healthy: bool = True
    streak: int = 0  # consecutive results disagreeing with `healthy`
    last: Observation | None = None


@dataclass
class _Check:
    rules: CheckRules
    checkers: dict[str, _Checker] = field(default_factory=dict)


class HealthState:
    """Thread-safe: checkers report from a thread pool while requests read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checks: dict[str, _Check] = {}

    # -- reading (other features) -------------------------------------------

    def is_healthy(self, check_id: str) -> bool:
        """Route 53's status of the check; a check not (yet) known counts as healthy."""
        with self._lock:
            check = self._checks.get(check_id)
            if check is None:
                return True
            rules = check.rules
            if rules.disabled:
                healthy = True  # Route 53 stops checking and considers it healthy
            else:
                votes = [c.healthy for c in check.checkers.values()]
                healthy = not votes or sum(votes) / len(votes) > HEALTHY_SHARE
            return healthy != rules.inverted

    def observations(self, check_id: str) -> list[Observation]:
        """Each checker's last report (checkers that have not reported yet are left out)."""
        with self._lock:
            check = self._checks.get(check_id)
            if check is None:
                return []
            return [c.last for c in check.checkers.values() if c.last is not None]

    def checker_status(self, check_id: str) -> dict[str, bool]:
        """Region -> that checker's current (thresholded, not inverted) verdict."""
        with self._lock:
            check = self._checks.get(check_id)
            return {r: c.healthy for r, c in check.checkers.items()} if check else {}

    def check_ids(self) -> list[str]:
        with self._lock:
            return list(self._checks)

    # -- writing (the checkers) ------------------------------------------------

    def track(self, check_id: str, rules: CheckRules) -> None:
        """Add a check or apply changed settings; checkers of dropped regions are forgotten."""
        with self._lock:
            check = self._checks.setdefault(check_id, _Check(rules))
            check.rules = rules
            for region in rules.regions:
                check.checkers.setdefault(region, _Checker())
            for region in list(check.checkers):
                if region not in rules.regions:
                    del check.checkers[region]

    def forget(self, check_id: str) -> None:
        with self._lock:
            self._checks.pop(check_id, None)

    def forget_all_but(self, check_ids: Iterable[str]) -> None:
        keep = set(check_ids)
        with self._lock:
            for check_id in list(self._checks):
                if check_id not in keep:
                    del self._checks[check_id]

    def record(self, check_id: str, observation: Observation) -> None:
        """One probe's result; the checker flips after FailureThreshold results in a row."""
        with self._lock:
            check = self._checks.get(check_id)
            checker = check.checkers.get(observation.region) if check else None
            if check is None or checker is None:
                return  # deleted or re-configured while the probe ran
            checker.last = observation
            if observation.success == checker.healthy:
                checker.streak = 0
                return
            checker.streak += 1
            if checker.streak >= max(1, check.rules.failure_threshold):
                checker.healthy, checker.streak = observation.success, 0
