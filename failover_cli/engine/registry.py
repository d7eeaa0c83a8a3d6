"""Every resource kind, its module, and the order of teardown.

Adding a kind: one module in `failover_cli/resources/` that defines a Handler
subclass named `HANDLER` and a `desired(inputs) -> list[Spec]` function, plus
one line here.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from failover_cli.engine.handler import Handler

# kind -> module under failover_cli.resources (in build order, for readability)
KINDS: dict[str, str] = {
    "role": "role",
    "table": "table",
    "seed_item": "seed",
    "scaling": "scaling",
    "replica": "replica",
    "log_group": "log_group",
    "function": "function",
    "api": "api",
    "api_policy": "api_policy",
    "ip_refresher": "ip_refresher",  # also specs a role and a log group of its own
    "certificate": "certificate",
    "domain_name": "domain_name",
    "base_path_mapping": "base_path_mapping",
    "health_check": "health_check",
    "topic": "topic",
    "subscription": "subscription",
    "alarm": "alarm",
    "record": "record",
}

# SPEC §4: down removes records -> alarms -> health checks -> base path mappings ->
# domain names -> certificates -> APIs -> functions -> log groups -> scaling targets
# -> replicas -> table -> role -> topic.
DELETE_ORDER: list[str] = [
    "record",
    "alarm",
    "health_check",
    "base_path_mapping",
    "domain_name",
    "certificate",
    "ip_refresher",  # before its role and log group
    "api_policy",  # goes with its API (nothing deleted on its own)
    "api",
    "function",
    "log_group",
    "scaling",
    "replica",
    "seed_item",
    "table",
    "role",
    "subscription",
    "topic",
]

# Kinds whose changes must run one at a time (DynamoDB accepts one replica update at once).
SERIAL_KINDS = {"replica"}


@cache
def module_for(kind: str) -> ModuleType:
    return importlib.import_module(f"failover_cli.resources.{KINDS[kind]}")


def handler_for(kind: str) -> Handler:
    handler: Handler = module_for(kind).HANDLER
    return handler


def is_serial(kind: str) -> bool:
    return kind in SERIAL_KINDS
