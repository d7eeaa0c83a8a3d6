"""The interceptor that turns moto's DynamoDB into global tables 2019.11.21.

- UpdateTable `ReplicaUpdates` create/delete replica tables (checked as AWS
  checks them first: table ACTIVE, streams NEW_AND_OLD_IMAGES, ...);
- DescribeTable/UpdateTable answers carry `Replicas`, `GlobalTableVersion`
  and the group's `TableStatus`;
- every successful write is copied to the other replicas before the answer
  goes back (replication "within a second", the simple way);
- DeleteTable in one region removes that replica from its group, and is refused
  on a table that seeded a replica within the last 24 hours (`aws_rules`);
- a replica of a provisioned table needs write auto scaling DynamoDB can see.

The group bookkeeping itself is `replicas.GlobalTables`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.dynamodb.replicas import GlobalTables, ReplicaError
from failover_cli.sandbox.layer import Forward, OperationInterceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_error

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
# Which items a PartiQL statement changed is not worth parsing: whole tables are synced.
PARTIQL = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
Write = tuple[str, Mapping[str, Any]]  # (table name or ARN, item or key attributes)


def install(context: SandboxContext) -> None:
    tables = GlobalTables(
        context.scheduler, context.rules, paused=context.outages.replication_paused
    )
    context.layer.add(GlobalTablesInterceptor(tables))

    def outage_changed(_region: str, _mode: object) -> None:
        with tables.lock:  # the same lock as every write: no copy crosses a catch-up
            tables.catch_up()

    context.outages.subscribe(outage_changed)


class GlobalTablesInterceptor(OperationInterceptor):
    service = "dynamodb"
    operations = frozenset(
        {
            "UpdateTable",
            "DescribeTable",
            "DeleteTable",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchWriteItem",
            "TransactWriteItems",
            *PARTIQL,
        }
    )

    def __init__(self, tables: GlobalTables):
        self.tables = tables
        self._handlers: dict[str, Callable[[AwsRequest, Forward], Response]] = {
            "UpdateTable": self._update_table,
            "DescribeTable": self._describe_table,
            "DeleteTable": self._delete_table,
        }

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        handler = self._handlers.get(request.operation or "", self._write)
        # One lock around moto's work and the copy: concurrent writes to two
        # replicas of the same item must not cross over and leave them different.
        with self.tables.lock:
            try:
                return handler(request, forward)
            except ReplicaError as error:
                return json_error(error.code, error.message, prefix=ERROR_PREFIX)

    def _update_table(self, request: AwsRequest, forward: Forward) -> Response:
        body = request.json()
        account, region = request.account_id, request.region
        table = self.tables.table(account, region, str(body.get("TableName", "")))
        if table is None:
            return forward(request)  # moto says ResourceNotFound
        updates = list(body.get("ReplicaUpdates") or [])
        self.tables.check_not_busy(account, region, table)
        self.tables.check_stream_change(account, region, table, body.get("StreamSpecification"))
        if updates:
            self.tables.validate_updates(
                account, region, table, updates, body.get("StreamSpecification")
            )
        response = forward(request)  # moto applies the rest and ignores ReplicaUpdates
        if response.ok and updates:
            self.tables.apply_updates(account, region, table, updates)
        return self._with_group(request, response, "TableDescription")

    def _describe_table(self, request: AwsRequest, forward: Forward) -> Response:
        return self._with_group(request, forward(request), "Table")

    def _delete_table(self, request: AwsRequest, forward: Forward) -> Response:
        account, region = request.account_id, request.region
        table = self.tables.table(account, region, str(request.json().get("TableName", "")))
        if table is not None:
            self.tables.check_not_busy(account, region, table)
            self.tables.check_not_recent_source(account, region, table)
        response = forward(request)
        if response.ok and table is not None:
            self.tables.forget(account, region, table.name)
        return response

    def _write(self, request: AwsRequest, forward: Forward) -> Response:
        response = forward(request)
        if not response.ok:
            return response
        if request.operation in PARTIQL:
            if _partiql_writes(request.json()):
                self.tables.replicate_region(request.account_id, request.region)
        else:
            writes = _writes(request.operation or "", request.json())
            self.tables.replicate_items(request.account_id, request.region, writes)
        return response

    def _with_group(self, request: AwsRequest, response: Response, key: str) -> Response:
        """Rewrite a TableDescription the way AWS shows a global table."""
        if not response.ok:
            return response
        payload = response.json()
        description = payload.get(key)
        if isinstance(description, dict) and self.tables.describe(
            request.account_id, request.region, description
        ):
            return response.with_json(payload)
        return response


def _writes(operation: str, body: Mapping[str, Any]) -> Iterator[Write]:
    """The (table, item-or-key) pairs a successful write request changed."""
    if operation == "PutItem":
        yield body["TableName"], body["Item"]
    elif operation in ("UpdateItem", "DeleteItem"):
        yield body["TableName"], body["Key"]
    elif operation == "BatchWriteItem":
        for table, requests in body.get("RequestItems", {}).items():
            for entry in requests:
                if "PutRequest" in entry:
                    yield table, entry["PutRequest"]["Item"]
                elif "DeleteRequest" in entry:
                    yield table, entry["DeleteRequest"]["Key"]
    elif operation == "TransactWriteItems":
        for entry in body.get("TransactItems", []):
            for kind, field in (("Put", "Item"), ("Update", "Key"), ("Delete", "Key")):
                if kind in entry:
                    yield entry[kind]["TableName"], entry[kind][field]


def _partiql_writes(body: Mapping[str, Any]) -> bool:
    """Whether a PartiQL request holds anything but SELECTs."""
    statements = [body.get("Statement", "")]
    statements += [s.get("Statement", "") for s in body.get("Statements", [])]
    statements += [s.get("Statement", "") for s in body.get("TransactStatements", [])]
    return any(not str(text).lstrip().upper().startswith("SELECT") for text in statements if text)
