"""Apply a plan: creates and updates follow dependencies, deletes follow the teardown order.

Independent changes run in parallel (regions within a wave never wait for each
other). While building, the first failure stops new work; what is running finishes, and
the error is raised translated, naming region and operation. While deleting, a
failure holds back only the deletes that wait for it; the rest still run. Re-running the same
command resumes: every create is find-or-create, every delete accepts "gone".
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from failover_cli.engine.context import Context
from failover_cli.engine.model import Action, Change, Plan, Spec
from failover_cli.engine.registry import DELETE_ORDER, SERIAL_KINDS, handler_for
from failover_cli.errors import FailoverError

T = TypeVar("T")
MAX_WORKERS = 16
UNROUTE_KINDS = frozenset({"record"})


@dataclass
class ApplyReport:
    done: list[tuple[Change, float]] = field(default_factory=list)  # change, seconds

    @property
    def mutating(self) -> int:
        return sum(1 for c, _ in self.done if c.mutating)


# Called with (change, phase, seconds) where phase is "start", "done" or "failed".
ChangeListener = Callable[[Change, str, float], None]


def _nothing(_c: Change, _p: str, _s: float) -> None:
    pass


def call_translated(spec: Spec, what: str, call: Callable[[], T]) -> T:
    """Run a handler call; botocore errors become FailoverErrors naming the region."""
    try:
        return call()
    except FailoverError as error:
        if error.region is None and spec.where:
            error.region = spec.where
        raise
    except Exception as error:
        from failover_cli.aws.errors import translate

        translated = translate(error, region=spec.where or None, service=None)
        if translated is None:
            raise
        raise translated from error


def apply_plan(ctx: Context, plan: Plan, listener: ChangeListener = _nothing) -> ApplyReport:
    """Creates/updates first (dependency order), then deletes (teardown order)."""
    report = ApplyReport()
    building = [c for c in plan.changes if c.action in (Action.CREATE, Action.UPDATE, Action.NOOP)]
    deleting = [c for c in plan.changes if c.action is Action.DELETE]
    # When a plan both builds and deletes (a region or the domain leaves the config), DNS
    # lets go first: no record may point at what the build narrows (the role's policy) or
    # the deletes remove. `down` has nothing to build: its records go by dependency.
    unroute = (
        [c for c in deleting if c.spec.kind in UNROUTE_KINDS]
        if any(c.mutating for c in building)
        else []
    )
    first = {c.key for c in unroute}
    deleting = [c for c in deleting if c.key not in first]
    try:
        _run_deletes(ctx, unroute, listener, report)
        _run_by_dependencies(ctx, building, listener, report)
        _run_deletes(ctx, deleting, listener, report)
    except Exception as error:
        # What was done before the error, for the one paragraph that says so.
        with contextlib.suppress(AttributeError):
            error.applied = report  # type: ignore[attr-defined]
        raise
    return report


def _execute(ctx: Context, change: Change, listener: ChangeListener, report: ApplyReport) -> None:
    if not change.mutating:
        return
    ctx = change.context or ctx
    handler = handler_for(change.spec.kind)
    listener(change, "start", 0.0)
    started = time.monotonic()
    try:
        if change.action is Action.CREATE:
            call_translated(change.spec, "create", lambda: handler.create(ctx, change.spec))
        elif change.action is Action.UPDATE:
            call_translated(
                change.spec,
                "update",
                lambda: handler.update(ctx, change.spec, change.observed, change.fields),
            )
        else:
            call_translated(
                change.spec, "delete", lambda: handler.delete(ctx, change.spec, change.observed)
            )
    except BaseException:
        listener(change, "failed", time.monotonic() - started)
        raise
    elapsed = time.monotonic() - started
    report.done.append((change, elapsed))
    listener(change, "done", elapsed)


@contextmanager
def _cancel_on_interrupt(ctx: Context) -> Iterator[None]:
    """On Ctrl-C, end the workers' waits so the pool can shut down promptly."""
    try:
        yield
    except KeyboardInterrupt:
        ctx.clock.cancel()
        raise


def _run_by_dependencies(
    ctx: Context, changes: Sequence[Change], listener: ChangeListener, report: ApplyReport
) -> None:
    pending = {c.key: c for c in changes}
    finished: set[str] = set()
    known = set(pending)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def ready(change: Change) -> bool:
        # Dependencies outside this plan (not desired here) do not block.
        return all(dep in finished or dep not in known for dep in change.spec.depends_on)

    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool, _cancel_on_interrupt(ctx):
        running: dict[Future[None], str] = {}
        while pending or running:
            if not errors:
                for key in [k for k, c in pending.items() if ready(c)]:
                    change = pending.pop(key)
                    running[pool.submit(_execute, ctx, change, listener, report)] = key
            if not running:
                if pending and not errors:
                    raise RuntimeError(f"dependency cycle among {sorted(pending)}")
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                key = running.pop(future)
                error = future.exception()
                with lock:
                    if error is not None:
                        errors.append(error)
                    else:
                        finished.add(key)
    if errors:
        raise errors[0]


def _run_deletes(
    ctx: Context, changes: Sequence[Change], listener: ChangeListener, report: ApplyReport
) -> None:
    """Each delete waits only for the deletes of what depends on it (a record before the
    health check and domain it names, an API before its function...), so kinds that do
    not depend on each other overlap. A failure holds back only what waits for it: every
    other delete is still attempted, then one error says what remains and why.
    """
    waits_for = _delete_waits(changes)
    pending = {c.key: c for c in sorted(changes, key=_teardown_rank)}
    serial = {kind: threading.Lock() for kind in SERIAL_KINDS}
    finished: set[str] = set()
    failed: dict[str, BaseException] = {}

    def run(change: Change) -> None:
        lock = serial.get(change.spec.kind)
        if lock is None:
            _execute(ctx, change, listener, report)
            return
        with lock:  # DynamoDB accepts one replica update at a time
            _execute(ctx, change, listener, report)

    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool, _cancel_on_interrupt(ctx):
        running: dict[Future[None], str] = {}
        while pending or running:
            for key in [k for k in pending if waits_for[k] <= finished]:
                running[pool.submit(run, pending.pop(key))] = key
            if not running:
                break  # what is left waits for a failed delete
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                key = running.pop(future)
                error = future.exception()
                if error is None:
                    finished.add(key)
                elif isinstance(error, Exception):
                    failed[key] = error
                else:
                    raise error
    if failed:
        raise _teardown_error(changes, failed, held_back=list(pending.values()))
    if pending:  # nothing failed, yet deletes wait on each other: never report success
        raise RuntimeError(f"dependency cycle among deletes {sorted(pending)}")


def _teardown_rank(change: Change) -> int:
    """SPEC order among deletes that are ready together, so progress reads the same each run."""
    kind = change.spec.kind
    return DELETE_ORDER.index(kind) if kind in DELETE_ORDER else len(DELETE_ORDER)


def _delete_waits(changes: Sequence[Change]) -> dict[str, set[str]]:
    """For each delete, the deletes that must finish first: those of the specs depending on it."""
    keys = {c.key for c in changes}
    waits: dict[str, set[str]] = {c.key: set() for c in changes}
    for change in changes:
        for dependency in change.spec.depends_on:
            if dependency in keys:
                waits[dependency].add(change.key)
        waits[change.key] |= {key for key in change.after if key in keys}
    return waits


def _teardown_error(
    changes: Sequence[Change], failed: dict[str, BaseException], held_back: list[Change]
) -> FailoverError:
    """One paragraph: each failed delete with its reason, then what waited for them."""
    if len(changes) == 1:
        only = next(iter(failed.values()))
        if isinstance(only, FailoverError):
            return only
    by_key = {c.key: c for c in changes}
    reasons: list[str] = []
    hints: list[str] = []
    for key, error in failed.items():
        text = error.message if isinstance(error, FailoverError) else str(error)
        reasons.append(f"{_label(by_key[key])}: {text.rstrip('.')}")
        hint = getattr(error, "hint", None)
        if hint and hint not in hints:
            hints.append(hint)
    message = f"{len(failed)} of {len(changes)} deletions failed ({'; '.join(reasons)})"
    if held_back:
        waiting = ", ".join(_label(c) for c in held_back)
        message += f"; not attempted because they wait for those: {waiting}"
    remaining = len(failed) + len(held_back)
    noun = "resource of the stack remains" if remaining == 1 else "resources of the stack remain"
    message += f". Everything else was deleted; {remaining} {noun}"
    hint = " ".join(hints) or "Re-run the same command to finish once the cause is fixed."
    return FailoverError(message, hint=hint)


def _label(change: Change) -> str:
    return f"{change.spec.kind} {change.spec.name} ({change.spec.where or 'global'})"
