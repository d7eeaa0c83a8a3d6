"""DynamoDB reads, waits and retries shared by the table, seed, scaling and replica handlers.

`read_table` memoises DescribeTable + ListTagsOfResource per region for the
run, so observing the whole stack costs one pair of calls per region; the
waits poll with the run's clock and print progress.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from failover_cli.aws.errors import error_code
from failover_cli.aws.retry import Backoff, retry, wait_until
from failover_cli.aws.tags import is_owned, tag_dict
from failover_cli.config.schema import STACK_TAG, Config
from failover_cli.engine.context import Context
from failover_cli.engine.model import Spec

T = TypeVar("T")

ACTIVE = "ACTIVE"
POLL_INTERVAL = 2.0
TABLE_TIMEOUT = 600.0  # creating or updating a table takes seconds to a few minutes
BUSY_BUDGET = 900.0  # a table stays UPDATING while a replica is added elsewhere


def key_of(kind: str, region: str, name: str) -> str:
    """The spec key of a DynamoDB-side resource, for `depends_on`."""
    return Spec(kind, region, name).key


def table_key(config: Config) -> str:
    return key_of("table", config.primary_region, config.table.name)


@dataclass(frozen=True)
class TableFacts:
    """One region's DescribeTable answer plus the table's tags."""

    description: dict[str, Any]
    tags: dict[str, str]

    @property
    def status(self) -> str:
        return str(self.description.get("TableStatus", ""))

    @property
    def arn(self) -> str:
        return str(self.description["TableArn"])

    @property
    def replicas(self) -> dict[str, str]:
        return replica_statuses(self.description)


def replica_statuses(description: dict[str, Any]) -> dict[str, str]:
    """{region: ReplicaStatus} from a DescribeTable answer."""
    return {r["RegionName"]: r.get("ReplicaStatus", "") for r in description.get("Replicas", [])}


def replica_added_key(name: str) -> str:
    """ctx.outputs key: when the newest replica of table `name` was added (a datetime)."""
    return f"replica-added:{name}"


def read_table(ctx: Context, region: str, name: str) -> TableFacts | None:
    """Description and tags of the table in `region`, memoised for this run (read-only)."""
    return ctx.memo(f"dynamodb-table:{region}:{name}", lambda: _read(ctx, region, name))


def forget_table(ctx: Context, region: str, name: str) -> None:
    """Drop the memoised read after a change, so a later observe sees the new state."""
    ctx.forget(f"dynamodb-table:{region}:{name}")


def _read(ctx: Context, region: str, name: str) -> TableFacts | None:
    dynamo = ctx.client("dynamodb", region)
    description = describe(ctx, region, name)
    if description is None:
        return None
    tags: dict[str, str] = {}
    kwargs: dict[str, str] = {"ResourceArn": description["TableArn"]}
    while True:
        try:
            page = dynamo.list_tags_of_resource(**kwargs)
        except dynamo.exceptions.ResourceNotFoundException:
            return TableFacts(description, tags)  # a replica still being created has no tags yet
        tags.update(tag_dict(page.get("Tags")))
        if not page.get("NextToken"):
            return TableFacts(description, tags)
        kwargs["NextToken"] = page["NextToken"]


def describe(ctx: Context, region: str, name: str) -> dict[str, Any] | None:
    """A fresh DescribeTable (no memo), None when the table does not exist."""
    dynamo = ctx.client("dynamodb", region)
    try:
        table: dict[str, Any] = dynamo.describe_table(TableName=name)["Table"]
    except dynamo.exceptions.ResourceNotFoundException:
        return None
    return table


def owned_in_region(ctx: Context, region: str, name: str) -> bool | None:
    """Whether the table called `name` in `region` belongs to the stack; None if there is none.

    A replica is tagged after it becomes ACTIVE (tags do not replicate), so a run
    interrupted in between leaves it untagged: a replica without any stack tag
    of an owned primary table is still the stack's.
    """
    facts = read_table(ctx, region, name)
    if facts is None:
        return None
    stack = ctx.config.stack
    if is_owned(facts.tags, stack):
        return True
    primary_region = ctx.config.primary_region
    if region == primary_region or STACK_TAG in facts.tags:
        return False
    primary = read_table(ctx, primary_region, name)
    return primary is not None and is_owned(primary.tags, stack) and region in primary.replicas


def wait_for(
    ctx: Context,
    region: str,
    what: str,
    check: Callable[[], T | None],
    *,
    timeout: float,
    hint: str,
) -> T:
    """Poll `check` with the run's clock, printing "waiting for <what> (12s)" as it goes."""
    return wait_until(
        check,
        what=what,
        timeout=timeout,
        interval=POLL_INTERVAL,
        clock=ctx.clock,
        hint=hint,
        region=region,
        on_poll=lambda elapsed: ctx.progress(region, f"waiting for {what} ({int(elapsed)}s)"),
    )


def wait_table_active(ctx: Context, region: str, name: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        # Right after CreateTable, DescribeTable may briefly say "not found": keep polling.
        table = describe(ctx, region, name)
        return table if table is not None and table["TableStatus"] == ACTIVE else None

    return wait_for(
        ctx,
        region,
        f"table {name} to become ACTIVE",
        check,
        timeout=TABLE_TIMEOUT,
        hint="Look at the table in the DynamoDB console, then re-run the same command; "
        "it resumes where it stopped.",
    )


def wait_table_gone(ctx: Context, region: str, name: str) -> None:
    wait_for(
        ctx,
        region,
        f"table {name} to be deleted",
        lambda: describe(ctx, region, name) is None,
        timeout=TABLE_TIMEOUT,
        hint="Re-run the same command later; deleting a table is finished by DynamoDB.",
    )


def when_not_busy(ctx: Context, region: str, what: str, call: Callable[[], T]) -> T:
    """Run a control-plane call, retrying while the table is busy with another change, or
    while DynamoDB still replicates writes a replica's deletion waits for (bounded)."""
    return retry(
        call,
        retryable=lambda error: (
            error_code(error) == "ResourceInUseException" or is_replicating_error(error)
        ),
        backoff=Backoff(first=5.0, cap=30.0, budget=BUSY_BUDGET),
        clock=ctx.clock,
        on_retry=lambda _e, pause: ctx.progress(
            region, f"table busy with another change; retrying {what} in {int(pause)}s"
        ),
    )


def is_source_region_error(error: Exception) -> bool:
    return error_code(error) == "ValidationException" and "acted as a source region" in str(error)


def is_replicating_error(error: Exception) -> bool:
    """DynamoDB's "the last active replica ... cannot be deleted until all writes are
    replicated": a passing state of a global table, like ResourceInUseException."""
    text = str(error).lower()
    return error_code(error) == "ValidationException" and (
        "until all writes are replicated" in text or "last active replica" in text
    )


def is_protected_error(error: Exception) -> bool:
    """AWS's wordings: "Resource cannot be deleted as it is currently protected against
    deletion", "... deletion protection enabled", the DeletionProtectionEnabled field."""
    text = str(error).lower()
    return error_code(error) == "ValidationException" and (
        "deletionprotection" in text
        or "protected against deletion" in text
        or "deletion protection" in text
    )
