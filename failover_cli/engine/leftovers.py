"""What the stack owns beyond the config: regions and a domain that it named before.

There is no state file, so `up` and `down` find them in AWS, owned-only:

- regions: the table's `Replicas` (read in the primary), the stack's health checks (tag
  `Name=<stack>-<R>` with the ownership tags, or untagged under CallerReference
  `<stack>:<R>:`), and the alias records with SetIdentifier `<stack>-<R>` at the domain;
- a domain: the custom domain names tagged with the stack, in every region found;
- a table renamed in `table.name`: the functions' TABLE_NAME (read for the plan anyway);
- a function renamed in `function.name`: the function the stack's APIs still invoke;
- `alarms.email` removed: a confirmed e-mail subscription left on the stack's topic.

Each former shape is then a Config (this one, with those regions or that domain), and what
its teardown specs name beyond the desired ones is observed and deleted with a Context of
that shape: every handler derives its names from `ctx.config`, so nothing else changes.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from failover_cli.aws.tags import is_owned
from failover_cli.config.schema import Config, DomainConfig
from failover_cli.engine.context import Context
from failover_cli.engine.model import Action, Change, Observed, Spec

# Deleted in this order in a region leaving the config: out of DNS first, then its health
# check (the alarm goes with it), then the rest; the replica last, so that an interrupted
# removal still shows the region in the table's Replicas and the next run finds it.
UNROUTED_FIRST = ("record", "alarm", "health_check")
LAST = "replica"


@dataclass(frozen=True)
class Former:
    """What the stack owns that the config no longer names."""

    regions: tuple[str, ...] = ()
    domains: tuple[DomainConfig, ...] = ()
    tables: tuple[str, ...] = ()  # former table names (the table is deleted only when owned)
    functions: tuple[str, ...] = ()  # former function names
    email: str | None = None  # a subscribed address when the config names none

    def __bool__(self) -> bool:
        return bool(self.regions or self.domains or self.tables or self.functions or self.email)


def discover(ctx: Context) -> Former:
    """Former regions, domains, table names and e-mail (read-only; reuses the plan's
    memoised reads; renamed functions come from the observed APIs). The sources are read
    at once; only regions found beyond the config cost a second round (their domains)."""
    config = ctx.config
    with ThreadPoolExecutor(max_workers=6) as pool:
        sources = [pool.submit(f, ctx) for f in (_replica_regions, _check_regions, _record_regions)]
        named = pool.submit(_owned_domain_names, ctx, config.regions)
        tables = pool.submit(_table_names, ctx)
        email = pool.submit(_unwanted_email, ctx)
        regions = sorted({r for s in sources for r in s.result()} - set(config.regions))
        found = named.result() + _owned_domain_names(ctx, tuple(regions))
    wanted = config.domain.name.rstrip(".").lower() if config.domain else None
    names = sorted({n for n in found if n.rstrip(".").lower() != wanted})
    domains = tuple(_domain_config(ctx, n) for n in names)
    return Former(tuple(regions), domains, tuple(tables.result()), email=email.result())


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
    from failover_cli.engine.desired import teardown_specs
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


def _replica_regions(ctx: Context) -> list[str]:
    from failover_cli.resources.replica import stale_replicas

    return stale_replicas(ctx)


def _check_regions(ctx: Context) -> list[str]:
    from failover_cli.services.health_checks import all_checks, owner_region

    found = [owner_region(check, tags, ctx.config.stack) for check, tags in all_checks(ctx)]
    return [r for r in found if r is not None and _looks_like_region(r)]


def _record_regions(ctx: Context) -> list[str]:
    from failover_cli.resources.record import TYPE
    from failover_cli.services.route53_zone import find_zone, record_sets

    domain = ctx.config.domain
    if domain is None:
        return []
    zone = find_zone(ctx)
    if zone is None:
        return []
    prefix = f"{ctx.config.stack}-"
    identifiers = [
        str(r.get("SetIdentifier", "")) for r in record_sets(ctx, zone, domain.name, TYPE)
    ]
    return [
        i.removeprefix(prefix)
        for i in identifiers
        if i.startswith(prefix) and _looks_like_region(i.removeprefix(prefix))
    ]


def _table_names(ctx: Context) -> list[str]:
    """The table the functions read when it is not `table.name` (a rename): from their
    environment, which the plan reads anyway (the health-checker secret lives there)."""
    from failover_cli.engine.secret import existing_environment

    names = set()
    for region in ctx.config.regions:
        variables = existing_environment(ctx, region) or {}
        name = variables.get("TABLE_NAME")
        if name and name != ctx.config.table.name:
            names.add(name)
    return sorted(names)


def _unwanted_email(ctx: Context) -> str | None:
    """A confirmed e-mail subscription on the stack's topic when `alarms.email` is unset."""
    from failover_cli.resources.subscription import email_subscriptions
    from failover_cli.resources.topic import read_topic

    if ctx.config.alarms.email:
        return None
    topic = read_topic(ctx, ctx.config.topic_name)
    if topic is None or not is_owned(topic[1], ctx.config.stack):
        return None
    confirmed = [s.endpoint for s in email_subscriptions(ctx, topic[0]) if not s.pending]
    return confirmed[0] if confirmed else None


def _owned_domain_names(ctx: Context, regions: tuple[str, ...]) -> list[str]:
    """Custom domain names tagged with the stack in `regions` (one GetDomainNames each)."""

    def read(region: str) -> list[str]:
        def listing() -> list[str]:
            api = ctx.client("apigateway", region)
            items: list[dict[str, Any]] = []
            for page in api.get_paginator("get_domain_names").paginate():
                items += page.get("items", [])
            return [
                str(d["domainName"])
                for d in items
                if is_owned(d.get("tags") or {}, ctx.config.stack)
            ]

        return ctx.memo(f"apigateway:domain_names:{region}", listing)

    with ThreadPoolExecutor(max_workers=max(1, len(regions))) as pool:
        return [name for names in pool.map(read, regions) for name in names]


def _domain_config(ctx: Context, name: str) -> DomainConfig:
    """A DomainConfig for a former domain: its hosted zone is the nearest public zone above
    it (the configured zone first, when it is one; with none left, its records are gone)."""
    from failover_cli.services.route53_zone import find_zone

    labels = name.rstrip(".").split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    if ctx.config.domain is not None and ctx.config.domain.hosted_zone in candidates:
        candidates.remove(ctx.config.domain.hosted_zone)
        candidates.insert(0, ctx.config.domain.hosted_zone)
    for zone_name in candidates:
        probe = detached(ctx, replace(ctx.config, domain=DomainConfig(name, zone_name)))
        if find_zone(probe) is not None:
            return DomainConfig(name, zone_name)
    return DomainConfig(name, candidates[-1] if candidates else name)


def _looks_like_region(text: str) -> bool:
    parts = text.split("-")
    return len(parts) >= 3 and parts[-1].isdigit() and all(p.isalpha() for p in parts[:-1])
