"""`failover rollback`: each region's `live` alias back to the release it served before.

No build, no upload: the versions are already published. The previous release is
read from the alias' release history (services/live_alias.py: the Description
names the versions served before the current release, newest first), so a second
rollback walks one release further back; `--to VERSION` picks any published one.
Only the regions serving the stack's latest release move (see plan_rollback).
Regions go in the release's wave order, each through the same gates as a release
(ops/release_gates.py, no canary: going back should be quick); the first failed
gate points that region back at what it served and stops.

A version is frozen with the environment of its time. The operational variables
(the health-checker secret, the one being rotated in, FORCE_FAIL) belong to the
operational commands, not to a release: serving a version whose values differ from
the live version's would bring back an old secret (every health check of the region
fails: the checks probe with the current one) or undo a force-fail. Such a
rollback is refused before any change, naming the variables (never their values)
and how to proceed. Publishing the old code with today's variables would need the
old code uploaded again, which is what `up` does from `function.source`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from failover_cli.engine.context import Context
from failover_cli.engine.secret import NEXT_SECRET_VARIABLE, SECRET_VARIABLE
from failover_cli.errors import BadInput
from failover_cli.ops.function_environment import is_force_failed, require_owned, variables_of
from failover_cli.ops.release_waves import Move, bake_seconds, gated_move, stopped, wave_order
from failover_cli.resources.function import FORCE_FAIL
from failover_cli.services import live_alias

OPERATIONAL = live_alias.OPERATIONAL_VARIABLES  # the secrets and FORCE_FAIL


@dataclass(frozen=True)
class RegionRollback:
    """One region's move back: `current` is live now, `target` will be."""

    region: str
    current: str
    target: str
    code_sha256: str  # the target's
    published: str  # the target's LastModified
    forced: bool  # forced out (FORCE_FAIL): moved last, without gates

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "from": self.current,
            "to": self.target,
            "code_sha256": self.code_sha256,
        }


@dataclass(frozen=True)
class RollbackPlan:
    moves: list[RegionRollback]
    already: list[str]  # regions already serving the target


def plan_rollback(ctx: Context, regions: Sequence[str], to: str | None) -> RollbackPlan:
    """Read each region's alias, history and versions; refuse (exit 2, nothing changed)
    when a region has nothing to go back to or its target would bring back other
    operational variables.

    Without --to, the release undone is the stack's latest: one live somewhere that no
    region's history shows it replaced by something else (a release stopped in its
    second wave leaves the first region on it, the others on the release before).
    Only the regions serving it move, each to the version it served before it; the
    others already serve the previous release.
    """
    order = [r for r in wave_order(ctx.config) if r in regions]
    found = {region: _read(ctx, region, to) for region in order}
    problems = [f"{r}: {f}" for r, f in found.items() if isinstance(f, str)]
    reads = {r: f for r, f in found.items() if isinstance(f, _Read)}
    replaced = {
        live_alias.release_key(f.previous) for f in reads.values() if f.previous is not None
    }
    latest = {live_alias.release_key(f.serving) for f in reads.values()} - replaced
    moves: list[RegionRollback] = []
    already: list[str] = []
    for region, read in reads.items():
        if to is None and latest and live_alias.release_key(read.serving) not in latest:
            already.append(region)  # never reached by the latest release, or rolled back
            continue
        decided = _decide(region, read)
        if isinstance(decided, str):
            problems.append(f"{region}: {decided}")
        elif decided is None:
            already.append(region)
        else:
            moves.append(decided)
    if problems:
        raise BadInput(
            "`rollback` changed nothing: " + "; ".join(problems),
            hint="`failover status` shows the version each region serves. To serve earlier "
            "code with today's secret and settings, put it back in function.source and run "
            "`failover up` (a gated release); or pick a version with --to.",
        )
    # A region forced out answers 503 by design: it goes last, ungated (as in a release).
    moves.sort(key=lambda m: m.forced)
    return RollbackPlan(moves, already)


@dataclass(frozen=True)
class _Read:
    current: str  # the version `live` serves
    serving: dict[str, Any]  # its configuration
    target: str | None  # the version to go back to (None: no earlier release recorded)
    previous: dict[str, Any] | None  # its configuration


def _read(ctx: Context, region: str, to: str | None) -> _Read | str:
    """What the region serves and what it would go back to, or what is wrong."""
    require_owned(ctx, region)
    alias = live_alias.read_alias(ctx, region)
    if alias is None:
        return "no `live` alias (run `failover up` first)"
    current = str(alias["FunctionVersion"])
    history = live_alias.history_of(alias)
    target = to or (history[0] if history else None)
    lam = ctx.client("lambda", region)
    name = ctx.config.function.name
    serving = lam.get_function_configuration(FunctionName=name, Qualifier=current)
    previous = None
    if target is not None and target != current:
        try:
            previous = lam.get_function_configuration(FunctionName=name, Qualifier=target)
        except lam.exceptions.ResourceNotFoundException:
            kept = ", ".join(live_alias.published_versions(ctx, region)) or "none"
            return f"version {target} does not exist (published versions: {kept})"
    return _Read(current, serving, target, previous)


def _decide(region: str, read: _Read) -> RegionRollback | str | None:
    """The region's move, None when it already serves the target, or why it cannot."""
    if read.target is None:
        return (
            f"no earlier release recorded (version {read.current} is the first one `up` "
            "made here, or the history was rolled back already)"
        )
    if read.previous is None:
        return None  # the target is the live version
    now, then = variables_of(read.serving), variables_of(read.previous)
    differ = [k for k in OPERATIONAL if _operational(now, k) != _operational(then, k)]
    if differ:
        return (
            f"version {read.target} carries other {', '.join(differ)} than version "
            f"{read.current} (live) does: serving it would bring back "
            + (
                "an old health-checker secret, and the region's health checks would fail"
                if set(differ) & {SECRET_VARIABLE, NEXT_SECRET_VARIABLE}
                else "another force-fail state"
            )
        )
    return RegionRollback(
        region,
        read.current,
        read.target,
        str(read.previous.get("CodeSha256") or ""),
        str(read.previous.get("LastModified") or ""),
        is_force_failed(now),
    )


def _operational(variables: dict[str, str], key: str) -> str | bool | None:
    return is_force_failed(variables) if key == FORCE_FAIL else variables.get(key)


def run_rollback(ctx: Context, plan: RollbackPlan) -> list[RegionRollback]:
    """Move each region back in wave order, gated; stop at the first failed gate (exit 1)."""
    done: list[RegionRollback] = []
    bake_s = bake_seconds(ctx)
    for index, step in enumerate(plan.moves):
        region = step.region
        ctx.progress(
            region,
            f"rollback {index + 1}/{len(plan.moves)}: version {step.current} -> {step.target}",
        )
        move = Move(region, step.current, step.target, step.forced)
        failure = gated_move(ctx, move, bake_s=bake_s)
        if failure is not None:
            raise stopped(
                "rollback",
                move,
                failure,
                [m.region for m in plan.moves[index + 1 :]],
                hint="The regions before it serve the version they were rolled back to. "
                "Pick another version with `failover rollback --to`, or release a fix with "
                "`failover up`.",
            )
        if not step.forced:
            ctx.progress(region, f"version {step.target} passed every gate")
        done.append(step)
    return done
