"""The interface every resource kind implements: observe, diff, create, update, delete.

One module per kind under `resources/`; each registers its handler in `registry.py`.
Handlers are stateless: everything they need comes from the Context and the Spec.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

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
