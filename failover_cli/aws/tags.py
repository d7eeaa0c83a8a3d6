"""Tags in the shapes AWS APIs take and give, and the ownership rule they carry.

The stack owns a resource only when it carries both ownership tags (SPEC: never
delete what the stack does not own); every kind and command asks `is_owned`.
"""

from __future__ import annotations

from failover_cli.config.schema import MANAGED_BY_TAG, MANAGED_BY_VALUE, STACK_TAG


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
