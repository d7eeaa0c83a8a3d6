"""Writing and reading the switch item through the table replicas, data plane only.

`write_forced_out` sends one conditional UpdateItem to the replica of every region but
the one being forced out (or restored) at once, and succeeds on the first that answers:
global tables replicate it to the others. No call goes to that region, and none to
us-east-1 unless it is simply one of the replicas written to; the calls that have not
answered are left behind on daemon threads, bounded by `timeout`. Each write is
conditional on the item `up` seeded (its `forced_out` map), and on the region's entry
being as the caller read it, so nothing is ever half-written: an entry is whole or absent.

`read_switch` reads every replica at once and keeps what answers within `timeout`:
replica region -> the set of regions it sees forced out (a disagreement is replication
lag or an impaired region, which callers name).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from failover_cli.aws.deadlines import Deadline
from failover_cli.aws.errors import error_code
from failover_cli.engine.context import Context
from failover_cli.errors import FailoverError
from failover_cli.services.switch_item import switch_key

DEFAULT_TIMEOUT = 8.0  # seconds: force-fail must answer within 10 s with a region hanging
# Each replica's call: short, as the first answering replica is all that is needed.
SWITCH_CALL = Deadline("switch", connect_timeout=3, read_timeout=5, max_attempts=2, call_budget=8)


@dataclass(frozen=True)
class SwitchWrite:
    region: str  # forced out (or restored)
    forced_out: bool
    written_in: str  # the replica that answered first
    changed: bool  # False: it already was as wanted there


def _dynamo(ctx: Context, replica: str) -> Any:
    return ctx.client("dynamodb", replica, SWITCH_CALL)


def _first(calls: dict[str, Callable[[], Any]], timeout: float) -> tuple[str, Any, dict[str, str]]:
    """Run every call at once on daemon threads: (region, answer) of the first that
    succeeds, and the errors of those that failed meanwhile. Raises when none succeeds."""
    answers: queue.Queue[tuple[str, Any, BaseException | None]] = queue.Queue()

    def run(region: str, call: Callable[[], Any]) -> None:
        try:
            answers.put((region, call(), None))
        except BaseException as error:  # reported to the caller, never lost on the thread
            answers.put((region, None, error))

    for region, call in calls.items():
        threading.Thread(target=run, args=(region, call), daemon=True).start()
    errors: dict[str, str] = {}
    deadline = datetime.now(UTC).timestamp() + timeout
    while len(errors) < len(calls):
        left = deadline - datetime.now(UTC).timestamp()
        try:
            region, answer, error = answers.get(timeout=max(left, 0.0))
        except queue.Empty:
            break
        if error is None:
            return region, answer, errors
        errors[region] = error_code(error) or type(error).__name__
    silent = [r for r in calls if r not in errors]
    raise FailoverError(
        "No table replica of another region took the switch write"
        + (f" (failed: {', '.join(f'{r} {e}' for r, e in errors.items())})" if errors else "")
        + (f" (no answer within {timeout:.0f}s: {', '.join(silent)})" if silent else ""),
        hint="Nothing was written where no replica answered; re-run the command "
        "(each write is conditional, so a repeat is safe).",
    )


def write_forced_out(
    ctx: Context,
    region: str,
    forced_out: bool,
    *,
    by: str,
    why: str,
    timeout: float = DEFAULT_TIMEOUT,
) -> SwitchWrite:
    """Force `region` out of (or back into) DNS by writing the switch in every other
    region's replica at once; success on the first that answers."""
    config = ctx.config
    key = switch_key(config)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    names = {"#r": region, "#f": "forced_out"}
    if forced_out:
        entry = {"M": {"at": {"S": now}, "by": {"S": by}, "why": {"S": why}}}
        update: dict[str, Any] = {
            "UpdateExpression": "SET #f.#r = :e, updated_at = :t ADD revision :one",
            "ConditionExpression": "attribute_exists(#f) AND attribute_not_exists(#f.#r)",
            "ExpressionAttributeValues": {":e": entry, ":t": {"S": now}, ":one": {"N": "1"}},
        }
    else:
        update = {
            "UpdateExpression": "REMOVE #f.#r SET updated_at = :t ADD revision :one",
            "ConditionExpression": "attribute_exists(#f.#r)",
            "ExpressionAttributeValues": {":t": {"S": now}, ":one": {"N": "1"}},
        }

    def writer(replica: str) -> Callable[[], bool]:
        def write() -> bool:
            try:
                _dynamo(ctx, replica).update_item(
                    TableName=config.table.name, Key=key, ExpressionAttributeNames=names, **update
                )
            except Exception as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    return False  # already as wanted in this replica (or not seeded: see below)
                raise
            return True

        return write

    others = [r for r in config.regions if r != region]
    replica, changed, _ = _first({r: writer(r) for r in others}, timeout)
    return SwitchWrite(region, forced_out, replica, bool(changed))


def read_replica(ctx: Context, replica: str) -> dict[str, dict[str, str]] | None:
    """The regions `replica`'s copy of the switch holds forced out, each with its at/by/why
    (None: that replica has no switch item, or no table). One consistent GetItem."""
    config = ctx.config
    try:
        item = (
            _dynamo(ctx, replica)
            .get_item(TableName=config.table.name, Key=switch_key(config), ConsistentRead=True)
            .get("Item")
        )
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise
    if item is None:
        return None
    entries = item.get("forced_out", {}).get("M", {})
    return {
        region: {k: str(v.get("S", "")) for k, v in entry.get("M", {}).items()}
        for region, entry in entries.items()
    }


def read_switch(ctx: Context, *, timeout: float = DEFAULT_TIMEOUT) -> dict[str, set[str] | None]:
    """Replica region -> the regions it sees forced out (None: it did not answer in time,
    or has no switch item)."""
    config = ctx.config
    seen: dict[str, set[str] | None] = {r: None for r in config.regions}
    done = threading.Event()
    lock = threading.Lock()
    pending = set(config.regions)

    def read(replica: str) -> None:
        try:
            found = read_replica(ctx, replica)
            if found is not None:
                with lock:
                    seen[replica] = set(found)
        except Exception:  # an unanswering replica is reported as None
            pass
        finally:
            with lock:
                pending.discard(replica)
                if not pending:
                    done.set()

    for replica in config.regions:
        threading.Thread(target=read, args=(replica,), daemon=True).start()
    done.wait(timeout)
    with lock:
        return dict(seen)
