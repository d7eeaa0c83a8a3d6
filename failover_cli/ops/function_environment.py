"""FORCE_FAIL (or any variable edit) on one region's function: read, merge, write, wait.

UpdateFunctionConfiguration replaces the whole environment, so the variable is
written into a fresh copy of the current one: every other variable (the
secret, HEALTH_CHECKER_ID_NEXT during a rotation, anything added by hand)
stays as it is. The write carries the RevisionId just read, so a concurrent
`up` or `rotate-secret` cannot be silently overwritten: Lambda refuses the
stale write and we read again. Waits poll with the context's clock (the
`function_updated_v2` waiter's rules), so Ctrl-C and tests never hang on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.deadlines import Deadline
from failover_cli.aws.errors import error_code
from failover_cli.aws.retry import Backoff, Clock, retry, wait_until
from failover_cli.aws.tags import not_ours
from failover_cli.engine.context import Context
from failover_cli.engine.secret import read_function
from failover_cli.errors import ConflictError, FailoverError
from failover_cli.resources.function import FORCE_FAIL
from failover_cli.services import live_alias

TRUTHY = frozenset({"true", "1", "yes"})  # what the function itself honours (settings.py)
UPDATE_TIMEOUT = 300.0  # seconds for Lambda to apply a configuration change
# Lambda's answers to a write that raced another change: read again and retry.
_RACED = {"ResourceConflictException", "PreconditionFailedException"}


@dataclass(frozen=True)
class FlagChange:
    """What `set_force_fail` did in one region."""

    region: str
    wanted: bool
    previous: str | None  # FORCE_FAIL before (None: the variable was absent)
    changed: bool  # False: it already had the wanted meaning, nothing was written
    written_at: float | None = None  # clock time right after the write was accepted

    @property
    def action(self) -> str:
        return "fail" if self.wanted else "restore"


def is_force_failed(variables: dict[str, str]) -> bool:
    return (variables.get(FORCE_FAIL) or "").strip().lower() in TRUTHY


def with_force_fail(variables: dict[str, str], wanted: bool) -> dict[str, str]:
    """A copy of `variables` with FORCE_FAIL set; nothing else changes."""
    return {**variables, FORCE_FAIL: "true" if wanted else "false"}


def read_configuration(
    ctx: Context, region: str, deadline: Deadline | None = None
) -> dict[str, Any]:
    """GetFunctionConfiguration, never memoised (operations need the value of now)."""
    lam = ctx.client("lambda", region, deadline)
    name = ctx.config.function.name
    try:
        answer: dict[str, Any] = lam.get_function_configuration(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        raise FailoverError(
            f"The function {name} of stack {ctx.config.stack} does not exist",
            hint="Deploy the stack first with `failover up`.",
            region=region,
        ) from None
    return answer


def require_owned(ctx: Context, region: str) -> None:
    """Refuse to change a function of the stack's name that lacks its ownership tags.

    GetFunction carries the tags and is memoised per run, so a drill's restore
    (or a rotation's second write) does not ask again.
    """
    answer = read_function(ctx, region)
    why = None if answer is None else not_ours(answer.get("Tags") or {}, ctx.config.stack)
    if why is not None:
        name = ctx.config.function.name
        raise ConflictError(
            f"The function {name} is {why}, so failover will not read or change it",
            hint="Check the config's function.name, or deploy the stack with `failover up`.",
            region=region,
        )


def variables_of(configuration: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = (configuration.get("Environment") or {}).get("Variables") or {}
    return dict(found)


def set_force_fail(
    ctx: Context, region: str, wanted: bool, *, clock: Clock | None = None
) -> FlagChange:
    """Give FORCE_FAIL the wanted meaning in `region`, merged into the environment.

    Idempotent: when it already means `wanted`, nothing is written. Otherwise
    waits for Lambda to finish any change in progress, writes, and waits again
    until the new environment is live.
    """

    def edit(variables: dict[str, str]) -> dict[str, str] | None:
        if is_force_failed(variables) == wanted:
            return None
        return with_force_fail(variables, wanted)

    written = edit_environment(ctx, region, edit, clock=clock)
    previous = written.before.get(FORCE_FAIL)
    return FlagChange(region, wanted, previous, written.changed, written.written_at)


@dataclass(frozen=True)
class EnvironmentEdit:
    """What `edit_environment` did in one region."""

    before: dict[str, str]  # the variables first read
    written_at: float | None  # clock time right after the write; None: nothing was written

    @property
    def changed(self) -> bool:
        return self.written_at is not None


def edit_environment(
    ctx: Context,
    region: str,
    edit: Callable[[dict[str, str]], dict[str, str] | None],
    *,
    clock: Clock | None = None,
) -> EnvironmentEdit:
    """Write `edit(current variables)` as the function's whole environment, safely.

    `edit` returns the complete new variables (a copy: merge, never replace) or
    None for "nothing to change". Waits for any change in progress, writes with
    the RevisionId just read, re-reads and re-applies `edit` when Lambda reports a
    race, then waits until the new environment is live. Shared by `force-fail`
    (FORCE_FAIL) and `rotate-secret` (HEALTH_CHECKER_ID and _NEXT).
    """
    clock = clock or ctx.clock
    lam = ctx.client("lambda", region)
    name = ctx.config.function.name
    require_owned(ctx, region)
    first = wait_for_update(ctx, region, clock=clock)  # Lambda refuses a change during another
    before = variables_of(first)
    if edit(dict(before)) is None:
        live_alias.serve_environment(ctx, region, first, clock=clock)
        return EnvironmentEdit(before, None)
    unused = [first]
    wrote = [False]
    sent = [False]

    def write() -> None:
        # A retry merges into what is there now, not into the stale first read.
        current = unused.pop() if unused else wait_for_update(ctx, region, clock=clock)
        variables = edit(variables_of(current))
        if variables is None:
            # Done already: by our own write when one was sent (botocore resent it after
            # a lost answer and Lambda refused the stale RevisionId), else concurrently.
            wrote[0] = sent[0]
            return
        update: dict[str, Any] = {
            "FunctionName": name,
            "Environment": {"Variables": variables},
        }
        if current.get("RevisionId"):
            update["RevisionId"] = current["RevisionId"]  # refuse if changed since the read
        sent[0] = True
        lam.update_function_configuration(**update)
        wrote[0] = True

    def raced(error: Exception) -> bool:
        return error_code(error) in _RACED

    retry(write, retryable=raced, backoff=Backoff(first=0.5, cap=5.0, budget=60.0), clock=clock)
    if not wrote[0]:
        live_alias.serve_environment(ctx, region, wait_for_update(ctx, region, clock=clock))
        return EnvironmentEdit(before, None)
    written_at = clock.now()
    latest = wait_for_update(ctx, region, clock=clock)
    # The API invokes the `live` alias: the edit serves once a version of it is published.
    live_alias.serve_environment(ctx, region, latest, clock=clock)
    return EnvironmentEdit(before, written_at)


def wait_for_update(
    ctx: Context, region: str, *, clock: Clock | None = None, timeout: float = UPDATE_TIMEOUT
) -> dict[str, Any]:
    """Poll until LastUpdateStatus is no longer InProgress (function_updated_v2's rules);
    returns the configuration read last."""
    clock = clock or ctx.clock

    def settled() -> dict[str, Any] | None:
        configuration = read_configuration(ctx, region)
        status = configuration.get("LastUpdateStatus") or "Successful"
        if status == "Failed":
            reason = configuration.get("LastUpdateStatusReason") or "no reason given"
            raise FailoverError(
                f"Lambda could not apply the last change to {ctx.config.function.name}: {reason}",
                hint="Look at the function in the Lambda console, then re-run the command.",
                region=region,
            )
        return None if status == "InProgress" else configuration

    return wait_until(
        settled,
        what=f"Lambda to finish updating {ctx.config.function.name}",
        timeout=timeout,
        interval=1.0,
        clock=clock,
        region=region,
    )
