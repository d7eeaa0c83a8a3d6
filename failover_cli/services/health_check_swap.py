"""Replacing a Route 53 health check without a gap, and deleting one safely.

Interval, latency measurement and type cannot change in place, so the health check
handler creates a new check and then (its `switch`) waits here until the new check
reports, UPSERTs every record that uses an old check with the new id (waiting INSYNC),
points the alarm at it (`alarm.follow_health_check`), and only then deletes the old
checks. Each step is idempotent, so an interrupted replacement finishes on the next run.
"""

from __future__ import annotations

from typing import Any

from failover_cli.aws.retry import wait_until
from failover_cli.aws.tags import tag_list
from failover_cli.engine.context import Context
from failover_cli.engine.model import Spec
from failover_cli.errors import FailoverError, TimeoutExpired
from failover_cli.services.check_status import poll_observations
from failover_cli.services.health_checks import (
    HEALTHY_SHARE,
    ROUTE53_REGION,
    check_key,
    forget_checks,
)
from failover_cli.services.route53_zone import Zone, find_zone, forget_record_sets, route53


def delete_check(ctx: Context, spec: Spec, check_id: str) -> None:
    r53 = ctx.client("route53", ROUTE53_REGION)
    try:
        r53.delete_health_check(HealthCheckId=check_id)
    except r53.exceptions.NoSuchHealthCheck:
        pass  # already gone
    except r53.exceptions.HealthCheckInUse as error:
        raise FailoverError(
            f"Route 53 refuses to delete health check {spec.name} ({check_id}): it is in use",
            hint="Something still references it (a record or a calculated health check); "
            "remove that reference and re-run the command.",
            region=spec.region,
        ) from error


def adopt_new_check(ctx: Context, spec: Spec, check_id: str, tags: dict[str, str]) -> None:
    """Tag a check just created (Route 53 cannot tag on create) or delete it: an untagged
    check would never be found again. Then remember its id for the kinds that follow."""
    r53 = ctx.client("route53", ROUTE53_REGION)
    try:
        r53.change_tags_for_resource(
            ResourceType="healthcheck", ResourceId=check_id, AddTags=tag_list(tags)
        )
    except BaseException:
        delete_check(ctx, spec, check_id)
        raise
    forget_checks(ctx)
    ctx.outputs[f"health_check_id:{check_key(ctx, spec)}"] = check_id


def records_using(ctx: Context, check_ids: list[str]) -> tuple[Zone | None, list[dict[str, Any]]]:
    """(zone, record sets) of the stack's public hosted zone that use one of `check_ids`."""
    zone = find_zone(ctx) if ctx.config.domain else None
    if zone is None:
        return None, []  # no domain or no zone: no record can use the check
    pages = route53(ctx).get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone.id)
    using = [
        r for p in pages for r in p["ResourceRecordSets"] if r.get("HealthCheckId") in check_ids
    ]
    return zone, using


def wait_for_reports(ctx: Context, region: str, check_id: str) -> None:
    """Let a new check report healthy before records rely on it. Route 53 counts a check
    without data as healthy, so once the budget is spent the move goes ahead anyway."""

    def healthy() -> bool:
        seen = poll_observations(ctx, check_id)  # None when throttled: next round
        if not seen:
            return False
        ok = [o for o in seen if o["StatusReport"]["Status"].startswith("Success")]
        return len(ok) / len(seen) > HEALTHY_SHARE

    budget = 3 * ctx.config.health_check.interval_s + 30
    try:
        wait_until(
            healthy, what="the new health check", timeout=budget, interval=5, clock=ctx.clock
        )
    except TimeoutExpired:
        ctx.progress(region, f"health check {check_id} reports no healthy majority yet")


def repoint(ctx: Context, old_ids: list[str], new_id: str) -> int:
    """UPSERT each record using an old check with the new id, all else equal; wait INSYNC."""
    zone, using = records_using(ctx, old_ids)
    if zone is None or not using:
        return 0
    r53 = route53(ctx)
    changes = [
        {"Action": "UPSERT", "ResourceRecordSet": {**r, "HealthCheckId": new_id}} for r in using
    ]
    change = r53.change_resource_record_sets(
        HostedZoneId=zone.id,
        ChangeBatch={"Comment": "failover: replacement health check", "Changes": changes},
    )["ChangeInfo"]
    for record in using:  # the record kind's memoised reads are stale now
        forget_record_sets(ctx, zone, record["Name"], record["Type"])
    # The old check may go only once every Route 53 server answers with the new one.
    wait_until(
        lambda: r53.get_change(Id=change["Id"])["ChangeInfo"]["Status"] == "INSYNC",
        what="Route 53 to apply the record change",
        timeout=600,
        interval=5,
        clock=ctx.clock,
    )
    return len(changes)


def repoint_parents(ctx: Context, old_ids: list[str], new_id: str) -> None:
    """Swap a replaced child in the stack's CALCULATED checks (Route 53 refuses to delete a
    check that a calculated check still counts)."""
    from failover_cli.services.health_checks import (
        all_checks,
        forget_checks,
        owner_region,
        update_from_read,
    )

    def repointed(check: dict[str, Any]) -> dict[str, Any]:
        cfg = check["HealthCheckConfig"]
        children = list(cfg.get("ChildHealthChecks") or [])
        kept = [c for c in children if c not in old_ids and c != new_id]
        return {
            "ChildHealthChecks": [*kept, new_id],
            "HealthThreshold": cfg.get("HealthThreshold", len(children)),
        }

    r53 = ctx.client("route53", ROUTE53_REGION)
    for check, tags in all_checks(ctx):
        children = check["HealthCheckConfig"].get("ChildHealthChecks") or []
        if owner_region(check, tags, ctx.config.stack) is None or not set(children) & set(old_ids):
            continue
        update_from_read(r53, check, repointed)  # a concurrent edit: read again, once
    forget_checks(ctx)
