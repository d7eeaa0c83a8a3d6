"""The desired state: every resource the config asks for, as frozen specs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from failover_cli.bundle import CodeBundle
from failover_cli.config.schema import Config
from failover_cli.engine.context import Context
from failover_cli.engine.model import Spec
from failover_cli.engine.registry import KINDS, module_for

if TYPE_CHECKING:
    from failover_cli.access.ranges import Ranges


@dataclass(frozen=True)
class DesiredInputs:
    """What the spec builders need beyond the config."""

    config: Config
    secret: str  # the health-checker secret (see engine.secret)
    code: CodeBundle
    # The published ranges for `access.allow: route53-health-checkers` (None: not read).
    ranges: Ranges | None = None


def desired_specs(inputs: DesiredInputs) -> list[Spec]:
    specs: list[Spec] = []
    for kind in KINDS:
        specs.extend(module_for(kind).desired(inputs))
    keys = [s.key for s in specs]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise RuntimeError(f"duplicate resource specs: {sorted(duplicates)}")
    return specs


# The kinds that hold the table's data (`down --keep-table` leaves them alone).
TABLE_KINDS = frozenset({"table", "replica", "seed_item", "scaling"})
NO_CODE = CodeBundle(zip_bytes=b"", sha256="")  # a teardown names the function, not its code


def teardown_specs(ctx: Context, *, keep_table: bool) -> list[Spec]:
    """What `down` looks for: every spec the config names, the table's unless kept."""
    specs = desired_specs(DesiredInputs(ctx.config, "", NO_CODE))
    return [s for s in specs if not (keep_table and s.kind in TABLE_KINDS)]
