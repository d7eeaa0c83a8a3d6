"""Writing and reading the switch item through the table replicas, data plane only.

`write_forced_out` sends one conditional UpdateItem to the replica of every region but
the one being forced out (or restored) at once, and succeeds on the first that answers:
global tables replicate it to the others. No call goes to that region, and none to
us-east-1 unless it is simply one of the replicas written to; the calls that have not
answered are left behind on daemon threads, bounded by `timeout`. Each write is
conditional on the item `up` seeded (its `forced_out` map), on the region's entry being
as the caller read it, on the replica's `revision` being the one read there (a concurrent
force-fail makes it refuse, and the caller reads again; a replica that did not answer the
read takes the write only over an older one, by `updated_at`) and, when forcing out, on another
region still being in (the last-healthy-region guard, enforced by DynamoDB itself in each
replica). Nothing is ever half-written: one UpdateItem, whole or not at all.

`read_switch` reads the replicas asked for at once and keeps what answers: replica region
-> what it holds (None: no answer within the time allowed).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from failover_cli.aws.deadlines import Deadline
from failover_cli.aws.errors import error_code
from failover_cli.engine.begin_gate import BeginGate
from failover_cli.engine.context import Context
from failover_cli.errors import FailoverError
from failover_cli.services.switch_item import switch_key

DEFAULT_TIMEOUT = 8.0  # seconds: force-fail must answer within 10 s with a region hanging
# Once one replica answered a read, how much longer the others get: a hanging replica
# must not hold the command, an answering one is not left out by a hair.
READ_GRACE = 1.5
# Each replica's call: short, as the first answering replica is all that is needed.
SWITCH_CALL = Deadline("switch", connect_timeout=3, read_timeout=5, max_attempts=2, call_budget=8)
_REFUSED = "ConditionalCheckFailedException"


@dataclass(frozen=True)
class ReplicaSwitch:
    """The switch item as one replica holds it (`seeded` False: no item there)."""

    replica: str
    seeded: bool
    revision: int = 0
    entries: dict[str, dict[str, str]] = field(default_factory=dict)  # region -> at/by/why

    @property
    def forced_out(self) -> frozenset[str]:
        return frozenset(self.entries)


@dataclass(frozen=True)
class SwitchWrite:
    region: str  # forced out (or restored)
    forced_out: bool
    written_in: str  # the replica that answered first
    changed: bool = True


class SwitchRefused(FailoverError):
    """Every replica that answered refused the write's condition: the switch is not as read
    (already as wanted, a concurrent write, or the guard). Nothing was written."""

    def __init__(self, refused: list[str], silent: list[str] | None = None) -> None:
        said = f" ({', '.join(silent)} did not answer)" if silent else ""
        super().__init__(f"The switch write was refused by {', '.join(refused)}{said}")
        self.refused = refused
        self.silent = silent or []  # replicas that gave no answer in time


def _dynamo(ctx: Context, replica: str) -> Any:
    return ctx.client("dynamodb", replica, SWITCH_CALL)


def _first(calls: dict[str, Callable[[], bool]], timeout: float) -> str:
    """Run every call at once on daemon threads; the region of the first that returns True.
    A call returning False was refused by its condition. Raises SwitchRefused when every call
    was refused, FailoverError when none succeeded within `timeout` (nothing written)."""
    answers: queue.Queue[tuple[str, bool, BaseException | None]] = queue.Queue()
    gate = BeginGate()

    def run(region: str, call: Callable[[], bool]) -> None:
        ended = gate.begin(region)
        if ended is None:
            return  # the caller was interrupted before this call began: nothing is sent
        try:
            answers.put((region, call(), None))
        except BaseException as error:  # reported to the caller, never lost on the thread
            answers.put((region, False, error))
        finally:
            ended.set()

    errors: dict[str, str] = {}
    refused: list[str] = []
    try:
        # Ctrl-C can land while the threads start (a call may already be on its way before
        # the wait below begins): from the first start on, an interrupt settles the calls.
        for region, call in calls.items():
            threading.Thread(target=run, args=(region, call), daemon=True, name="switch").start()
        deadline = time.monotonic() + timeout
        while len(errors) + len(refused) < len(calls):
            try:
                region, written, error = answers.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                break
            if error is not None:
                errors[region] = error_code(error) or type(error).__name__
            elif written:
                return region
            else:
                refused.append(region)
    except KeyboardInterrupt:
        _settle(set(gate.close()) - set(errors) - set(refused), answers)
        raise
    silent = [r for r in calls if r not in errors and r not in refused]
    if refused and (not errors or not silent):  # the switch is not as read where it answered
        raise SwitchRefused(refused, silent + list(errors))  # the state of those: unknown
    raise FailoverError(
        "No table replica of another region took the switch write"
        + (f" (failed: {', '.join(f'{r} {e}' for r, e in errors.items())})" if errors else "")
        + (f" (refused: {', '.join(refused)})" if refused else "")
        + (f" (no answer within {timeout:.0f}s: {', '.join(silent)})" if silent else ""),
        hint="Nothing was written where no replica answered; a replica that did not answer may "
        "still apply it. Look with `failover status`, then re-run the command (each write is "
        "conditional, so a repeat is safe).",
    )


def _settle(
    pending: set[str], answers: queue.Queue[tuple[str, bool, BaseException | None]]
) -> None:
    """Let the writes already sent (`pending`) finish, so that the switch read next says
    where it stands (a drill's restore then sees its own write): each call ends within its
    own budget plus a read time-out (SWITCH_CALL). A second Ctrl-C stops waiting."""
    deadline = time.monotonic() + SWITCH_CALL.call_budget + SWITCH_CALL.read_timeout
    try:
        while pending:
            region, _written, _error = answers.get(timeout=max(deadline - time.monotonic(), 0.0))
            pending.discard(region)
    except (queue.Empty, KeyboardInterrupt):
        pass


def write_forced_out(
    ctx: Context,
    region: str,
    forced_out: bool,
    *,
    by: str,
    why: str,
    revisions: dict[str, int] | None = None,
    keep_one_of: Iterable[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
    at: str | None = None,
) -> SwitchWrite:
    """Force `region` out of (or back into) DNS by writing the switch in every other
    region's replica at once; success on the first that answers.

    `revisions`: replica -> the revision read there (the write is refused if it moved);
    `keep_one_of`: regions at least one of which must still be in after the write;
    `at`: the entry's time stamp (now by default), which tells the caller's own write apart.
    """
    config = ctx.config
    now = at or stamp()
    names = {"#r": region, "#f": "forced_out"}
    values: dict[str, Any] = {":t": {"S": now}, ":one": {"N": "1"}}
    if forced_out:
        values[":e"] = {"M": {"at": {"S": now}, "by": {"S": by}, "why": {"S": why}}}
        expression = "SET #f.#r = :e, updated_at = :t ADD revision :one"
        condition = "attribute_exists(#f) AND attribute_not_exists(#f.#r)"
        keep = [r for r in keep_one_of if r != region]
        if keep:
            names.update({f"#k{i}": r for i, r in enumerate(keep)})
            either = " OR ".join(f"attribute_not_exists(#f.#k{i})" for i in range(len(keep)))
            condition += f" AND ({either})"
    else:
        expression = "REMOVE #f.#r SET updated_at = :t ADD revision :one"
        condition = "attribute_exists(#f.#r)"

    def writer(replica: str) -> Callable[[], bool]:
        def write() -> bool:
            update_values = dict(values)
            update_condition = condition
            if revisions and replica in revisions:
                update_values[":rev"] = {"N": str(revisions[replica])}
                update_condition += " AND revision = :rev"
            else:
                # No revision read there (it did not answer the read, a hung region): the
                # write may reach it long after, botocore resending it once the region
                # answers again, maybe after a later restore. It never lands over a newer one.
                update_condition += " AND (attribute_not_exists(updated_at) OR updated_at < :t)"
            try:
                _dynamo(ctx, replica).update_item(
                    TableName=config.table.name,
                    Key=switch_key(config),
                    UpdateExpression=expression,
                    ConditionExpression=update_condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=update_values,
                )
            except Exception as error:
                if error_code(error) == _REFUSED:
                    return False
                raise
            return True

        return write

    others = [r for r in config.regions if r != region]
    replica = _first({r: writer(r) for r in others}, timeout)
    return SwitchWrite(region, forced_out, replica)


def stamp() -> str:
    """Now, as the switch entries and `updated_at` hold it (to the millisecond: it tells
    one write apart from another)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_switch(replica: str, item: dict[str, Any] | None) -> ReplicaSwitch:
    """A GetItem answer's item, as data."""
    if item is None:
        return ReplicaSwitch(replica, False)
    entries = {
        region: {k: str(v.get("S", "")) for k, v in (entry.get("M") or {}).items()}
        for region, entry in (item.get("forced_out", {}).get("M") or {}).items()
    }
    return ReplicaSwitch(replica, True, int(item.get("revision", {}).get("N", "0")), entries)


def read_replica(ctx: Context, replica: str) -> dict[str, dict[str, str]] | None:
    """The regions `replica`'s copy of the switch holds forced out, each with its at/by/why
    (None: that replica has no switch item, or no table). One consistent GetItem."""
    config = ctx.config
    try:
        answer = _dynamo(ctx, replica).get_item(
            TableName=config.table.name, Key=switch_key(config), ConsistentRead=True
        )
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise
    found = parse_switch(replica, answer.get("Item"))
    return found.entries if found.seeded else None


def read_switch(
    ctx: Context,
    replicas: Iterable[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    grace: float | None = None,
) -> dict[str, ReplicaSwitch | None]:
    """Replica region -> the switch it holds (None: no answer). Every replica (of `replicas`,
    by default all) is read at once; the wait ends when all answered, after `timeout`, or
    `grace` seconds after the first answer (when given)."""
    config = ctx.config
    asked = list(replicas if replicas is not None else config.regions)
    answers: queue.Queue[tuple[str, ReplicaSwitch | None]] = queue.Queue()

    def read(replica: str) -> None:
        found: ReplicaSwitch | None = None
        try:
            answer = _dynamo(ctx, replica).get_item(
                TableName=config.table.name, Key=switch_key(config), ConsistentRead=True
            )
            found = parse_switch(replica, answer.get("Item"))
        except Exception:  # an unanswering or failing replica is reported as None
            pass
        answers.put((replica, found))

    for replica in asked:
        threading.Thread(target=read, args=(replica,), daemon=True, name="switch-read").start()
    seen: dict[str, ReplicaSwitch | None] = {r: None for r in asked}
    end = time.monotonic() + timeout
    for _ in asked:
        try:
            replica, found = answers.get(timeout=max(end - time.monotonic(), 0.0))
        except queue.Empty:
            break
        seen[replica] = found
        if found is not None and grace is not None:
            end = min(end, time.monotonic() + grace)
    return seen
