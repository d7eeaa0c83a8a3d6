"""The switch item: which regions are forced out, as data in the stack's global table.

Its shape is the function's (lambda_bundle/switch_reader.py reads it):
`<partition key>: "failover:switch"`, `forced_out` (M: region -> {at, by, why}),
`revision` (N, +1 on every write), `updated_at` (S). `up` seeds it with an empty map:
DynamoDB refuses `SET forced_out.#r` on an item without the map.
"""

from __future__ import annotations

from typing import Any

from failover_cli.config.schema import Config

SWITCH_KEY_VALUE = "failover:switch"  # lambda_bundle/settings.SWITCH_KEY_VALUE
FORCED_OUT_MARKER = "failover-switch:forced-out"  # lambda_bundle/switch_reader.py


def switch_key(config: Config) -> dict[str, Any]:
    return {config.table.partition_key: {"S": SWITCH_KEY_VALUE}}


def reader_path(stage: str, region: str, secret: str) -> str:
    """The function route a reader probes for whether `region` is forced out."""
    from failover_cli.services.health_checks import SECRET_PARAMETER

    return f"/{stage}/health/switch/{region}?{SECRET_PARAMETER}={secret}"
