"""Finding the stack's Route 53 health checks, and the Route 53 facts their users share.

The health check handler, its replacement (`health_check_swap`), the alarm, the
records and the operations (status, rotate-secret) all need to find "the check of
region R"; they import it from here, so none of them imports another handler and the
alarm and the health check do not depend on each other.

A check is the stack's when tagged `Name=<stack>-<R>` plus the ownership tags, or when
it has no tags at all and its CallerReference starts with `<stack>:<R>:` (a create
interrupted before its tagging). Every item returned holds the secret in its
ResourcePath: never print one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from failover_cli.aws.tags import is_owned, tag_dict
from failover_cli.engine.context import Context
from failover_cli.engine.model import Spec

KIND = "health_check"
ROUTE53_REGION = "us-east-1"  # Route 53 is global; its API answers in us-east-1
CHECK_TYPE = "HTTPS_STR_MATCH"
NAME_TAG = "Name"
SECRET_PARAMETER = "healthCheckerId"
HEALTHY_SHARE = 0.18  # Route 53 calls a check healthy above this share of healthy checkers
_LIST_KEY = "route53:health_checks"  # memo key of the tagged listing
_TAG_BATCH = 10  # ListTagsForResources takes at most 10 ids

Tagged = tuple[dict[str, Any], dict[str, str]]  # (ListHealthChecks item, its tags)


def find_health_check(ctx: Context, region: str, *, fresh: bool = False) -> dict[str, Any] | None:
    """The stack's health check in `region` (a ListHealthChecks item), or None.

    With two owned checks (an interrupted replacement) the one matching the
    config wins. The item holds the secret in its ResourcePath: never print it.
    Planning shares one listing per run; `fresh=True` (while applying) reads again.
    """
    return pick(ctx, candidates(ctx, region, fresh)[0])


def routed_check_id(ctx: Context, region: str, *, fresh: bool = False) -> str | None:
    """The id of the check region R's record and alarm use: its CALCULATED check (probe AND
    switch readers), the freshest `up` has learnt, or None before `up` made it."""
    key = ctx.config.region_check_name(region).removeprefix(f"{ctx.config.stack}-")
    known = ctx.outputs.get(f"health_check_id:{key}")
    if known:
        return str(known)
    found = find_health_check(ctx, key, fresh=fresh)
    return str(found["Id"]) if found else None


def owned_health_checks(ctx: Context, region: str, *, fresh: bool = False) -> list[dict[str, Any]]:
    """Every check the stack owns in `region` (two after an interrupted replacement), as
    ListHealthChecks items; `rotate-secret` must move all of them. They hold the secret."""
    return [check for check, _ in candidates(ctx, region, fresh)[0]]


def candidates(ctx: Context, region: str, fresh: bool) -> tuple[list[Tagged], list[Tagged]]:
    """(owned, look-alikes) among the checks whose Name tag is `<stack>-<R>`; owned also
    holds untagged checks under the stack's CallerReference prefix (an interrupted create)."""
    name, stack = ctx.config.health_check_name(region), ctx.config.stack
    checks = _all_checks(ctx, fresh)
    mine = [(c, t) for c, t in checks if owner_region(c, t, stack) == region]
    owned = [(c, t) for c, t in mine if not t] + [(c, t) for c, t in mine if t]
    return owned, [(c, t) for c, t in checks if t.get(NAME_TAG) == name and not is_owned(t, stack)]


def owner_region(check: dict[str, Any], tags: dict[str, str], stack: str) -> str | None:
    """The region whose check this is when the stack owns it (the rule in this module's
    docstring), else None: the one ownership rule, for finding a region's check and for
    finding the regions the stack still has checks in."""
    if tags:
        name = tags.get(NAME_TAG, "")
        owned = is_owned(tags, stack) and name.startswith(f"{stack}-")
        return name.removeprefix(f"{stack}-") if owned else None
    parts = str(check.get("CallerReference", "")).split(":")  # untagged: an interrupted create
    return parts[1] if len(parts) >= 3 and parts[0] == stack else None


def check_key(ctx: Context, spec: Spec) -> str:
    """What follows `<stack>-` in a check's Name: the region for its own probe, longer for
    the switch's checks (`<R>-read-in-<Q>`, `<R>-switched`), which so never pass for a region's
    probe; the ownership rule above then holds for every check the stack owns."""
    return spec.name.removeprefix(f"{ctx.config.stack}-")


def reference_prefix(ctx: Context, region: str) -> str:
    return f"{ctx.config.stack}:{region}:"


def forget_checks(ctx: Context) -> None:
    """Drop the run's shared listing after a write: the next read lists again."""
    ctx.forget(_LIST_KEY)


def pick(ctx: Context, owned: list[Tagged], interval: int | None = None) -> dict[str, Any] | None:
    """The check to keep: one whose unchangeable settings match the config (the region's
    probe unless `interval` says otherwise), tagged before untagged, lowest id first."""
    wanted = (CHECK_TYPE, interval or ctx.config.health_check.interval_s, False)

    def rank(tagged: Tagged) -> tuple[bool, bool, str]:
        check, tags = tagged
        cfg = check["HealthCheckConfig"]
        fixed = (cfg.get("Type"), cfg.get("RequestInterval"), cfg.get("MeasureLatency", False))
        return fixed != wanted, not tags, check["Id"]

    return min(owned, key=rank, default=(None, {}))[0]


def all_checks(ctx: Context) -> list[Tagged]:
    """Every health check of the account with its tags (the run's shared listing): where
    `up` finds the regions the stack still has checks in. They hold secrets."""
    return _all_checks(ctx, False)


def _all_checks(ctx: Context, fresh: bool) -> list[Tagged]:
    """Every health check of the account with its tags: once per plan (all regions share
    it), afresh while applying (a memo filled concurrently with a write may be stale)."""

    def read() -> list[Tagged]:
        r53 = ctx.client("route53", ROUTE53_REGION)
        pages = r53.get_paginator("list_health_checks").paginate()
        checks = [check for page in pages for check in page["HealthChecks"]]
        ids = [c["Id"] for c in checks]
        tags: dict[str, dict[str, str]] = {}
        for start in range(0, len(ids), _TAG_BATCH):
            answer = r53.list_tags_for_resources(
                ResourceType="healthcheck", ResourceIds=ids[start : start + _TAG_BATCH]
            )
            for tag_set in answer["ResourceTagSets"]:
                tags[tag_set["ResourceId"]] = tag_dict(tag_set.get("Tags"))
        return [(c, tags.get(c["Id"], {})) for c in checks]

    return read() if fresh else ctx.memo(_LIST_KEY, read)


def update_versioned(r53: Any, check_id: str, version: int | None, **settings: Any) -> None:
    """UpdateHealthCheck guarded by HealthCheckVersion; on HealthCheckVersionMismatch (a
    concurrent edit, or Route 53 still counting an earlier one) the check's version is
    read again and the update sent once more (Route 53 API Reference, UpdateHealthCheck)."""
    update_from_read(r53, {"Id": check_id, "HealthCheckVersion": version}, lambda _: settings)


def update_from_read(
    r53: Any, check: dict[str, Any], settings_of: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    """UpdateHealthCheck of `check` (as read) with the settings made from it, guarded by its
    HealthCheckVersion; on HealthCheckVersionMismatch the check is read again and the
    settings made anew from it (a concurrent edit is kept, not overwritten), once."""
    from failover_cli.aws.errors import error_code

    def send(read: dict[str, Any]) -> None:
        version = read.get("HealthCheckVersion")
        guard = {"HealthCheckVersion": version} if version is not None else {}
        r53.update_health_check(HealthCheckId=read["Id"], **guard, **settings_of(read))

    try:
        send(check)
    except Exception as error:
        if error_code(error) != "HealthCheckVersionMismatch":
            raise
        send(r53.get_health_check(HealthCheckId=check["Id"])["HealthCheck"])
