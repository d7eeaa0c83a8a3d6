"""The interface every resource kind implements, from the config to applied changes.

A kind says what the config asks for (`desired`), checks what must hold before
planning (`preflight`), finds what the stack still owns that the config no longer
names (`leftovers`), and observes, diffs, creates, updates and deletes. One module per
kind under `resources/`, registered with the engine (`registry.register`); the engine
drives them all through this interface and imports none of them. Handlers are
stateless: everything they need comes from the Context and the Spec.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from failover_cli.config.schema import DomainConfig
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import FieldChange, Observed, Spec


@dataclass(frozen=True)
class Former:
    """What the stack owns that the config no longer names."""

    regions: tuple[str, ...] = ()
    domains: tuple[DomainConfig, ...] = ()
    tables: tuple[str, ...] = ()  # former table names (the table is deleted only when owned)
    functions: tuple[str, ...] = ()  # former function names
    email: str | None = None  # a subscribed address when the config names none

    def __bool__(self) -> bool:
        return bool(self.regions or self.domains or self.tables or self.functions or self.email)


class Handler:
    """Base class: subclasses set `kind`, build `desired` specs and implement the five
    operations; `preflight` and the `leftovers` steps do nothing unless a kind needs them."""

    kind: ClassVar[str]
    # Fields compared by the generic diff; empty means "every field of props".
    compared_fields: ClassVar[tuple[str, ...]] = ()

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        """The specs of this kind that the config asks for (pure)."""
        raise NotImplementedError

    def preflight(self, ctx: Context) -> None:
        """Read-only, before `up` plans: raise BadInput for a config that cannot be
        applied as it stands (nothing has been changed yet)."""

    def leftovers(self, ctx: Context) -> Former:
        """Read-only: what of this kind the stack still owns that `ctx.config` no longer
        names, looking in the config's regions and in global listings."""
        return Former()

    def leftovers_in(self, ctx: Context, regions: tuple[str, ...]) -> Former:
        """Read-only, a second round: what of this kind lives in `regions`, the regions
        the first round found the stack still in beyond the config."""
        return Former()

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
