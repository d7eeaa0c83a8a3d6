"""What the stack owns beyond the config: regions and a domain that it named before.

There is no state file, so `up` and `down` find them in AWS, owned-only. Each kind's
`leftovers` step (engine/handler.py) says what of it is left; today:

- regions: the table's `Replicas` (replica), the stack's health checks (health_check),
  and the alias records with SetIdentifier `<stack>-<R>` at the domain (record);
- a domain: the custom domain names tagged with the stack, in every region found
  (domain_name, which looks again in the regions the first round found);
- a table renamed in `table.name`: the functions' TABLE_NAME (table);
- a function renamed in `function.name`: the function the stack's APIs still invoke
  (read here from the observed APIs, no call of its own);
- `alarms.email` removed: a confirmed e-mail subscription left on the stack's topic
  (subscription).

Each former shape is then a Config (this one, with those regions or that domain), and what
its teardown specs name beyond the desired ones is observed and deleted with a Context of
that shape: every handler derives its names from `ctx.config`, so nothing else changes.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from failover_cli.config.schema import Config, DomainConfig
from failover_cli.engine.context import Context
from failover_cli.engine.handler import Former
from failover_cli.engine.model import Action, Change, Observed, Spec
from failover_cli.engine.registry import handler_for, kinds, teardown_specs

# Deleted in this order in a region leaving the config: out of DNS first, then its health
# check (the alarm goes with it), then the rest; the replica last, so that an interrupted
# removal still shows the region in the table's Replicas and the next run finds it.
# The switch's checks count as health checks here: a CALCULATED check must go before its
# children (they wait for it by dependency), so it must not also wait for them (a cycle
# that left every delete of a leaving region held back).
UNROUTED_FIRST = ("record", "alarm", "region_check", "switch_reader", "health_check")
LAST = "replica"


def discover(ctx: Context) -> Former:
    """Former regions, domains, table names and e-mail: every kind's leftovers step, all
    at once (read-only; reuses the plan's memoised reads; renamed functions come from the
    observed APIs). Only regions found beyond the config cost a second round."""
    handlers = [handler_for(kind) for kind in kinds()]
    with ThreadPoolExecutor(max_workers=len(handlers)) as pool:
        found = list(pool.map(lambda h: h.leftovers(ctx), handlers))
        regions = tuple(sorted({r for f in found for r in f.regions} - set(ctx.config.regions)))
        if regions:
            found += pool.map(lambda h: h.leftovers_in(ctx, regions), handlers)
    domains = {d.name: d for f in reversed(found) for d in f.domains}  # the first one found
    return Former(
        regions,
        tuple(domains[name] for name in sorted(domains)),
        tuple(table for f in found for table in f.tables),
        email=next((f.email for f in found if f.email), None),
    )


def shapes(config: Config, former: Former) -> list[Config]:
    """The configs whose teardown covers what the stack owns: the current one widened to
    the former regions, then once per former domain (over every region)."""
    regions = (*config.regions, *former.regions)
    widened = replace(config, regions=regions, domain=_routed(config.domain))
    if former.email and not config.alarms.email:  # its spec unsubscribes every address
        widened = replace(widened, alarms=replace(config.alarms, email=former.email))
    return [
        widened,
        *(replace(widened, domain=domain) for domain in former.domains),
        *(replace(widened, table=replace(config.table, name=name)) for name in former.tables),
        *(replace(widened, function=replace(config.function, name=n)) for n in former.functions),
    ]


def observe_with_former(ctx: Context, specs: list[Spec]) -> tuple[dict[str, Observed], Former]:
    """Observe `specs` and discover the former shapes at the same time (no extra round
    trip: discovery mostly shares the observations' memoised reads)."""
    from failover_cli.engine.planner import observe_all

    reading = ctx.reading()
    with ThreadPoolExecutor(max_workers=1) as pool:
        found = pool.submit(discover, reading)
        observed = observe_all(reading, specs)
        former = found.result()
    functions = renamed_functions(ctx.config, specs, observed)
    return observed, replace(former, functions=functions) if functions else former


def renamed_functions(
    config: Config, specs: list[Spec], observed: dict[str, Observed]
) -> tuple[str, ...]:
    """Functions the stack's APIs invoke that are not `function.name` (a rename not yet
    converged): read from the APIs' observed integrations, no call of its own."""
    names = set()
    for spec in specs:
        seen = observed.get(spec.key)
        if spec.kind != "api" or seen is None or not seen.exists or not seen.owned:
            continue
        found = re.search(r":function:([^/:]+)", str(seen.props.get("integration") or ""))
        if found and found.group(1) != config.function.name:
            names.add(found.group(1))
    return tuple(sorted(names))


def former_changes(
    ctx: Context, desired: list[Spec], former: Former, *, keep_table: bool = False
) -> list[Change]:
    """The deletions of what the stack owns beyond `desired`, each with its own Context."""
    from failover_cli.engine.planner import observe_all, plan_down

    if not former:
        return []
    taken = {s.key for s in desired}
    changes: list[Change] = []
    for shape in shapes(ctx.config, former):
        own = detached(ctx, shape)
        specs = [s for s in teardown_specs(own, keep_table=keep_table) if s.key not in taken]
        taken |= {s.key for s in specs}
        observed = observe_all(own.reading(), specs)
        for change in plan_down(specs, observed, shape.stack).changes:
            if change.action is Action.DELETE:  # a look-alike is never touched, nor reported
                change.context = own
                changes.append(change)
    return _in_region_order(changes, set(former.regions))


def detached(ctx: Context, config: Config) -> Context:
    """`ctx` for another shape of the config: its own memo and outputs (their keys do
    not name the domain), the same clients, clock, progress and deadline."""
    return replace(ctx, config=config, outputs={}, _memo={}, _memo_lock=threading.Lock())


def _in_region_order(changes: list[Change], regions: set[str]) -> list[Change]:
    """In each region leaving: the rest waits for its record and health check to go, and
    its replica waits for everything else there."""
    leaving = [c for c in changes if _region_of(c) in regions]
    for change in leaving:
        region = _region_of(change)
        here = [c.key for c in leaving if _region_of(c) == region and c is not change]
        if change.spec.kind == LAST:
            change.after = (*change.after, *here)
        elif change.spec.kind not in UNROUTED_FIRST:
            first = [
                c.key for c in leaving if _region_of(c) == region and c.spec.kind in UNROUTED_FIRST
            ]
            change.after = (*change.after, *first)
    return changes


def _region_of(change: Change) -> str:
    """The stack region a change belongs to (an alarm lives in us-east-1 but is R's)."""
    if change.spec.kind == "alarm":
        return change.spec.name.removeprefix(f"{_stack(change)}-").removesuffix("-health")
    return change.spec.region


def _stack(change: Change) -> str:
    context: Context | None = change.context
    return context.config.stack if context is not None else ""


def _routed(domain: DomainConfig | None) -> DomainConfig | None:
    # Failover routing names exactly two regions; a widened shape only deletes records,
    # whose identity does not depend on the routing.
    return replace(domain, routing="latency") if domain is not None else None


def looks_like_region(text: str) -> bool:
    parts = text.split("-")
    return len(parts) >= 3 and parts[-1].isdigit() and all(p.isalpha() for p in parts[:-1])
