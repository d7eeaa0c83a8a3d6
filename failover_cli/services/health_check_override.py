"""force-fail's health-check override: a search string that no answer of the function contains.

When a region's Lambda API does not answer, FORCE_FAIL cannot be written there.
Route 53's control plane is global, so the region's health check can still be
made unable to pass: its `SearchString` becomes `MARKER + original`. Every
answer of the function is JSON whose messages never hold the marker, so every
checker reports a failure, the check turns unhealthy within interval x
threshold and DNS moves away, whatever state the region itself is in.

Why not `Inverted`: an inverted check reports healthy when the target fails, so a
region that is really broken would be routed to. Why not `Disabled`: Route 53
treats a disabled check as healthy.

The override is recognisable from AWS state alone (there is no state file): the
marker prefix says it is in place, and the rest of the string is the original
search string, which `--restore` puts back. A tag (`failover:override`) says when
and by what it was set, for people reading the console. Route 53 takes search
strings of up to 255 characters: an original too long to keep whole after the
marker is restored from the config instead.
https://docs.aws.amazon.com/Route53/latest/APIReference/API_UpdateHealthCheck.html
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from failover_cli.services.health_checks import update_versioned

MARKER = "failover-force-fail:"  # no answer of the function contains it (a JSON body)
MAX_SEARCH = 255  # Route 53's limit on SearchString
TAG = "failover:override"
OVERRIDE_OUTPUT = "check_override"  # ctx.outputs key prefix: the regions where `up` saw one


def noted_overrides(outputs: dict[str, Any], regions: list[str]) -> list[str]:
    """The regions whose health check carried the override when observed."""
    return [r for r in regions if outputs.get(f"{OVERRIDE_OUTPUT}:{r}")]


def is_overridden(search_string: str | None) -> bool:
    return bool(search_string) and str(search_string).startswith(MARKER)


def overridden(original: str) -> str:
    """The search string that no answer contains, carrying the original when it fits."""
    return (MARKER + original)[:MAX_SEARCH]


def original_of(search_string: str, fallback: str) -> str:
    """The search string to put back: the one carried after the marker, if whole."""
    if not is_overridden(search_string):
        return search_string
    carried = search_string[len(MARKER) :]
    whole = len(search_string) < MAX_SEARCH
    return carried if carried and whole else fallback


def check_overridden(check: dict[str, Any] | None) -> bool:
    """Whether a ListHealthChecks item carries the override."""
    config = (check or {}).get("HealthCheckConfig") or {}
    return is_overridden(config.get("SearchString"))


@dataclass(frozen=True)
class OverrideChange:
    region: str
    check_id: str
    wanted: bool  # True: the override is in place; False: removed
    changed: bool


def set_override(
    r53: Any, check: dict[str, Any], region: str, wanted: bool, config_search: str
) -> OverrideChange:
    """Put the override on `check` (or take it off); idempotent, one UpdateHealthCheck.

    Only SearchString changes (with HealthCheckVersion, so a concurrent edit is not
    overwritten); Route 53 keeps every other setting. Regions are resent because
    some emulators drop them from an update that leaves them out.
    """
    check_id = str(check["Id"])
    cfg = check.get("HealthCheckConfig") or {}
    current = str(cfg.get("SearchString") or "")
    if is_overridden(current) == wanted:
        return OverrideChange(region, check_id, wanted, False)
    search = overridden(current) if wanted else original_of(current, config_search)
    update: dict[str, Any] = {"SearchString": search}
    if cfg.get("Regions"):
        update["Regions"] = list(cfg["Regions"])
    update_versioned(r53, check_id, check.get("HealthCheckVersion"), **update)
    if wanted:
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        tags = [{"Key": TAG, "Value": f"force-fail {when}"}]
        r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id, AddTags=tags)
    else:
        r53.change_tags_for_resource(
            ResourceType="healthcheck", ResourceId=check_id, RemoveTagKeys=[TAG]
        )
    return OverrideChange(region, check_id, wanted, True)
