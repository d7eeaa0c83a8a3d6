"""moto's records of one function: `$LATEST`, its published versions, its aliases.

Read without creating anything (a plain dict lookup per account and region).
What Lambda keeps per version or alias and moto does not is kept on moto's own
objects, so it lives and dies with them: a RevisionId per function version
(`revision`), a resource-based policy per version and per alias (`policy_of`),
the highest version number ever published (`next_version_number`: Lambda
never hands a number out twice, moto reuses it after a version is deleted), and
when a version just published stops being Pending (`set_pending`).
"""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

LATEST = "$LATEST"
VERSION = re.compile(r"^[0-9]+$")  # botocore's Version shape: (\$LATEST|[0-9]+)
REVISION_KEY = "sandbox_revision_id"
POLICY_KEY = "sandbox_policy"
LAST_NUMBER_KEY = "sandbox_last_version"
ACTIVE_AT_KEY = "sandbox_active_at"  # time.monotonic() when a new version is ready
PENDING = (
    "The operation cannot be performed at this time. "
    "The function is currently in the following state: Pending"
)

# PublishVersion, DeleteFunction and the alias calls read-modify-write moto's lists.
lock = threading.RLock()
_random = random.Random()  # routing, not security: Lambda's split is a plain weighted draw


def is_alias(qualifier: str | None) -> bool:
    return bool(qualifier) and qualifier != LATEST and not VERSION.match(qualifier or "")


@dataclass(frozen=True)
class Function:
    """One function as moto holds it (objects are moto's, shared and mutable)."""

    name: str
    arn: str  # unqualified
    latest: Any  # moto LambdaFunction
    versions: tuple[Any, ...]  # moto LambdaFunction copies, oldest first
    aliases: dict[str, Any]  # name -> moto LambdaAlias (moto's own dict)
    storage: Any  # moto LambdaStorage

    def version(self, number: str) -> Any | None:
        return next((v for v in self.versions if str(v.version) == number), None)

    def newest(self) -> Any | None:
        return max(self.versions, key=lambda v: int(v.version), default=None)

    def target(self, qualifier: str | None) -> Any | None:
        """The version object, the alias object, or `$LATEST`, that `qualifier` names."""
        if not qualifier or qualifier == LATEST:
            return self.latest
        if VERSION.match(qualifier):
            return self.version(qualifier)
        return self.aliases.get(qualifier)

    def aliases_on(self, number: str) -> list[str]:
        """Aliases that route to version `number` (as primary or additional version)."""
        return sorted(
            name
            for name, alias in self.aliases.items()
            if str(alias.function_version) == number or number in weights(alias)
        )


def find(account: str, region: str, name: str) -> Function | None:
    from moto.awslambda.models import lambda_backends

    backend = dict.get(lambda_backends.get(account) or {}, region)
    storage = getattr(backend, "_lambdas", None)
    group = storage._functions.get(name) if storage is not None else None
    latest = (group or {}).get("latest")
    if storage is None or group is None or latest is None:
        return None
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    aliases = storage._aliases.get(arn, {})  # a defaultdict: .get creates nothing
    return Function(name, arn, latest, tuple(group["versions"]), aliases, storage)


def resolve(account: str, region: str, name: str, qualifier: str | None) -> str | None:
    """The version an invocation of `name:qualifier` runs: an alias' additional version
    with its weight's probability, else its primary (Invoke reports it as
    X-Amz-Executed-Version); versions and `$LATEST` run themselves."""
    if not is_alias(qualifier):
        return qualifier
    function = find(account, region, name)
    alias = function.aliases.get(qualifier or "") if function is not None else None
    if alias is None:
        return qualifier  # Invoke answers ResourceNotFoundException
    draw = _random.random()
    for version, weight in weights(alias).items():
        if draw < weight:
            return version
        draw -= weight
    return str(alias.function_version)


def weights(alias: Any) -> dict[str, float]:
    """An alias' AdditionalVersionWeights ({} when it routes to one version only)."""
    config = alias.routing_config or {}
    found = config.get("AdditionalVersionWeights") if isinstance(config, dict) else None
    return {str(k): float(v) for k, v in (found or {}).items()}


def revision(obj: Any) -> str:
    """The RevisionId of a function version (moto has none: one is made on first look)."""
    current = obj.__dict__.get(REVISION_KEY)
    if current is None:
        current = obj.__dict__.setdefault(REVISION_KEY, str(uuid.uuid4()))
    return str(current)


def new_revision(obj: Any) -> str:
    obj.__dict__[REVISION_KEY] = str(uuid.uuid4())
    return str(obj.__dict__[REVISION_KEY])


def set_pending(version: Any, real_seconds: float) -> None:
    """A version just published is Pending for a while (Lambda creates its environment)."""
    if real_seconds > 0:
        version.__dict__[ACTIVE_AT_KEY] = time.monotonic() + real_seconds


def is_pending(obj: Any) -> bool:
    active_at = obj.__dict__.get(ACTIVE_AT_KEY) if obj is not None else None
    return active_at is not None and time.monotonic() < active_at


def describe(obj: Any, configuration: dict[str, Any]) -> dict[str, Any]:
    """Add what Lambda reports and moto does not: the RevisionId, and the Pending state
    of a version just published (the `published_version_active` waiter reads it)."""
    configuration["RevisionId"] = revision(obj)
    if is_pending(obj):
        configuration["State"] = "Pending"
        configuration["StateReason"] = "The function is being created."
        configuration["StateReasonCode"] = "Creating"
    return configuration


def policy_of(target: Any, function_arn: str) -> Any:
    """The resource-based policy of a version or alias (moto keeps one per function only).

    moto's `Policy` does the statement work; its parent stands for the unqualified
    function, so a statement's Resource becomes `<function arn>:<qualifier>`.
    """
    from moto.awslambda.policy import Policy

    with lock:
        policy = target.__dict__.get(POLICY_KEY)
        if policy is None:
            parent: Any = SimpleNamespace(function_arn=function_arn)
            policy = target.__dict__[POLICY_KEY] = Policy(parent)
        return policy


def next_version_number(function: Function) -> int:
    known = [int(v.version) for v in function.versions]
    return max([int(function.latest.__dict__.get(LAST_NUMBER_KEY, 0)), *known]) + 1


def remember_version_number(function: Function, number: int) -> None:
    function.latest.__dict__[LAST_NUMBER_KEY] = number
