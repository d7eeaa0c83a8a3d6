"""The guard on what `up` deletes: what each deletion loses, and changes refused outright.

A deletion is a resource the stack owns that the config no longer names (a region or the
domain removed, a name changed). Replacements that keep the thing (a health check
recreated for a new interval, records moved to another routing policy in one batch) are
updates, not deletions. `up` asks before any deletion; deleting the table (renaming it)
also needs --allow-data-loss.
"""

from __future__ import annotations

from failover_cli.engine.model import Change, Plan

DATA_KINDS = frozenset({"table"})  # deleting one loses data no other resource keeps


def describe_losses(plan: Plan) -> None:
    """Fill each deletion's `loses` (what data goes with it; "" for none)."""
    for change in plan.deletions:
        change.loses = losses(change)


def losses(change: Change) -> str:
    spec = change.spec
    if spec.kind == "table":
        return f"table {spec.name} and all its items"
    if spec.kind == "replica":
        return f"the {spec.region} replica of {spec.name}: its data stays in the other replicas"
    if spec.kind == "log_group":
        return f"the function's log events in {spec.region}"
    if spec.kind == "subscription":
        return "alarm e-mails to that address"
    return ""


def loses_data(plan: Plan) -> list[Change]:
    """The deletions that need --allow-data-loss."""
    return [c for c in plan.deletions if c.spec.kind in DATA_KINDS]
