"""Keeping the IP allow-list fresh: `refresh-ip-ranges`, and `status`'s staleness warning.

`refresh` runs the `up` pipeline for the API policies alone (api_policy.py):
read the current ranges document, observe each region's deployed policy,
change and redeploy only the regions whose prefixes differ. A second run
finds nothing to do and makes no mutating call.

`stale_regions` compares each region's deployed list with what the current
document asks for: a region is stale when its prefixes differ and its policy
came from an older document (its Sid carries that document's syncToken).
"""

from __future__ import annotations

from dataclasses import dataclass

from failover_cli.access.policy import AllowList, allow_list, comparable, read_policy
from failover_cli.access.ranges import Ranges, load_ranges
from failover_cli.bundle import CodeBundle
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Action, Change
from failover_cli.engine.planner import observe_all, plan_up
from failover_cli.engine.runner import ChangeListener, apply_plan
from failover_cli.errors import BadInput
from failover_cli.resources import api_policy

NO_CODE = CodeBundle(zip_bytes=b"", sha256="")  # the policies need no code


@dataclass(frozen=True)
class RefreshResult:
    ranges: Ranges | None
    changes: tuple[Change, ...]  # one per region; NOOP where nothing changed


def require_access(ctx: Context) -> None:
    if ctx.config.access is None:
        raise BadInput(
            f"{ctx.config.path} has no access section, so there is no allow-list to refresh",
            hint="Add access: {allow: [route53-health-checkers]} and run `failover up`.",
        )


def refresh(ctx: Context, listener: ChangeListener) -> RefreshResult:
    """Rewrite each region's policy from the current document where it differs."""
    require_access(ctx)
    access = ctx.config.access
    assert access is not None
    checkers = ctx.config.health_check.checker_regions
    ranges = load_ranges(checker_regions=checkers) if access.checkers else None
    specs = api_policy.desired(DesiredInputs(ctx.config, "", NO_CODE, ranges))
    observed = observe_all(ctx.reading(), specs)
    missing = [s.region for s in specs if not observed[s.key].exists]
    if missing:
        raise BadInput(
            f"The stack's REST API does not exist in {', '.join(missing)}; nothing was changed",
            hint="Run `failover up` first: it writes the allow-list with the API.",
        )
    plan = plan_up(specs, observed, ctx.config.stack)
    skipped = [c.spec.region for c in plan.changes if c.action is Action.SKIP]
    if skipped:
        raise BadInput(
            f"The REST API {ctx.config.api_name} in {', '.join(skipped)} lacks the stack's "
            "ownership tags; failover leaves it alone",
            hint="Run `failover up`, which says more.",
        )
    apply_plan(ctx, plan, listener)
    return RefreshResult(ranges, tuple(plan.changes))


@dataclass(frozen=True)
class Staleness:
    region: str
    deployed_token: str
    added: tuple[str, ...]
    removed: tuple[str, ...]


def stale_regions(ctx: Context, ranges: Ranges, policies: dict[str, str | None]) -> list[Staleness]:
    """Regions whose deployed allow-list (`policies`: region -> policy text) is older than
    `ranges` and lists other prefixes than it asks for."""
    access = ctx.config.access
    if access is None or not access.checkers:
        return []
    wanted = allow_list(access, ctx.config.health_check.checker_regions, ranges)
    found = []
    for region, text in policies.items():
        deployed = read_policy(text)
        if deployed is None or comparable(deployed) == comparable(wanted):
            continue
        if not _older(deployed, ranges):
            continue
        found.append(
            Staleness(
                region,
                deployed.sync_token,
                tuple(sorted(set(wanted.cidrs) - set(deployed.cidrs))),
                tuple(sorted(set(deployed.cidrs) - set(wanted.cidrs))),
            )
        )
    return found


def warning(stale: Staleness, ranges: Ranges) -> str:
    changes = [f"+{c}" for c in stale.added] + [f"-{c}" for c in stale.removed]
    return (
        f"{stale.region}: the IP allow-list predates the current ip-ranges.json "
        f"({ranges.date}), which changes the checkers' prefixes ({', '.join(changes)}); "
        "run `failover refresh-ip-ranges`"
    )


def _older(deployed: AllowList, ranges: Ranges) -> bool:
    try:
        return int(deployed.sync_token or 0) < int(ranges.sync_token)
    except ValueError:
        return True


def staleness_warnings(ctx: Context) -> list[str]:
    """`status`'s warnings: regions whose allow-list is older than the current document
    and lists other checker prefixes (or why that could not be checked)."""
    from concurrent.futures import ThreadPoolExecutor

    access = ctx.config.access
    if access is None or not access.checkers:
        return []
    regions = ctx.config.regions
    with ThreadPoolExecutor(len(regions) + 1, thread_name_prefix="allow-list") as pool:
        checkers = ctx.config.health_check.checker_regions
        document = pool.submit(load_ranges, None, checkers)
        reads = {region: pool.submit(_deployed_policy, ctx, region) for region in regions}
    try:
        ranges = document.result()
    except BadInput as error:
        return [f"the IP allow-list's freshness could not be checked: {error.render()}"]
    policies = {r: f.result() for r, f in reads.items() if f.exception() is None}
    return [warning(stale, ranges) for stale in stale_regions(ctx, ranges, policies)]


def _deployed_policy(ctx: Context, region: str) -> str | None:
    from failover_cli.resources.api import find_api

    api = find_api(ctx, region)
    return str(api.get("policy") or "") if api else None
