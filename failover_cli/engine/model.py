"""The plan as data: desired specs, observations, field changes and planned changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

GLOBAL = "global"  # pseudo-region of global resources (the IAM role)


@dataclass(frozen=True)
class Spec:
    """One desired resource: its kind, where it lives, its identity and its properties.

    `props` holds the fields the handler compares against what it observes;
    `depends_on` lists the keys of specs that must exist before this one.
    """

    kind: str
    region: str
    name: str
    props: Any = None
    depends_on: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.region}:{self.name}"

    @property
    def where(self) -> str:
        return "" if self.region == GLOBAL else self.region


@dataclass
class Observed:
    """What exists for a spec's identity (read-only observation).

    `props` uses the same field names as the desired props, so the generic diff
    can compare them; `raw` keeps whatever the handler needs to update or delete
    (ids, ARNs). `owned` is True when the ownership tags say the stack owns it.
    """

    exists: bool
    owned: bool = True
    props: dict[str, Any] = field(default_factory=dict)
    raw: Any = None

    @classmethod
    def missing(cls) -> Observed:
        return cls(exists=False, owned=False)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any
    note: str = ""  # how the change is applied when that is not obvious ("replaces the check")

    def describe(self) -> str:
        text = f"{self.field}: {_short(self.old)} -> {_short(self.new)}"
        return f"{text}, {self.note}" if self.note else text


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "no-op"
    SKIP = "skip"  # exists but not owned by the stack: never touched


@dataclass
class Change:
    action: Action
    spec: Spec
    observed: Observed
    fields: list[FieldChange] = field(default_factory=list)
    reason: str = ""  # why SKIP, or extra detail for humans
    # The Context to apply it with when not the run's: deletions of what a former shape of
    # the config named (a removed region, an old domain) derive names from that shape.
    context: Any = None
    # Keys of other deletes that must finish before this one (besides the dependencies).
    after: tuple[str, ...] = ()
    # What a deletion loses, for the guard on deletes ("" when it loses no data).
    loses: str = ""

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def mutating(self) -> bool:
        return self.action in (Action.CREATE, Action.UPDATE, Action.DELETE)

    def describe(self) -> str:
        label = f"{self.spec.kind} {self.spec.name}"
        if self.action is Action.UPDATE and self.fields:
            return f"{label} ({'; '.join(f.describe() for f in self.fields)})"
        if self.reason:
            return f"{label} ({self.reason})"
        return label

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "kind": self.spec.kind,
            "region": self.spec.region,
            "name": self.spec.name,
            "fields": [f.field for f in self.fields],
            "reason": self.reason,
            "description": self.describe(),
            **({"loses": self.loses} if self.action is Action.DELETE else {}),
        }


@dataclass
class Plan:
    changes: list[Change]

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.mutating]

    @property
    def skipped(self) -> list[Change]:
        return [c for c in self.changes if c.action is Action.SKIP]

    @property
    def deletions(self) -> list[Change]:
        return [c for c in self.changes if c.action is Action.DELETE]

    @property
    def has_changes(self) -> bool:
        return bool(self.pending)

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": [c.to_json() for c in self.changes if c.action is not Action.NOOP],
            "pending": len(self.pending),
            "deletions": [c.to_json() for c in self.deletions],
        }


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"
