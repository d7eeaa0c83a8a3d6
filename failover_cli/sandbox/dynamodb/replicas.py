"""DynamoDB global tables (version 2019.11.21) on top of moto's per-region tables.

moto accepts `ReplicaUpdates` and ignores them. Here a *replica group* is the
set of regions whose same-named tables replicate to each other: this module
keeps the groups, creates and deletes the replica tables in moto's backends,
copies items between them and describes the group as AWS's DescribeTable
does. Request parsing and error answers live in `global_tables`.

Every public method must be called with `lock` held: moto's backends are
plain dicts shared by the server's request threads and the scheduler.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from failover_cli.sandbox.aws_rules import AwsRules
from failover_cli.sandbox.dynamodb.backlog import Backlog
from failover_cli.sandbox.scheduler import Scheduler

if TYPE_CHECKING:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

GLOBAL_TABLE_VERSION = "2019.11.21"
# Emulated seconds for a replica to become ACTIVE or to go away (minutes on AWS).
REPLICA_CREATE_SECONDS = 1.0
REPLICA_DELETE_SECONDS = 1.0
REQUIRED_STREAM_VIEW = "NEW_AND_OLD_IMAGES"
# AWS's answers to DeleteTable on a recent replica source, and to a replica of a
# provisioned table whose writes DynamoDB does not see auto-scaled (yet).
SOURCE_REGION_MESSAGE = (
    "Replica cannot be deleted because it has acted as a source region for new replica(s) "
    "being added to the table in the last 24 hours."
)
NOT_AUTOSCALED_MESSAGE = "Table write capacity should either be Pay-Per-Request or AutoScaled."
WRITE_DIMENSION = "dynamodb:table:WriteCapacityUnits"


class ReplicaStatus(StrEnum):
    CREATING = "CREATING"
    ACTIVE = "ACTIVE"
    DELETING = "DELETING"


class ReplicaError(Exception):
    """A request AWS would refuse; `code` is the DynamoDB error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> ReplicaError:
    return ReplicaError(
        "ValidationException", f"One or more parameter values were invalid: {message}"
    )


@dataclass(eq=False)
class Replica:
    region: str
    table: Table  # moto's table object: if moto's backend holds another, this replica is gone
    status: ReplicaStatus


@dataclass(eq=False)
class ReplicaGroup:
    account_id: str
    name: str
    replicas: dict[str, Replica] = field(default_factory=dict)

    @property
    def busy(self) -> bool:
        return any(r.status is not ReplicaStatus.ACTIVE for r in self.replicas.values())

    def table_status(self, region: str) -> str:
        own = self.replicas[region].status
        if own is not ReplicaStatus.ACTIVE:
            return own.value
        return "UPDATING" if self.busy else "ACTIVE"

    def receivers(self, region: str) -> list[Replica]:
        """The replicas a write in `region` reaches: all others not being deleted."""
        return [
            r
            for r in self.replicas.values()
            if r.region != region and r.status is not ReplicaStatus.DELETING
        ]


class GlobalTables:
    """The sandbox's replica groups, keyed by (account, table name)."""

    def __init__(
        self,
        scheduler: Scheduler,
        rules: AwsRules | None = None,
        paused: Callable[[str], bool] = lambda _r: False,
    ):
        self.lock = threading.RLock()
        self._scheduler = scheduler
        self._rules = rules or AwsRules()
        self._groups: dict[tuple[str, str], ReplicaGroup] = {}
        # (account, region, name) -> (real moment it last seeded a replica, that table)
        self._sources: dict[tuple[str, str, str], tuple[float, Table]] = {}
        # Writes held back while their source or receiving region is in an outage.
        self.backlog = Backlog(paused)

    # -- lookups -------------------------------------------------------------

    def table(self, account_id: str, region: str, name_or_arn: str) -> Table | None:
        backend = _backend(account_id, region)
        table = backend.tables.get(name_or_arn)
        if table is None and name_or_arn.startswith("arn:"):
            table = next((t for t in backend.tables.values() if t.table_arn == name_or_arn), None)
        return table

    def group(self, account_id: str, region: str, name: str) -> ReplicaGroup | None:
        """The group of `region`'s table `name`; forgets tables deleted behind our back."""
        group = self._groups.get((account_id, name))
        if group is None:
            return None
        for replica in list(group.replicas.values()):
            if _backend(account_id, replica.region).tables.get(name) is not replica.table:
                del group.replicas[replica.region]
        self._dissolve_if_alone(group)
        alive = self._groups.get((account_id, name)) is group
        return group if alive and region in group.replicas else None

    # -- UpdateTable / DeleteTable ------------------------------------------------

    def check_not_busy(self, account_id: str, region: str, table: Table) -> None:
        """AWS refuses UpdateTable and DeleteTable while the table is not ACTIVE."""
        group = self.group(account_id, region, table.name)
        if group is not None and group.busy:
            doing = "created" if group.table_status(region) == "CREATING" else "updated"
            raise ReplicaError(
                "ResourceInUseException",
                "Attempt to change a resource which is still in use: "
                f"Table is being {doing}: {table.name}",
            )

    def check_not_recent_source(self, account_id: str, region: str, table: Table) -> None:
        """AWS keeps a table that seeded a new replica for 24 hours (`source_table_hold`):
        DeleteTable answers ValidationException ("Global tables: how it works", DynamoDB
        Developer Guide)."""
        seeded = self._sources.get((account_id, region, table.name))
        if seeded is None or seeded[1] is not table:
            return
        hold = self._scheduler.real_seconds(self._rules.source_table_hold)
        if time.monotonic() - seeded[0] < hold:
            raise ReplicaError("ValidationException", SOURCE_REGION_MESSAGE)

    def check_write_autoscaled(self, account_id: str, region: str, table: Table) -> None:
        """A provisioned table takes a replica only once its write capacity is auto-scaled,
        and DynamoDB sees a new scaling target a moment after it is registered
        (`scaling_visible_after`; "Using global tables with provisioned capacity")."""
        if table.billing_mode == "PAY_PER_REQUEST":
            return
        from moto.applicationautoscaling.models import applicationautoscaling_backends

        targets = applicationautoscaling_backends[account_id][region].targets
        target = targets.get(WRITE_DIMENSION, {}).get(f"table/{table.name}")
        visible = self._rules.scaling_visible_after
        if target is None or time.time() - float(target.creation_time) < visible:
            raise ReplicaError("ValidationException", NOT_AUTOSCALED_MESSAGE)

    def check_stream_change(
        self, account_id: str, region: str, table: Table, spec: Mapping[str, Any] | None
    ) -> None:
        if (
            spec is not None
            and spec.get("StreamEnabled") is False
            and self.group(account_id, region, table.name)
        ):
            raise _invalid("Disabling Stream is not allowed for a Global Table replica.")

    def validate_updates(
        self,
        account_id: str,
        region: str,
        table: Table,
        updates: list[dict[str, Any]],
        stream_spec: Mapping[str, Any] | None,
    ) -> None:
        """What AWS checks before it accepts `ReplicaUpdates` (after `check_not_busy`)."""
        group = self.group(account_id, region, table.name)
        members = set(group.replicas) if group else {region}
        spec = stream_spec if stream_spec is not None else (table.stream_specification or {})
        for update in updates:
            if len(update) != 1 or next(iter(update)) not in ("Create", "Update", "Delete"):
                raise _invalid(
                    "each ReplicaUpdates entry needs exactly one of Create, Update, Delete"
                )
            action, detail = next(iter(update.items()))
            target = str((detail or {}).get("RegionName", ""))
            if target not in _backend_regions(account_id):
                raise _invalid(f"Invalid region name: {target!r}")
            if action == "Create":
                if not (
                    spec.get("StreamEnabled") and spec.get("StreamViewType") == REQUIRED_STREAM_VIEW
                ):
                    raise ReplicaError(
                        "ValidationException",
                        "Table must have DynamoDB Streams enabled with StreamViewType set to "
                        f"{REQUIRED_STREAM_VIEW} to add replicas: {table.name}",
                    )
                self.check_write_autoscaled(account_id, region, table)
                if target in members or table.name in _backend(account_id, target).tables:
                    raise ReplicaError(
                        "ValidationException",
                        f"Failed to create a the new replica of table with name: '{table.name}' "
                        "because one or more replicas already existed as tables.",
                    )
                members.add(target)
            elif target not in members:
                raise _invalid(f"Replica for table {table.name} does not exist in region {target}")
            elif action == "Delete":
                members.discard(target)

    def apply_updates(
        self, account_id: str, region: str, table: Table, updates: list[dict[str, Any]]
    ) -> None:
        """Carry out validated `ReplicaUpdates` (after moto accepted the rest of UpdateTable)."""
        group = self._groups.get((account_id, table.name)) or ReplicaGroup(account_id, table.name)
        group.replicas.setdefault(region, Replica(region, table, ReplicaStatus.ACTIVE))
        self._groups[(account_id, table.name)] = group
        for update in updates:
            action, detail = next(iter(update.items()))
            target = detail["RegionName"]
            read_override = (detail.get("ProvisionedThroughputOverride") or {}).get(
                "ReadCapacityUnits"
            )
            if action == "Create":
                self._create(group, table, target, read_override)
                self._sources[(account_id, region, table.name)] = (time.monotonic(), table)
            elif action == "Delete":
                self._delete(group, target)
            elif (
                read_override is not None
                and group.replicas[target].table.billing_mode != "PAY_PER_REQUEST"
            ):
                group.replicas[target].table.throughput["ReadCapacityUnits"] = read_override
        self._dissolve_if_alone(group)

    def forget(self, account_id: str, region: str, name: str) -> None:
        """`region`'s table was deleted (DeleteTable): it leaves its group."""
        group = self._groups.get((account_id, name))
        if group is not None:
            group.replicas.pop(region, None)
            self._dissolve_if_alone(group)

    def describe(self, account_id: str, region: str, description: dict[str, Any]) -> bool:
        """Add what AWS's TableDescription says about the group (in place); False: no group."""
        group = self.group(account_id, region, str(description.get("TableName", "")))
        if group is None:
            return False
        description["TableStatus"] = group.table_status(region)
        description["GlobalTableVersion"] = GLOBAL_TABLE_VERSION
        description["Replicas"] = [
            {"RegionName": r.region, "ReplicaStatus": r.status.value}
            for r in group.replicas.values()
            if r.region != region
        ]
        return True

    # -- writes --------------------------------------------------------------

    def replicate_items(
        self, account_id: str, region: str, writes: Iterable[tuple[str, Mapping[str, Any]]]
    ) -> None:
        """Copy the current state of each written (table, key or item) to the other replicas."""
        for name_or_arn, attributes in writes:
            source = self.table(account_id, region, name_or_arn)
            group = self.group(account_id, region, source.name) if source is not None else None
            if (
                source is None
                or group is None
                or group.replicas[region].status is ReplicaStatus.DELETING
            ):
                continue
            now = self._deliver_now(group, region, attributes)
            _copy_item(
                source, [r.table for r in group.receivers(region) if r.region in now], attributes
            )

    def replicate_region(self, account_id: str, region: str) -> None:
        """Make every group table in `region` the truth for its replicas (writes we cannot key)."""
        for (account, name), group in list(self._groups.items()):
            if self.group(account, region, name) is None or account != account_id:
                continue
            source = group.replicas[region]
            if source.status is not ReplicaStatus.DELETING:
                now = self._deliver_now(group, region, None)
                for receiver in group.receivers(region):
                    if receiver.region in now:
                        _copy_table(source.table, receiver.table)

    def catch_up(self) -> None:
        """Replicate what an outage held back, now that both its regions work."""
        for pending in self.backlog.ready():
            source = self.table(pending.account_id, pending.source, pending.name)
            target = self.table(pending.account_id, pending.receiver, pending.name)
            if source is None or target is None:
                continue  # a replica deleted meanwhile: nothing to catch up with
            if pending.attributes is None:
                _copy_table(source, target)
            else:
                _copy_item(source, [target], pending.attributes)

    def _deliver_now(
        self, group: ReplicaGroup, region: str, attributes: Mapping[str, Any] | None
    ) -> set[str]:
        receivers = [r.region for r in group.receivers(region)]
        return set(
            self.backlog.hold_back(group.account_id, group.name, region, receivers, attributes)
        )

    # -- transitions ---------------------------------------------------------

    def _create(
        self, group: ReplicaGroup, source: Table, region: str, read_override: int | None
    ) -> None:
        table = _create_replica_table(source, _backend(group.account_id, region), read_override)
        replica = Replica(region, table, ReplicaStatus.CREATING)
        group.replicas[region] = replica
        self._scheduler.call_later(REPLICA_CREATE_SECONDS, lambda: self._settle(group, replica))

    def _delete(self, group: ReplicaGroup, region: str) -> None:
        replica = group.replicas[region]
        replica.status = ReplicaStatus.DELETING
        self._scheduler.call_later(REPLICA_DELETE_SECONDS, lambda: self._settle(group, replica))

    def _settle(self, group: ReplicaGroup, replica: Replica) -> None:
        """A CREATING replica becomes ACTIVE; a DELETING one disappears with its table."""
        with self.lock:
            if group.replicas.get(replica.region) is not replica:
                return  # deleted or replaced meanwhile
            if replica.status is ReplicaStatus.CREATING:
                replica.status = ReplicaStatus.ACTIVE
            elif replica.status is ReplicaStatus.DELETING:
                tables = _backend(group.account_id, replica.region).tables
                if tables.get(group.name) is replica.table:
                    del tables[group.name]
                del group.replicas[replica.region]
            self._dissolve_if_alone(group)

    def _dissolve_if_alone(self, group: ReplicaGroup) -> None:
        """A table with no replica left is a plain table again."""
        if len(group.replicas) <= 1 and not group.busy:
            key = (group.account_id, group.name)
            if self._groups.get(key) is group:
                del self._groups[key]


def _backend(account_id: str, region: str) -> DynamoDBBackend:
    from moto.backends import get_backend

    backend: DynamoDBBackend = get_backend("dynamodb")[account_id][region]
    return backend


def _backend_regions(account_id: str) -> list[str]:
    from moto.backends import get_backend

    return list(get_backend("dynamodb")[account_id].regions)


def _create_replica_table(
    source: Table, backend: DynamoDBBackend, read_override: int | None
) -> Table:
    """Same keys, attributes, indexes, billing and stream as `source`, with its items."""
    provisioned = source.billing_mode != "PAY_PER_REQUEST"
    throughput = None
    if provisioned:
        throughput = {
            "ReadCapacityUnits": read_override or source.throughput["ReadCapacityUnits"],
            "WriteCapacityUnits": source.throughput["WriteCapacityUnits"],
        }
    gsis = []
    for index in source.global_indexes:
        spec = {"IndexName": index.name, "KeySchema": index.schema, "Projection": index.projection}
        if provisioned:
            spec["ProvisionedThroughput"] = {
                "ReadCapacityUnits": index.throughput["ReadCapacityUnits"],
                "WriteCapacityUnits": index.throughput["WriteCapacityUnits"],
            }
        gsis.append(spec)
    table = backend.create_table(
        name=source.name,
        schema=copy.deepcopy(source.schema),
        throughput=throughput,
        attr=copy.deepcopy(source.attr),
        global_indexes=copy.deepcopy(gsis) or None,
        indexes=copy.deepcopy([index.describe() for index in source.indexes]) or None,
        streams=copy.deepcopy(source.stream_specification),
        billing_mode=source.billing_mode or "PROVISIONED",
        sse_specification=None,
        tags=[],  # tags are per replica on AWS too
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    table.ttl = copy.deepcopy(source.ttl)  # TTL settings replicate
    _copy_table(source, table)
    return table


def _key(table: Table, attributes: Mapping[str, Any]) -> tuple[Any, Any]:
    """moto's (hash, range) DynamoType key of an item or key in wire format."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_key = DynamoType(attributes[table.hash_key_attr])
    range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    return hash_key, range_key


def _copy_item(source: Table, targets: list[Table], attributes: Mapping[str, Any]) -> None:
    hash_key, range_key = _key(source, attributes)
    item = source.get_item(hash_key, range_key)
    for target in targets:
        if item is None:
            target.delete_item(hash_key, range_key)
        else:
            # Wire format, deep-copied: replicas must never share mutable values.
            target.put_item(copy.deepcopy(item.to_json()["Attributes"]), overwrite=True)


def _copy_table(source: Table, target: Table) -> None:
    """Make `target` hold exactly `source`'s items."""
    wanted = {(item.hash_key, item.range_key) for item in source.all_items()}
    for item in target.all_items():
        if (item.hash_key, item.range_key) not in wanted:
            target.delete_item(item.hash_key, item.range_key)
    for item in source.all_items():
        target.put_item(copy.deepcopy(item.to_json()["Attributes"]), overwrite=True)
