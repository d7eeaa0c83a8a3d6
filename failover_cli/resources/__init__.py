"""The resource kinds: one module per kind, each with its `HANDLER`, registered with the
engine here in build order.

Importing this package (or any module in it) registers them all; the commands do it
before they run the pipeline (cli/session.py). Shared helpers are not kinds: they live
in services/ (what several kinds and commands share about one AWS thing).
"""

from __future__ import annotations

from failover_cli.engine.handler import Handler
from failover_cli.engine.registry import register
from failover_cli.resources import (
    alarm,
    alias,
    api,
    api_policy,
    base_path_mapping,
    certificate,
    domain_name,
    function,
    health_check,
    ip_refresher,
    log_group,
    record,
    region_check,
    replica,
    role,
    scaling,
    seed,
    subscription,
    switch_item,
    switch_reader,
    table,
    topic,
)

# In build order (for readability: the engine orders changes by their dependencies).
HANDLERS: dict[str, Handler] = {
    module.HANDLER.kind: module.HANDLER
    for module in (
        role,
        table,
        seed,
        scaling,
        replica,
        log_group,
        function,
        alias,  # the published version each region's API invokes
        api,
        api_policy,
        ip_refresher,  # also specs a role and a log group of its own
        certificate,
        domain_name,
        base_path_mapping,
        health_check,
        switch_reader,
        region_check,  # CALCULATED: the probe AND the readers
        switch_item,
        topic,
        subscription,
        alarm,
        record,
    )
}
register(*HANDLERS.values())
