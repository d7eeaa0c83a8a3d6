"""Observe what exists (read-only, in parallel) and diff it against the desired specs."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from failover_cli.config.schema import STACK_TAG
from failover_cli.engine.context import Context
from failover_cli.engine.model import Action, Change, Observed, Plan, Spec
from failover_cli.engine.registry import handler_for
from failover_cli.errors import ConflictError

MAX_WORKERS = 16
# Observations are reads that mostly wait on the network: all of a plan's at once (a few
# dozen), so the plan takes as long as its longest chain of reads, not a queue of them.
OBSERVE_WORKERS = 64


def observe_all(ctx: Context, specs: Sequence[Spec]) -> dict[str, Observed]:
    """Observe every spec concurrently; read-only calls only."""
    from failover_cli.engine.runner import call_translated

    def one(spec: Spec) -> tuple[str, Observed]:
        handler = handler_for(spec.kind)
        return spec.key, call_translated(spec, "observe", lambda: handler.observe(ctx, spec))

    with ThreadPoolExecutor(max_workers=max(1, min(len(specs), OBSERVE_WORKERS))) as pool:
        return dict(pool.map(one, specs))


def observe_reachable(
    ctx: Context, specs: Sequence[Spec]
) -> tuple[dict[str, Observed], dict[str, str]]:
    """Like observe_all, but a spec whose region does not answer is set aside:
    (observed, {spec key: why}) — for `down --skip-unreachable`."""
    from failover_cli.aws.outage import outage_region
    from failover_cli.engine.runner import call_translated

    def one(spec: Spec) -> tuple[str, Observed | str]:
        handler = handler_for(spec.kind)
        try:
            return spec.key, call_translated(spec, "observe", lambda: handler.observe(ctx, spec))
        except Exception as error:
            if outage_region(error) is None:
                raise
            return spec.key, (str(error).splitlines() or [""])[0]

    with ThreadPoolExecutor(max_workers=max(1, min(len(specs), OBSERVE_WORKERS))) as pool:
        found = dict(pool.map(one, specs))
    observed = {k: v for k, v in found.items() if isinstance(v, Observed)}
    return observed, {k: v for k, v in found.items() if isinstance(v, str)}


def plan_up(specs: Sequence[Spec], observed: dict[str, Observed], stack: str) -> Plan:
    """Create what is missing, update what differs, leave the rest alone."""
    changes: list[Change] = []
    for spec in specs:
        seen = observed[spec.key]
        if not seen.exists:
            changes.append(Change(Action.CREATE, spec, seen))
        elif not seen.owned:
            changes.append(Change(Action.SKIP, spec, seen, reason=_not_owned(stack, seen)))
        else:
            fields = handler_for(spec.kind).diff(spec, seen)
            action = Action.UPDATE if fields else Action.NOOP
            changes.append(Change(action, spec, seen, fields))
    return Plan(changes)


def plan_down(specs: Sequence[Spec], observed: dict[str, Observed], stack: str) -> Plan:
    """Delete what exists and is owned; report (never touch) what is not owned."""
    changes: list[Change] = []
    for spec in specs:
        seen = observed.get(spec.key)
        if seen is None or not seen.exists:  # None: not observed (its region is out)
            continue
        if not seen.owned:
            changes.append(Change(Action.SKIP, spec, seen, reason=_not_owned(stack, seen)))
        elif handler_for(spec.kind).deletes_separately(seen):
            changes.append(Change(Action.DELETE, spec, seen))
    return Plan(changes)


def refuse_conflicts(plan: Plan, stack: str) -> None:
    """`up` must not adopt or overwrite a look-alike that the stack does not own."""
    if not plan.skipped:
        return
    names = ", ".join(
        f"{c.spec.kind} {c.spec.name} ({c.spec.where or 'global'}{_whose(c.observed)})"
        for c in plan.skipped
    )
    raise ConflictError(
        f"These resources already exist but do not carry the tags failover:stack={stack} and "
        f"failover:managed-by=failover: {names}. `up` will not take them over",
        hint="Pick other names in the config (for example table.name: "
        f"{stack}-table, function.name: {stack}-function), delete or rename them, or tag "
        "them to let this stack manage them.",
    )


def _whose(seen: Observed) -> str:
    """ ", stack hello's" when the look-alike's tag names another stack."""
    tags = seen.raw.get("tags") if isinstance(seen.raw, dict) else None
    other = tags.get(STACK_TAG) if isinstance(tags, dict) else None
    return f", stack {other}'s" if other else ""


def _not_owned(stack: str, seen: Observed | None = None) -> str:
    whose = _whose(seen).removeprefix(", ") if seen is not None else ""
    owner = f" (it is {whose})" if whose else ""
    return f"exists without the ownership tags of stack {stack}{owner}; left untouched"
