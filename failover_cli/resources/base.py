"""The interface every resource kind implements: observe, diff, create, update, delete.

One module per kind; each registers its handler in `registry.py`. Handlers are
stateless: everything they need comes from the Context and the Spec.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from failover_cli.config.schema import MANAGED_BY_TAG, MANAGED_BY_VALUE, STACK_TAG
from failover_cli.engine.context import Context
from failover_cli.engine.model import FieldChange, Observed, Spec


class Handler:
    """Base class: subclasses set `kind` and implement the five operations."""

    kind: ClassVar[str]
    # Fields compared by the generic diff; empty means "every field of props".
    compared_fields: ClassVar[tuple[str, ...]] = ()

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        """Read-only: what exists under this spec's identity."""
        raise NotImplementedError

    def diff(self, spec: Spec, observed: Observed) -> list[FieldChange]:
        """Fields whose observed value differs from the desired one (pure)."""
        desired = props_dict(spec.props)
        names = self.compared_fields or tuple(desired)
        return [
            FieldChange(name, observed.props.get(name), desired[name])
            for name in names
            if observed.props.get(name) != desired[name]
        ]

    def create(self, ctx: Context, spec: Spec) -> None:
        raise NotImplementedError

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        raise NotImplementedError

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        raise NotImplementedError

    def deletes_separately(self, observed: Observed) -> bool:
        """False for things that go away with their parent (the seed item with its table)."""
        return True


def props_dict(props: Any) -> dict[str, Any]:
    if props is None:
        return {}
    if dataclasses.is_dataclass(props) and not isinstance(props, type):
        return {f.name: getattr(props, f.name) for f in dataclasses.fields(props)}
    return dict(props)


def is_owned(tags: dict[str, str], stack: str) -> bool:
    """The stack owns a resource only when both ownership tags say so."""
    return tags.get(STACK_TAG) == stack and tags.get(MANAGED_BY_TAG) == MANAGED_BY_VALUE


NOT_OURS = "not this stack's"


def not_ours(tags: dict[str, str], stack: str) -> str | None:
    """None when the stack owns the resource; else why not, naming the stack its tag names.

    Read commands say this instead of showing another stack's table, function or logs
    as their own: names like `prod.Hello` can be shared by stacks in one account.
    """
    if is_owned(tags, stack):
        return None
    other = tags.get(STACK_TAG)
    if other and other != stack:
        return f"{NOT_OURS}: it carries {STACK_TAG}={other}"
    return (
        f"{NOT_OURS}: it lacks the tags {STACK_TAG}={stack} and {MANAGED_BY_TAG}={MANAGED_BY_VALUE}"
    )


def tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    """{"a": "b"} -> [{"Key": "a", "Value": "b"}] (the shape most AWS APIs take)."""
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def tag_dict(
    items: list[dict[str, str]] | None, key: str = "Key", value: str = "Value"
) -> dict[str, str]:
    return {item[key]: item[value] for item in items or []}


def comparable_tags(
    observed: dict[str, str], wanted: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """The observed tags restricted to the keys the stack sets.

    `up` makes sure its own tags are present with the right values; tags that
    someone added by hand are left alone (never stripped).
    """
    keys = {k for k, _ in wanted}
    return tuple(sorted((k, v) for k, v in observed.items() if k in keys))
