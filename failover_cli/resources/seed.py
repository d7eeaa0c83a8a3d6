"""The seed item the function's deep ping reads (`table.seed_item`), written into the primary table.

Replication carries it to the other regions. It has no tags of its own: it
belongs to the stack when the table holding it does, and it goes away with
the table (no separate delete on `down`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.tags import is_owned
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.services.dynamodb_tables import read_table, table_key

KIND = "seed_item"


@dataclass(frozen=True)
class SeedProps:
    item: tuple[tuple[str, str], ...]  # every attribute is a string (SPEC §3)


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    props = SeedProps(item=tuple(sorted(config.table.seed_item.items())))
    return [
        Spec(
            KIND,
            config.primary_region,
            config.table.name,
            props,
            depends_on=(table_key(config),),
        )
    ]


def _attribute(value: dict[str, Any]) -> str:
    """A DynamoDB attribute value as the config would write it; non-strings never match it."""
    if "S" in value:
        return str(value["S"])
    kind, raw = next(iter(value.items()))
    return f"<{kind}> {raw!r}"


class SeedItemHandler(Handler):
    kind = KIND

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        facts = read_table(ctx, spec.region, spec.name)
        if facts is None or facts.status in ("CREATING", "DELETING"):
            return Observed.missing()  # no table, no item
        if not is_owned(facts.tags, ctx.config.stack):
            # Never write into a table the stack does not own: report it as not ours.
            return Observed(exists=True, owned=False, raw={"reason": "table not owned"})
        key = self._key(spec, facts.description)
        if key is None:
            return Observed.missing()  # the table's key is not in the item: the table diff says why
        dynamo = ctx.client("dynamodb", spec.region)
        answer = dynamo.get_item(TableName=spec.name, Key=key, ConsistentRead=True)
        if "Item" not in answer:
            return Observed.missing()
        item = tuple(sorted((k, _attribute(v)) for k, v in answer["Item"].items()))
        return Observed(exists=True, owned=True, props={"item": item}, raw={"key": key})

    def create(self, ctx: Context, spec: Spec) -> None:
        self._put(ctx, spec)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        self._put(ctx, spec)

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        # Not used by `down` (the item goes with its table); kept correct for other callers.
        dynamo = ctx.client("dynamodb", spec.region)
        if observed.raw and "key" in observed.raw:
            with contextlib.suppress(dynamo.exceptions.ResourceNotFoundException):
                dynamo.delete_item(TableName=spec.name, Key=observed.raw["key"])

    def deletes_separately(self, observed: Observed) -> bool:
        return False

    def _put(self, ctx: Context, spec: Spec) -> None:
        props: SeedProps = spec.props
        dynamo = ctx.client("dynamodb", spec.region)
        # PutItem replaces the whole item, so attributes not in the config are dropped.
        dynamo.put_item(TableName=spec.name, Item={k: {"S": v} for k, v in props.item})

    @staticmethod
    def _key(spec: Spec, description: dict[str, Any]) -> dict[str, Any] | None:
        item = dict(spec.props.item)
        names = [k["AttributeName"] for k in description["KeySchema"]]
        if not all(name in item for name in names):
            return None
        return {name: {"S": item[name]} for name in names}


HANDLER = SeedItemHandler()
