"""A replica of the table in each non-primary region (global tables version 2019.11.21).

Replicas are added and removed through UpdateTable on the primary table, one
at a time (DynamoDB refuses a second change while the table is UPDATING), and
take minutes on AWS: every wait prints progress and has a 30-minute budget.
Tags do not replicate, so each replica table is tagged in its own region once
it is ACTIVE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from failover_cli.aws.errors import error_code
from failover_cli.aws.retry import Backoff, retry
from failover_cli.aws.tags import comparable_tags, is_owned, tag_list
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Former, Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import ConflictError, FailoverError
from failover_cli.services.dynamodb_tables import (
    ACTIVE,
    describe,
    forget_table,
    is_protected_error,
    is_source_region_error,
    key_of,
    owned_in_region,
    read_table,
    replica_added_key,
    replica_statuses,
    table_key,
    wait_for,
    wait_table_active,
    when_not_busy,
)

KIND = "replica"
REPLICA_TIMEOUT = 1800.0  # AWS: usually minutes, budget 30
# DynamoDB's refusal of a replica while it does not see the write auto scaling, and how
# long to keep asking after the scaling target was registered.
NOT_AUTOSCALED = "should either be Pay-Per-Request or AutoScaled"
SCALING_VISIBLE_BUDGET = 120.0
# Statuses a replica does not leave by waiting.
FAILED = {
    "CREATION_FAILED": "DynamoDB could not create it",
    "REGION_DISABLED": "the region is disabled for this account",
    "REPLICATION_NOT_AUTHORIZED": "replication is not authorized",
    "INACCESSIBLE_ENCRYPTION_CREDENTIALS": "its encryption key is not accessible",
}


@dataclass(frozen=True)
class ReplicaProps:
    primary_region: str  # where UpdateTable is called (not compared)
    status: str  # always ACTIVE: a replica still CREATING is waited for
    tags: tuple[tuple[str, str], ...]


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    name = config.table.name
    primary = config.primary_region
    tags = tuple(sorted(config.ownership_tags().items()))
    specs: list[Spec] = []
    previous: str | None = None
    for region in config.regions[1:]:
        needs = [table_key(config)]
        if config.table.billing == "provisioned":
            # AWS: a provisioned table needs auto-scaled writes before it takes a replica.
            needs.append(key_of("scaling", primary, name))
        if previous is not None:
            needs.append(key_of(KIND, previous, name))  # one replica at a time
        specs.append(Spec(KIND, region, name, ReplicaProps(primary, ACTIVE, tags), tuple(needs)))
        previous = region
    return specs


def stale_replicas(ctx: Context) -> list[str]:
    """Regions with a replica of the stack's table that the config no longer lists (read-only)."""
    config = ctx.config
    primary = read_table(ctx, config.primary_region, config.table.name)
    if primary is None:
        return []
    return sorted(r for r in primary.replicas if r not in config.regions)


class ReplicaHandler(Handler):
    kind = KIND
    compared_fields = ("status", "tags")

    def leftovers(self, ctx: Context) -> Former:
        return Former(regions=tuple(stale_replicas(ctx)))

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: ReplicaProps = spec.props
        primary = read_table(ctx, props.primary_region, spec.name)
        status = primary.replicas.get(spec.region) if primary is not None else None
        if status == "DELETING":
            return Observed.missing()  # create waits until it is gone, then adds it again
        local = read_table(ctx, spec.region, spec.name)
        if primary is None or status is None:
            if local is None or local.status == "DELETING":
                return Observed.missing()
            # A table of that name that is not a replica: AWS would refuse to create one.
            return Observed(
                exists=True,
                owned=bool(owned_in_region(ctx, spec.region, spec.name)),
                props={"status": "not a replica", "tags": comparable_tags(local.tags, props.tags)},
                raw={"standalone": True},
            )
        if local is None:
            # Still being created: its table is not visible in its region yet.
            owned = is_owned(primary.tags, ctx.config.stack)
        else:
            owned = bool(owned_in_region(ctx, spec.region, spec.name))
        tags = local.tags if local is not None else {}
        return Observed(
            exists=True,
            owned=owned,
            props={"status": status, "tags": comparable_tags(tags, props.tags)},
            raw={"standalone": False},
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        props: ReplicaProps = spec.props
        current = _replica_status(ctx, spec)
        if current == "DELETING":
            _wait_gone(ctx, spec)
            current = None
        if current is None:  # else an interrupted run already started it: just wait
            self._add(ctx, spec)
            ctx.progress(
                spec.region, f"adding a replica of {spec.name} from {props.primary_region}"
            )
        self._finish(ctx, spec)

    def _add(self, ctx: Context, spec: Spec) -> None:
        from botocore.exceptions import ClientError

        def waiting(_error: Exception, pause: float) -> None:
            ctx.progress(
                spec.region,
                f"DynamoDB does not see the write auto scaling yet; retry in {pause:.0f}s",
            )

        try:
            retry(
                lambda: self._request(ctx, spec, {"Create": {"RegionName": spec.region}}),
                retryable=_scaling_not_visible_yet,
                backoff=Backoff(first=2.0, cap=10.0, budget=SCALING_VISIBLE_BUDGET),
                clock=ctx.clock,
                on_retry=waiting,
            )
        except ClientError:
            # A request resent after a lost answer finds the replica its first attempt
            # started (DynamoDB says it "already existed"): that is success.
            if _replica_status(ctx, spec) in (None, "DELETING"):
                raise

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        if (observed.raw or {}).get("standalone"):
            raise ConflictError(
                f"A table {spec.name} exists in {spec.region} but is not a replica of the "
                f"table in {spec.props.primary_region}; DynamoDB cannot turn it into one",
                hint="Delete that table (after saving its data if you need it), or use "
                "another table.name, then re-run `up`.",
                region=spec.region,
            )
        self._finish(ctx, spec)

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        from botocore.exceptions import ClientError

        current = _replica_status(ctx, spec, required=False)
        if current is None:
            return
        _note_replica_created(ctx, spec)
        if current != "DELETING":
            try:
                self._request(ctx, spec, {"Delete": {"RegionName": spec.region}})
            except ClientError as error:
                if _is_gone_error(error):
                    return
                translated = _delete_error(spec, error)
                if translated is None:
                    raise
                raise translated from error
        ctx.progress(spec.region, f"removing the replica of {spec.name} in {spec.region}")
        _wait_gone(ctx, spec)
        # The next replica change (or the table's deletion) needs the table ACTIVE again.
        wait_table_active(ctx, spec.props.primary_region, spec.name)
        _forget(ctx, spec)

    def _request(self, ctx: Context, spec: Spec, update: dict[str, Any]) -> None:
        primary = spec.props.primary_region
        dynamo = ctx.client("dynamodb", primary)
        when_not_busy(
            ctx,
            primary,
            f"replica change for {spec.region}",
            lambda: dynamo.update_table(TableName=spec.name, ReplicaUpdates=[update]),
        )

    def _finish(self, ctx: Context, spec: Spec) -> None:
        """Wait for the replica and the primary to be ACTIVE, then tag the replica table."""
        props: ReplicaProps = spec.props
        _wait_active(ctx, spec)
        primary = wait_table_active(ctx, props.primary_region, spec.name)
        # Same account and partition as the primary: only the region differs.
        parts = primary["TableArn"].split(":")
        parts[3] = spec.region
        arn = ":".join(parts)
        dynamo = ctx.client("dynamodb", spec.region)
        retry(
            lambda: dynamo.tag_resource(ResourceArn=arn, Tags=tag_list(dict(props.tags))),
            # The replica table can show up in its region shortly after it is reported ACTIVE.
            retryable=lambda error: error_code(error) == "ResourceNotFoundException",
            backoff=Backoff(first=2.0, cap=10.0, budget=120.0),
            clock=ctx.clock,
        )
        _forget(ctx, spec)


def _note_replica_created(ctx: Context, spec: Spec) -> None:
    """Remember when this replica was added: its source table cannot be deleted for 24
    hours after that, and the table's delete tells the user when it can go."""
    local = read_table(ctx, spec.region, spec.name)
    created = (local.description if local else {}).get("CreationDateTime")
    if not isinstance(created, datetime):
        return
    key = replica_added_key(spec.name)
    previous = ctx.outputs.get(key)
    if previous is None or created > previous:
        ctx.outputs[key] = created


def _scaling_not_visible_yet(error: Exception) -> bool:
    """Application Auto Scaling is eventually consistent: right after the write target is
    registered, DynamoDB can still refuse a replica of a provisioned table as not
    auto-scaled (AWS re:Post and Terraform's aws_dynamodb_table_replica retry it too)."""
    return error_code(error) == "ValidationException" and NOT_AUTOSCALED in str(error)


def _replica_status(ctx: Context, spec: Spec, *, required: bool = True) -> str | None:
    """The replica's status as the primary table reports it; None when there is no replica."""
    table = describe(ctx, spec.props.primary_region, spec.name)
    if table is None:
        if not required:
            return None
        raise FailoverError(
            f"Table {spec.name} does not exist in {spec.props.primary_region}",
            hint="Run `failover up` again: it creates the table before its replicas.",
            region=spec.region,
        )
    return replica_statuses(table).get(spec.region)


def _wait_active(ctx: Context, spec: Spec) -> None:
    def check() -> bool:
        status = _replica_status(ctx, spec)
        if status in FAILED:
            raise FailoverError(
                f"The replica of {spec.name} in {spec.region} is {status}: {FAILED[status]}",
                hint="Fix the cause (see the DynamoDB console), run `failover down` for this "
                "region's replica if needed, then re-run `up`.",
                region=spec.region,
            )
        return status == ACTIVE

    wait_for(
        ctx,
        spec.region,
        f"replica in {spec.region} to become ACTIVE",
        check,
        timeout=REPLICA_TIMEOUT,
        hint="Replicas usually take a few minutes; re-run `up` to keep waiting (it resumes).",
    )


def _wait_gone(ctx: Context, spec: Spec) -> None:
    wait_for(
        ctx,
        spec.region,
        f"replica in {spec.region} to be removed",
        lambda: _replica_status(ctx, spec, required=False) is None,
        timeout=REPLICA_TIMEOUT,
        hint="Re-run the same command to keep waiting (it resumes).",
    )


def _forget(ctx: Context, spec: Spec) -> None:
    forget_table(ctx, spec.props.primary_region, spec.name)
    forget_table(ctx, spec.region, spec.name)


def _is_gone_error(error: Exception) -> bool:
    # The table is gone, or the region is no longer one of its replicas.
    code = error_code(error)
    text = str(error)
    return code == "ResourceNotFoundException" or (
        code == "ValidationException" and ("not a replica" in text or "does not exist" in text)
    )


def _delete_error(spec: Spec, error: Exception) -> FailoverError | None:
    if is_source_region_error(error):
        return FailoverError(
            f"The replica of {spec.name} in {spec.region} cannot be removed yet: it seeded "
            "another replica in the last 24 hours",
            hint="Re-run `failover down` after 24 hours.",
            region=spec.region,
        )
    if is_protected_error(error):
        return FailoverError(
            f"The replica of {spec.name} in {spec.region} has deletion protection enabled",
            hint="Turn it off in that region (aws dynamodb update-table --table-name "
            f"{spec.name} --no-deletion-protection-enabled --region {spec.region}) and "
            "re-run `down`.",
            region=spec.region,
        )
    return None


HANDLER = ReplicaHandler()
