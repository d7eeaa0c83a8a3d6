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
from typing import TYPE_CHECKING

from failover_cli.config.schema import Config
from failover_cli.engine.context import Context
from failover_cli.engine.model import Action, Change, Plan
from failover_cli.errors import FailoverError
from failover_cli.net.time_scale import time_scale
from failover_cli.services import live_alias

if TYPE_CHECKING:
    from failover_cli.ops.release_gates import GateFailure


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
    canary = config.deploy.canary_percent
    first = f"first {canary}% of invocations as a canary, then " if canary else ""
    return (
        f"Release: one region at a time, {regions}; each {first}gated on /health (shallow, "
        f"deep), the application routes and its health check for {config.deploy.bake_s:g}s"
    )


@dataclass(frozen=True)
class Wave:
    region: str
    before: str  # the version `live` served before the wave
    after: str  # the version it serves now


@dataclass(frozen=True)
class Move:
    """One region's alias moving from `before` to `after` with the gates (a wave)."""

    region: str
    before: str
    after: str
    forced: bool = False  # the region is forced out (FORCE_FAIL): it goes last, ungated
    # Held out of DNS by the switch: it goes last, gated through its own API only (its
    # routed health check is unhealthy by design, so the Route 53 bake would fail it).
    switched_out: bool = False


def gated_move(
    ctx: Context, move: Move, *, bake_s: float, canary: float = 0.0
) -> GateFailure | None:
    """Point `live` at `move.after` and gate the region; on a failed gate, point it back at
    `move.before` (with the history it had) at once. With a `canary` weight (0..1) the
    alias first sends that share of the invocations to the new version, and the
    application routes must answer without 5xx before it moves fully.

    The alias' release history (services/live_alias.py) moves in the same UpdateAlias.
    Returns the failed gate, or None.
    """
    from failover_cli.ops.release_gates import check_canary, check_region

    region = move.region
    alias = live_alias.read_alias(ctx, region)
    history = live_alias.history_of(alias)
    failure = None
    if canary and not move.forced:
        ctx.progress(region, f"canary: {canary:.0%} of invocations -> version {move.after}")
        live_alias.point(ctx, region, move.before, alias, canary=(move.after, canary))
        failure = check_canary(ctx, region, canary)
        alias = live_alias.read_alias(ctx, region)
    if failure is None:
        moved = live_alias.moved_history(history, move.before, move.after)
        live_alias.point(ctx, region, move.after, alias, history=moved)
        if move.forced:
            ctx.progress(
                region, f"live -> version {move.after}; forced out (FORCE_FAIL): not gated"
            )
            return None
        if move.switched_out:
            ctx.progress(
                region,
                f"live -> version {move.after}; forced out by the switch: gated through its "
                "own API, no Route 53 bake",
            )
        else:
            ctx.progress(region, f"live -> version {move.after}; gating (bake {bake_s:g}s)")
        failure = check_region(ctx, region, bake_s=bake_s, route53=not move.switched_out)
    if failure is not None:
        live_alias.point(
            ctx, region, move.before, live_alias.read_alias(ctx, region), history=history
        )
    return failure


def stopped(
    what: str, move: Move, failure: GateFailure, unreached: Sequence[str], *, hint: str
) -> FailoverError:
    """The one paragraph a failed wave ends with (exit 1)."""
    rest = f"; {', '.join(unreached)} never saw it" if unreached else ""
    return FailoverError(
        f"The {what} stopped in {move.region}: version {move.after} failed the "
        f"{failure.gate} gate ({failure.evidence}). {move.region}'s alias `live` points "
        f"back at version {move.before}, which it served before{rest}",
        hint=hint,
        region=move.region,
    )


def bake_seconds(ctx: Context) -> float:
    return ctx.config.deploy.bake_s / time_scale()  # wall seconds on an accelerated clock


def run_waves(ctx: Context, moves: Sequence[Change]) -> list[Wave]:
    """Move each region's alias in wave order; stop and roll back at the first failed gate.

    A region forced out (FORCE_FAIL in the version it serves) answers 503 by design and
    takes no traffic: it goes last, without gates, and the progress says so.
    """
    waves: list[Wave] = []
    forced = {c.spec.region for c in moves if _forced_out(ctx, c)}
    switched = _switched_out(ctx)
    last = forced | switched
    queue = sorted(ordered(ctx.config, moves), key=lambda c: c.spec.region in last)
    canary = ctx.config.deploy.canary_percent / 100.0
    for index, change in enumerate(queue):
        region = change.spec.region
        before = str(change.observed.raw["version"])
        code = change.spec.props.function.code_sha256 if change.spec.props.function else ""
        ctx.progress(region, f"wave {index + 1}/{len(queue)}: publishing the release")
        after = live_alias.publish(ctx, region, code_sha256=code or None)
        move = Move(region, before, after, region in forced, region in switched)
        failure = gated_move(ctx, move, bake_s=bake_seconds(ctx), canary=canary)
        if failure is not None:
            raise stopped(
                "release",
                move,
                failure,
                [c.spec.region for c in queue[index + 1 :]],
                hint="Fix the function and re-run `failover up`; it continues from the "
                "regions that have not passed yet.",
            )
        live_alias.prune(ctx, region, after, before)
        waves.append(Wave(region, before, after))
        if region not in forced:
            ctx.progress(region, f"version {after} passed every gate")
    return waves


def _switched_out(ctx: Context) -> set[str]:
    """The regions any answering replica of the switch holds forced out."""
    from failover_cli.services.switch_replicas import read_switch

    held = read_switch(ctx)
    return {region for copy in held.values() if copy is not None for region in copy.forced_out}


def _forced_out(ctx: Context, change: Change) -> bool:
    from failover_cli.ops.function_environment import is_force_failed, variables_of

    lam = ctx.client("lambda", change.spec.region)
    serving = lam.get_function_configuration(
        FunctionName=change.spec.props.function_name, Qualifier=change.observed.raw["version"]
    )
    return is_force_failed(variables_of(serving))
