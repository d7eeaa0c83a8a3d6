"""The switch item (`services/switch_item`), seeded by `up` in the primary table with no
region forced out.

Only its existence is managed: its content is operator state (force-fail writes it), so
`up` creates it when missing, with a conditional put that never overwrites a switch a
force-fail wrote meanwhile, and never changes it afterwards. It goes with the table.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from failover_cli.aws.errors import error_code
from failover_cli.aws.tags import is_owned
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.services.dynamodb_tables import read_table, table_key
from failover_cli.services.switch_item import SWITCH_KEY_VALUE, switch_key

KIND = "switch_item"


@dataclass(frozen=True)
class SwitchItemProps:
    key: str  # the partition key's value


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    props = SwitchItemProps(key=SWITCH_KEY_VALUE)
    return [
        Spec(KIND, config.primary_region, config.table.name, props, depends_on=(table_key(config),))
    ]


class SwitchItemHandler(Handler):
    kind = KIND

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        facts = read_table(ctx, spec.region, spec.name)
        if facts is None or facts.status in ("CREATING", "DELETING"):
            return Observed.missing()
        if not is_owned(facts.tags, ctx.config.stack):
            return Observed(exists=True, owned=False, raw={"reason": "table not owned"})
        dynamo = ctx.client("dynamodb", spec.region)
        key = switch_key(ctx.config)
        answer = dynamo.get_item(TableName=spec.name, Key=key, ConsistentRead=True)
        if "Item" not in answer:
            return Observed.missing()
        return Observed(exists=True, props={"key": spec.props.key}, raw={"key": key})

    def create(self, ctx: Context, spec: Spec) -> None:
        dynamo = ctx.client("dynamodb", spec.region)
        key = switch_key(ctx.config)
        (name,) = key
        try:
            dynamo.put_item(
                TableName=spec.name,
                Item={**key, "forced_out": {"M": {}}, "revision": {"N": "0"}},
                ConditionExpression="attribute_not_exists(#k)",
                ExpressionAttributeNames={"#k": name},
            )
        except Exception as error:  # a force-fail wrote it first: keep theirs
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        """Never: its content is operator state."""

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        dynamo = ctx.client("dynamodb", spec.region)
        with contextlib.suppress(dynamo.exceptions.ResourceNotFoundException):
            dynamo.delete_item(TableName=spec.name, Key=switch_key(ctx.config))

    def deletes_separately(self, observed: Observed) -> bool:
        return False


HANDLER = SwitchItemHandler()
