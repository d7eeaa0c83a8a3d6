"""A release rolls one region at a time: move `live`, gate, and roll back by itself.

A change to the function's code or configuration is written into every
region's `$LATEST` with the rest of `up`'s plan (nothing serves `$LATEST`);
then, region by region in the wave order, the region's `live` alias moves to a
newly published version and the region must pass the gates
(ops/release_gates.py). The first failure points that region's alias back at
the version it served before, at once, and stops: regions not yet reached keep
serving the previous release. A re-run makes the same plan and continues.

Wave order: `deploy.order` when set; with failover routing the SECONDARY first,
then the PRIMARY; otherwise the config's regions from last to first (the
primary, where the table lives, last).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from failover_cli.config.schema import Config
from failover_cli.engine.context import Context
from failover_cli.engine.model import Action, Change, Plan
from failover_cli.errors import FailoverError
from failover_cli.net.time_scale import time_scale
from failover_cli.services import live_alias


def wave_order(config: Config) -> list[str]:
    if config.deploy.order:
        return list(config.deploy.order)
    if config.domain is not None and config.domain.routing == "failover":
        return [config.regions[1], config.regions[0]]
    return list(reversed(config.regions))


def is_release(change: Change) -> bool:
    """An alias that must move to a new version (its first creation is not a release:
    nothing served it before)."""
    return (
        change.spec.kind == "alias"
        and change.action is Action.UPDATE
        and any(f.field == "release" for f in change.fields)
    )


def split_release(plan: Plan) -> tuple[Plan, list[Change]]:
    """(the plan without the alias moves, those moves in wave order)."""
    moves = [c for c in plan.changes if is_release(c)]
    rest = Plan([c for c in plan.changes if not is_release(c)])
    return rest, moves


def ordered(config: Config, moves: Sequence[Change]) -> list[Change]:
    rank = {region: i for i, region in enumerate(wave_order(config))}
    return sorted(moves, key=lambda c: rank.get(c.spec.region, len(rank)))


def describe_waves(config: Config, plan: Plan) -> str | None:
    """What `plan` says about a release: which regions, in what order (None: no release)."""
    moves = ordered(config, [c for c in plan.changes if is_release(c)])
    if not moves:
        return None
    regions = " -> ".join(c.spec.region for c in moves)
    return (
        f"Release: one region at a time, {regions}; each gated on /health (shallow, deep), "
        f"the application routes and its health check for {config.deploy.bake_s:g}s"
    )


@dataclass(frozen=True)
class Wave:
    region: str
    before: str  # the version `live` served before the wave
    after: str  # the version it serves now


def run_waves(ctx: Context, moves: Sequence[Change]) -> list[Wave]:
    """Move each region's alias in wave order; stop and roll back at the first failed gate.

    A region forced out (FORCE_FAIL in the version it serves) answers 503 by design and
    takes no traffic: it goes last, without gates, and the progress says so.
    """
    from failover_cli.ops.release_gates import check_region

    waves: list[Wave] = []
    forced = {c.spec.region for c in moves if _forced_out(ctx, c)}
    queue = sorted(ordered(ctx.config, moves), key=lambda c: c.spec.region in forced)
    bake_s = ctx.config.deploy.bake_s / time_scale()  # wall seconds on an accelerated clock
    for index, change in enumerate(queue):
        region = change.spec.region
        before = str(change.observed.raw["version"])
        code = change.spec.props.function.code_sha256 if change.spec.props.function else ""
        ctx.progress(region, f"wave {index + 1}/{len(queue)}: publishing the release")
        after = live_alias.publish(ctx, region, code_sha256=code or None)
        live_alias.point(ctx, region, after, live_alias.read_alias(ctx, region))
        if region in forced:
            ctx.progress(region, f"live -> version {after}; forced out (FORCE_FAIL): not gated")
            failure = None
        else:
            ctx.progress(region, f"live -> version {after}; gating (bake {bake_s:g}s)")
            failure = check_region(ctx, region, bake_s=bake_s)
        if failure is not None:
            live_alias.point(ctx, region, before, live_alias.read_alias(ctx, region))
            unreached = [c.spec.region for c in queue[index + 1 :]]
            rest = f"; {', '.join(unreached)} never saw it" if unreached else ""
            raise FailoverError(
                f"The release stopped in {region}: version {after} failed the "
                f"{failure.gate} gate ({failure.evidence}). {region}'s alias `live` points "
                f"back at version {before}, which it served before{rest}",
                hint="Fix the function and re-run `failover up`; it continues from the "
                "regions that have not passed yet.",
                region=region,
            )
        live_alias.prune(ctx, region, after, before)
        waves.append(Wave(region, before, after))
        if region not in forced:
            ctx.progress(region, f"version {after} passed every gate")
    return waves


def _forced_out(ctx: Context, change: Change) -> bool:
    from failover_cli.ops.function_environment import is_force_failed, variables_of

    lam = ctx.client("lambda", change.spec.region)
    serving = lam.get_function_configuration(
        FunctionName=change.spec.props.function_name, Qualifier=change.observed.raw["version"]
    )
    return is_force_failed(variables_of(serving))
