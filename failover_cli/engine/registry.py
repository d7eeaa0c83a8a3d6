"""The resource kinds the engine runs, the order of teardown, and the specs they make.

The engine imports no kind: each kind registers its handler here when the package
`failover_cli.resources` is imported (its `__init__.py` lists them in build order), and
the commands import that package before they run the pipeline. Adding a kind: one
module in `failover_cli/resources/` with a Handler subclass instance named `HANDLER`,
one line in `resources/__init__.py`, and its place in DELETE_ORDER below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from failover_cli.bundle import CodeBundle
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec

if TYPE_CHECKING:
    from failover_cli.engine.handler import Handler

# SPEC §4: down removes records -> alarms -> health checks -> base path mappings ->
# domain names -> certificates -> APIs -> functions -> log groups -> scaling targets
# -> replicas -> table -> role -> topic.
DELETE_ORDER: list[str] = [
    "record",
    "alarm",
    "region_check",  # before its children: Route 53 refuses to delete a counted child
    "switch_reader",
    "health_check",
    "base_path_mapping",
    "domain_name",
    "certificate",
    "ip_refresher",  # before its role and log group
    "api_policy",  # goes with its API (nothing deleted on its own)
    "api",
    "alias",  # goes with its function (nothing deleted on its own)
    "function",
    "log_group",
    "scaling",
    "replica",
    "seed_item",
    "switch_item",
    "table",
    "role",
    "subscription",
    "topic",
]

# Kinds whose changes must run one at a time (DynamoDB accepts one replica update at once).
SERIAL_KINDS = {"replica"}

_HANDLERS: dict[str, Handler] = {}  # kind -> handler, in build order


def register(*handlers: Handler) -> None:
    """Make kinds known to the engine, in build order (resources/__init__.py calls this)."""
    for handler in handlers:
        if handler.kind not in DELETE_ORDER:
            raise RuntimeError(f"resource kind {handler.kind!r} needs a place in DELETE_ORDER")
        _HANDLERS[handler.kind] = handler


def kinds() -> tuple[str, ...]:
    """Every registered kind, in build order."""
    if not _HANDLERS:  # planning with no kind would plan nothing, and say nothing is wrong
        raise RuntimeError("no resource kind is registered: import failover_cli.resources first")
    return tuple(_HANDLERS)


def handler_for(kind: str) -> Handler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise RuntimeError(
            f"resource kind {kind!r} is not registered: import failover_cli.resources first"
        ) from None


def is_serial(kind: str) -> bool:
    return kind in SERIAL_KINDS


def desired_specs(inputs: DesiredInputs) -> list[Spec]:
    specs: list[Spec] = []
    for kind in kinds():
        specs.extend(handler_for(kind).desired(inputs))
    keys = [s.key for s in specs]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise RuntimeError(f"duplicate resource specs: {sorted(duplicates)}")
    return specs


# The kinds that hold the table's data (`down --keep-table` leaves them alone).
TABLE_KINDS = frozenset({"table", "replica", "seed_item", "switch_item", "scaling"})
NO_CODE = CodeBundle(zip_bytes=b"", sha256="")  # a teardown names the function, not its code


def teardown_specs(ctx: Context, *, keep_table: bool) -> list[Spec]:
    """What `down` looks for: every spec the config names, the table's unless kept."""
    specs = desired_specs(DesiredInputs(ctx.config, "", NO_CODE))
    return [s for s in specs if not (keep_table and s.kind in TABLE_KINDS)]
