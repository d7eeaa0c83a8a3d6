"""The `live` alias of a region's function: read it, publish `$LATEST`, point it.

The region's API invokes `function:live`, so a change to `$LATEST` (a release,
or an operational edit such as FORCE_FAIL) serves only once a version of it is
published and the alias points there. Publishing carries `$LATEST`'s RevisionId
(and the expected code hash when known), so a version is never a snapshot of a
half-applied change; the alias moves only once that version is Active.

Release history: the alias' Description names the versions it served before the
current release, newest first ("failover: before this release: 5 3"), written in
the same UpdateAlias that moves it, so a move and its history never part. Only a
release (`up`) or `rollback` writes it; an operational edit (force-fail,
rotate-secret) moves the alias without a Description, which Lambda leaves as it
was. `failover rollback` reads it back (ops/rollback.py), and pruning keeps the
versions it names.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Sequence
from typing import Any

from failover_cli.aws.errors import error_code
from failover_cli.aws.retry import Backoff, Clock, retry, wait_until
from failover_cli.engine.context import Context
from failover_cli.engine.secret import NEXT_SECRET_VARIABLE, SECRET_VARIABLE
from failover_cli.errors import FailoverError

ALIAS = "live"
ACTIVE_TIMEOUT = 300.0  # seconds for a new version to leave Pending
KEEP_VERSIONS = 3  # published versions kept (the aliased one always): what a rollback can use
HISTORY_DEPTH = 2  # earlier releases the alias' Description remembers (rollback can walk back)
HISTORY_PREFIX = "failover: before this release:"
_HISTORY = re.compile(re.escape(HISTORY_PREFIX) + r"((?: [0-9]+)*)\s*$")


def history_of(alias: dict[str, Any] | None) -> tuple[str, ...]:
    """The versions the alias served before its current release, newest first (none
    recorded: an alias from before the history, or moved by hand with a description)."""
    found = _HISTORY.match((alias or {}).get("Description") or "")
    return tuple(found[1].split()) if found else ()


def describe_history(history: Sequence[str]) -> str:
    return " ".join([HISTORY_PREFIX, *history[:HISTORY_DEPTH]])


def moved_history(history: Sequence[str], before: str, after: str) -> tuple[str, ...]:
    """The history once the alias moves from `before` to `after`: moving back to a
    version it names (a rollback) drops it and everything newer; moving anywhere else
    (a release, `rollback --to` a version outside it) puts `before` in front."""
    if after == before:
        return tuple(history)
    if after in history:
        return tuple(history[history.index(after) + 1 :])
    return tuple(v for v in (before, *history) if v != after)[:HISTORY_DEPTH]


def read_alias(ctx: Context, region: str) -> dict[str, Any] | None:
    """GetAlias `live` (None: no alias, or no function)."""
    lam = ctx.client("lambda", region)
    try:
        answer: dict[str, Any] = lam.get_alias(FunctionName=ctx.config.function.name, Name=ALIAS)
    except lam.exceptions.ResourceNotFoundException:
        return None
    return answer


def published_versions(ctx: Context, region: str) -> list[str]:
    """The function's published version numbers (not `$LATEST`)."""
    lam = ctx.client("lambda", region)
    found: list[str] = []
    pages = lam.get_paginator("list_versions_by_function").paginate(
        FunctionName=ctx.config.function.name
    )
    for page in pages:
        found.extend(v["Version"] for v in page.get("Versions", []) if v["Version"].isdigit())
    return found


def publish(
    ctx: Context, region: str, *, code_sha256: str | None = None, clock: Clock | None = None
) -> str:
    """Publish `$LATEST` once no update is in progress; wait until the version is Active.

    Lambda answers the newest version when nothing changed since it, so a re-run
    after an interruption publishes nothing new.
    """
    clock = clock or ctx.clock
    lam = ctx.client("lambda", region)
    name = ctx.config.function.name
    latest = _settled(ctx, region, None, clock)
    request: dict[str, Any] = {"FunctionName": name}
    if latest.get("RevisionId"):
        request["RevisionId"] = latest["RevisionId"]  # refused if $LATEST changed since
    if code_sha256:
        request["CodeSha256"] = code_sha256  # never publish code other than the release's

    def send() -> str:
        try:
            return str(lam.publish_version(**request)["Version"])
        except lam.exceptions.PreconditionFailedException:
            # A publish gives $LATEST a new RevisionId: a resend of this publish whose first
            # answer was lost is refused so. If $LATEST is still what was read, publishing
            # again answers the version the first attempt made (nothing changed since);
            # if it changed, that is someone else's edit, never published unread.
            now = _settled(ctx, region, None, clock)
            if _snapshot(now) != _snapshot(latest) or not now.get("RevisionId"):
                raise
            request["RevisionId"] = now["RevisionId"]
            return str(lam.publish_version(**request)["Version"])

    # Lambda may still refuse for a moment after the read saw the update finish (its
    # state is eventually consistent): retry that refusal alone, within a bound.
    version: str = retry(
        send,
        retryable=_update_in_progress,
        backoff=Backoff(first=0.5, cap=5.0, budget=60.0),
        clock=clock,
    )
    _settled(ctx, region, version, clock)
    return version


# What a published version snapshots of $LATEST (its RevisionId and dates aside).
_SNAPSHOT_FIELDS = (
    "CodeSha256", "Environment", "MemorySize", "Timeout", "Handler", "Runtime", "Role",
    "Layers", "Architectures", "EphemeralStorage",
)  # fmt: skip


def _snapshot(configuration: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(repr(configuration.get(key)) for key in _SNAPSHOT_FIELDS)


def _update_in_progress(error: Exception) -> bool:
    return error_code(error) == "ResourceConflictException" and "in progress" in str(error)


def point(
    ctx: Context,
    region: str,
    version: str,
    alias: dict[str, Any] | None = None,
    *,
    history: Sequence[str] | None = None,
    canary: tuple[str, float] | None = None,
) -> None:
    """Create `live` at `version`, or move it there (guarded by the RevisionId read).

    `history`: the release history to record with the move (None: leave it as it is);
    `canary`: (another version, weight in (0, 1)) to route that share of the
    invocations to, through the alias' RoutingConfig (`version` serves the rest).
    """
    lam = ctx.client("lambda", region)
    name = ctx.config.function.name
    described = {} if history is None else {"Description": describe_history(history)}
    routing = {canary[0]: canary[1]} if canary else {}
    if alias is None:
        try:
            lam.create_alias(
                FunctionName=name,
                Name=ALIAS,
                FunctionVersion=version,
                **described,
                **({"RoutingConfig": {"AdditionalVersionWeights": routing}} if routing else {}),
            )
            return
        except lam.exceptions.ResourceConflictException:
            alias = read_alias(ctx, region)  # an interrupted run made it: move it
            if alias is None:
                raise
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    if (
        alias.get("FunctionVersion") == version
        and weights == routing
        and described.get("Description", alias.get("Description")) == alias.get("Description")
    ):
        return
    request: dict[str, Any] = {"FunctionName": name, "Name": ALIAS, "FunctionVersion": version}
    if alias.get("RevisionId"):
        request["RevisionId"] = alias["RevisionId"]
    request["RoutingConfig"] = {"AdditionalVersionWeights": routing}
    try:
        lam.update_alias(**request, **described)
    except lam.exceptions.PreconditionFailedException:
        # The RevisionId no longer matches: a resend of this very write whose first answer
        # was lost (the alias moved, by us), or someone else's move. Ours is done; another's
        # is not overwritten blindly.
        now = read_alias(ctx, region) or {}
        moved = (now.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        wanted = described.get("Description", now.get("Description"))
        if (now.get("FunctionVersion"), moved, now.get("Description")) != (
            version,
            routing,
            wanted,
        ):
            raise


def serve_environment(
    ctx: Context, region: str, latest: dict[str, Any], *, clock: Clock | None = None
) -> str | None:
    """After an operational edit of `$LATEST`'s environment (`latest`: its configuration
    now): make `live` serve it (publish, move the alias) unless it already does.

    Also run when the edit found nothing to change, so a re-run after an interruption
    between the write and the alias move converges. A stack without the alias
    (deployed before releases went through it) serves `$LATEST` directly: nothing
    to do. Returns the version now live, or None.
    """
    alias = read_alias(ctx, region)
    if alias is None:
        return None
    lam = ctx.client("lambda", region)
    version: str = alias["FunctionVersion"]
    serving = lam.get_function_configuration(
        FunctionName=ctx.config.function.name, Qualifier=version
    )
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    if _environment(serving) == _environment(latest) and not weights:
        return version
    if release_key(serving) != release_key(latest):
        # $LATEST holds a release `live` does not serve (one a gate stopped, or one
        # `rollback` undid): publishing it would serve that code here, ungated.
        raise FailoverError(
            f"{ctx.config.function.name}'s $LATEST holds code or settings that its alias "
            f"`live` (version {version}) does not serve: a release stopped by a gate or "
            "undone by `rollback`. The edit is written to $LATEST but not served, so that "
            "release is not put live ungated",
            hint="Release the config's code with `failover up` (gated), or put the live "
            "code back in function.source and run `failover up`; then re-run this command. "
            "To take the region out meanwhile: `failover force-fail --via health-check`.",
            region=region,
        )
    version = publish(ctx, region, clock=clock)
    point(ctx, region, version, alias)
    return version  # older versions are pruned by the next release (up), not here


# Set by the operational commands (rotate-secret, force-fail), never by a release.
OPERATIONAL_VARIABLES = (SECRET_VARIABLE, NEXT_SECRET_VARIABLE, "FORCE_FAIL")


def release_key(configuration: dict[str, Any]) -> tuple[Any, ...]:
    """What makes a release: the code and the configuration, without the operational
    variables (a force-fail or a rotation publishes a version of the same release)."""
    variables = _environment(configuration)
    return (
        configuration.get("CodeSha256"),
        configuration.get("Runtime"),
        tuple(configuration.get("Architectures") or ()),
        configuration.get("MemorySize"),
        configuration.get("Timeout"),
        configuration.get("Handler"),
        configuration.get("Role"),
        tuple(sorted((k, v) for k, v in variables.items() if k not in OPERATIONAL_VARIABLES)),
    )


def release_id(configuration: dict[str, Any]) -> str:
    """A short name for release_key (status compares regions by it): a hash, so no
    variable's value shows."""
    digest = hashlib.sha256(repr(release_key(configuration)).encode()).hexdigest()
    return digest[:12]


def prunable(versions: list[str], *kept: str) -> list[str]:
    """Versions older than the newest KEEP_VERSIONS, never one of `kept`."""
    ordered = sorted(versions, key=int, reverse=True)
    return [v for v in ordered[KEEP_VERSIONS:] if v not in kept]


def prune(ctx: Context, region: str, *kept: str) -> None:
    """Delete old versions; `kept`: the live one, and the release it replaced (failed
    releases in between must not push the last good one out). The versions the alias'
    release history names are kept too: `rollback` goes back to them."""
    lam = ctx.client("lambda", region)
    kept = (*kept, *history_of(read_alias(ctx, region)))
    for version in prunable(published_versions(ctx, region), *kept):
        # Another alias (made by hand) routing to it keeps it.
        with contextlib.suppress(lam.exceptions.ResourceConflictException):
            lam.delete_function(FunctionName=ctx.config.function.name, Qualifier=version)


def _environment(configuration: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = (configuration.get("Environment") or {}).get("Variables") or {}
    return found


def _settled(ctx: Context, region: str, qualifier: str | None, clock: Clock) -> dict[str, Any]:
    """GetFunctionConfiguration of `$LATEST` (no update in progress) or of a version
    (Active), polled on the context's clock."""
    lam = ctx.client("lambda", region)
    name = ctx.config.function.name
    request: dict[str, Any] = {"FunctionName": name}
    if qualifier is not None:
        request["Qualifier"] = qualifier

    def ready() -> dict[str, Any] | None:
        configuration: dict[str, Any] = lam.get_function_configuration(**request)
        state = configuration.get("State") or "Active"
        status = configuration.get("LastUpdateStatus") or "Successful"
        if state == "Failed" or status == "Failed":
            reason = configuration.get("StateReason") or configuration.get("LastUpdateStatusReason")
            raise FailoverError(
                f"Lambda could not prepare {name}:{qualifier or '$LATEST'}: "
                f"{reason or 'no reason given'}",
                hint="Look at the function in the Lambda console, then re-run the command.",
                region=region,
            )
        if state == "Pending" or status == "InProgress":
            return None
        return configuration

    what = f"{name}:{qualifier} to become Active" if qualifier else f"{name} to finish updating"
    return wait_until(
        ready, what=what, timeout=ACTIVE_TIMEOUT, interval=1.0, clock=clock, region=region
    )
