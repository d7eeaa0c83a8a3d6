"""The DynamoDB table in the primary region.

HASH key (string), streams NEW_AND_OLD_IMAGES (global tables need them),
on-demand or provisioned billing, default encryption (a KMS key would make
every deep ping a KMS request), ownership tags. The key cannot change in
place; deleting refuses protected tables and explains the 24-hour rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from failover_cli.aws.tags import comparable_tags, is_owned, tag_list
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Former, Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.engine.secret import existing_environment
from failover_cli.errors import BadInput, ConflictError, FailoverError
from failover_cli.services.dynamodb_tables import (
    ACTIVE,
    describe,
    forget_table,
    is_protected_error,
    is_source_region_error,
    owned_in_region,
    read_table,
    replica_added_key,
    replica_statuses,
    wait_table_active,
    wait_table_gone,
    when_not_busy,
)

KIND = "table"
STREAM_VIEW = "NEW_AND_OLD_IMAGES"
STREAM_OFF = "off"
PROVISIONED = "PROVISIONED"
PAY_PER_REQUEST = "PAY_PER_REQUEST"
SOURCE_HOLD = timedelta(hours=24)  # a replica's source table is kept this long by DynamoDB


@dataclass(frozen=True)
class TableProps:
    partition_key: str
    billing: str  # PAY_PER_REQUEST | PROVISIONED
    stream: str  # the stream view type, or "off"
    status: str  # always ACTIVE: a table an interrupted run left CREATING/UPDATING is waited for
    tags: tuple[tuple[str, str], ...]
    capacity: int | None = None  # initial units when provisioned; auto scaling owns them after


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    table = config.table
    provisioned = table.billing == "provisioned"
    props = TableProps(
        partition_key=table.partition_key,
        billing=PROVISIONED if provisioned else PAY_PER_REQUEST,
        stream=STREAM_VIEW,
        status=ACTIVE,
        tags=tuple(sorted(config.ownership_tags().items())),
        capacity=table.autoscaling.min if provisioned else None,
    )
    return [Spec(KIND, config.primary_region, table.name, props)]


def _key_description(description: dict[str, Any]) -> str:
    """The key schema in the desired form: the HASH attribute name, anything else spelled out."""
    types = {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]}
    hash_key = next(k["AttributeName"] for k in description["KeySchema"] if k["KeyType"] == "HASH")
    text = hash_key if types.get(hash_key) == "S" else f"{hash_key} (type {types.get(hash_key)})"
    for key in description["KeySchema"]:
        if key["KeyType"] == "RANGE":
            text += f" + sort key {key['AttributeName']}"
    return text


def _throughput(props: TableProps) -> dict[str, Any]:
    if props.billing != PROVISIONED:
        return {}
    units = props.capacity or 1
    return {"ProvisionedThroughput": {"ReadCapacityUnits": units, "WriteCapacityUnits": units}}


def _stream(description: dict[str, Any]) -> str:
    stream = description.get("StreamSpecification") or {}
    return str(stream["StreamViewType"]) if stream.get("StreamEnabled") else STREAM_OFF


class TableHandler(Handler):
    kind = KIND
    compared_fields = ("partition_key", "billing", "stream", "status", "tags")

    def preflight(self, ctx: Context) -> None:
        refuse_primary_move(ctx)

    def leftovers(self, ctx: Context) -> Former:
        return Former(tables=tuple(_table_names(ctx)))

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        facts = read_table(ctx, spec.region, spec.name)
        if facts is None or facts.status == "DELETING":
            return Observed.missing()
        description = facts.description
        summary = description.get("BillingModeSummary") or {}
        return Observed(
            exists=True,
            owned=is_owned(facts.tags, ctx.config.stack),
            props={
                "partition_key": _key_description(description),
                # Tables created before on-demand existed have no summary: provisioned.
                "billing": summary.get("BillingMode", PROVISIONED),
                "stream": _stream(description),
                "status": facts.status,
                "tags": comparable_tags(facts.tags, spec.props.tags),
            },
            raw={"arn": facts.arn, "tags": facts.tags},
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        props: TableProps = spec.props
        dynamo = ctx.client("dynamodb", spec.region)
        args: dict[str, Any] = {
            "TableName": spec.name,
            "AttributeDefinitions": [{"AttributeName": props.partition_key, "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": props.partition_key, "KeyType": "HASH"}],
            "BillingMode": props.billing,
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": props.stream},
            "Tags": tag_list(dict(props.tags)),
            **_throughput(props),
        }
        try:
            dynamo.create_table(**args)
        except dynamo.exceptions.ResourceInUseException:
            # Created meanwhile (an interrupted run) or still being deleted by a `down`.
            current = describe(ctx, spec.region, spec.name)
            if current is None or current["TableStatus"] == "DELETING":
                wait_table_gone(ctx, spec.region, spec.name)
                dynamo.create_table(**args)
            else:
                forget_table(ctx, spec.region, spec.name)
                facts = read_table(ctx, spec.region, spec.name)
                if facts is None or not is_owned(facts.tags, ctx.config.stack):
                    raise ConflictError(
                        f"Table {spec.name} appeared meanwhile without the stack's tags",
                        hint="Another tool or person created it; pick another table.name.",
                    ) from None
        ctx.progress(spec.region, f"creating table {spec.name}")
        wait_table_active(ctx, spec.region, spec.name)
        forget_table(ctx, spec.region, spec.name)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        props: TableProps = spec.props
        changed = {c.field for c in changes}
        if "partition_key" in changed:
            raise FailoverError(
                f"Table {spec.name} has the key {observed.props['partition_key']}, the config "
                f"says {props.partition_key}; DynamoDB cannot change a table's key in place",
                hint=f"Set table.partition_key back to {observed.props['partition_key']}, or use "
                "a new table.name (the old table is left alone), or run `failover down` (which "
                "deletes the table and its data) before `up`.",
                region=spec.region,
            )
        dynamo = ctx.client("dynamodb", spec.region)
        wait_table_active(ctx, spec.region, spec.name)
        # DynamoDB takes one kind of table change per UpdateTable: billing, then streams.
        if "billing" in changed:
            self._set_billing(ctx, spec)
        if "stream" in changed:
            if observed.props.get("stream") != STREAM_OFF:
                # The view type of an existing stream cannot change: turn it off first.
                self._set_stream(ctx, spec, {"StreamEnabled": False})
            self._set_stream(ctx, spec, {"StreamEnabled": True, "StreamViewType": props.stream})
        if "tags" in changed:
            dynamo.tag_resource(ResourceArn=observed.raw["arn"], Tags=tag_list(dict(props.tags)))
        forget_table(ctx, spec.region, spec.name)

    def _set_billing(self, ctx: Context, spec: Spec) -> None:
        from botocore.exceptions import ClientError

        props: TableProps = spec.props
        dynamo = ctx.client("dynamodb", spec.region)
        args = {"TableName": spec.name, "BillingMode": props.billing, **_throughput(props)}
        try:
            when_not_busy(ctx, spec.region, "billing change", lambda: dynamo.update_table(**args))
        except ClientError as error:
            if "AutoScaled" not in str(error):
                raise
            # Replicas need auto-scaled writes, and auto scaling needs a provisioned table.
            raise FailoverError(
                f"Table {spec.name} has replicas, so DynamoDB will not make it provisioned "
                "before its writes are auto-scaled",
                hint="Keep table.billing: on-demand, or rebuild the table with `failover down` "
                "then `up` (this deletes its data).",
                region=spec.region,
            ) from error
        wait_table_active(ctx, spec.region, spec.name)

    def _set_stream(self, ctx: Context, spec: Spec, stream: dict[str, Any]) -> None:
        dynamo = ctx.client("dynamodb", spec.region)
        when_not_busy(
            ctx,
            spec.region,
            "stream change",
            lambda: dynamo.update_table(TableName=spec.name, StreamSpecification=stream),
        )
        wait_table_active(ctx, spec.region, spec.name)

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        from botocore.exceptions import ClientError

        dynamo = ctx.client("dynamodb", spec.region)
        current = describe(ctx, spec.region, spec.name)
        if current is None:
            return
        _refuse_protected_or_replicated(spec, current)
        if current["TableStatus"] != "DELETING":
            try:
                when_not_busy(
                    ctx, spec.region, "delete", lambda: dynamo.delete_table(TableName=spec.name)
                )
            except dynamo.exceptions.ResourceNotFoundException:
                pass
            except ClientError as error:
                added = ctx.outputs.get(replica_added_key(spec.name))
                translated = _delete_error(spec, error, added)
                if translated is None:
                    raise
                raise translated from error
        ctx.progress(spec.region, f"deleting table {spec.name}")
        wait_table_gone(ctx, spec.region, spec.name)
        forget_table(ctx, spec.region, spec.name)


def _refuse_protected_or_replicated(spec: Spec, table: dict[str, Any]) -> None:
    if table.get("DeletionProtectionEnabled"):
        raise FailoverError(
            f"Table {spec.name} has deletion protection enabled; `down` will not delete it",
            hint="Keep it with `down --keep-table`, or turn protection off (aws dynamodb "
            f"update-table --table-name {spec.name} --no-deletion-protection-enabled "
            f"--region {spec.region}) and re-run `down`.",
            region=spec.region,
        )
    # Deleting the table would leave these replicas running on their own, orphaned.
    others = sorted(
        r for r, s in replica_statuses(table).items() if r != spec.region and s != "DELETING"
    )
    if others:
        raise FailoverError(
            f"Table {spec.name} still has replicas in {', '.join(others)}, which were not "
            "removed first",
            hint="Re-run `failover down`: it removes the stack's replicas in every region, "
            "also those no longer in `regions`, before the table.",
            region=spec.region,
        )


def _delete_error(
    spec: Spec, error: Exception, replica_added: datetime | None = None
) -> FailoverError | None:
    if is_source_region_error(error):
        when = "24 hours after its last replica was added"
        if replica_added is not None:
            free = (replica_added + SOURCE_HOLD).astimezone(UTC)
            when = f"from about {free:%Y-%m-%d %H:%M} UTC ({when})"
        return FailoverError(
            f"Table {spec.name} cannot be deleted yet: it seeded a replica in the last 24 hours, "
            f"and DynamoDB keeps such a table for a day; it can be deleted {when}",
            hint="Re-run `failover down` then to delete the table (or keep it with --keep-table).",
            region=spec.region,
        )
    if is_protected_error(error):
        return FailoverError(
            f"Table {spec.name} has deletion protection enabled; `down` will not delete it",
            hint="Turn deletion protection off and re-run `down`, or keep it with --keep-table.",
            region=spec.region,
        )
    return None


def refuse_primary_move(ctx: Context) -> None:
    """The first region is where the table lives. Moving it elsewhere is only an order
    change when the table already has a replica there; otherwise `up` would create a
    second, empty table. Read-only; costs nothing once the table is in the primary."""
    config = ctx.config
    name = config.table.name
    if read_table(ctx, config.primary_region, name) is not None:
        return
    for region in config.regions[1:]:
        facts = read_table(ctx, region, name)
        if facts is None or not owned_in_region(ctx, region, name):
            continue
        raise BadInput(
            f"The first region in `regions` is the table's, but table {name} lives in "
            f"{region} and has no replica in {config.primary_region}: `up` would create a "
            "second, empty table there",
            hint=f"Put {region} first again; to move the table, add {config.primary_region} "
            f"as another region, run `up`, and only then list it first.",
        )


def _table_names(ctx: Context) -> list[str]:
    """The table the functions read when it is not `table.name` (a rename): from their
    environment, which the plan reads anyway (the health-checker secret lives there)."""
    names = set()
    for region in ctx.config.regions:
        variables = existing_environment(ctx, region) or {}
        name = variables.get("TABLE_NAME")
        if name and name != ctx.config.table.name:
            names.add(name)
    return sorted(names)


HANDLER = TableHandler()
