"""The refresher's environment (`access.auto_refresh`), built from the config alone.

`<stack>-ip-ranges` gets everything it needs from two variables: SETTINGS (JSON: stack,
API name, stage, regions, checker regions, the operator's CIDRs, the guarded resources,
the throttle) and IP_RANGES_URL. Lambda refuses a function whose variables take more than
4 KB together, measured as the JSON of the whole map (its error quotes the "String
measured"; Lambda Developer Guide, "Lambda quotas": "Function environment variables: 4
KB, for all environment variables associated with the function, in aggregate"). Many
operator CIDRs get there: the config's check (`validate`, `plan`, `up`: exit 2, no AWS
call) says so before CreateFunction would.
"""

from __future__ import annotations

import json

from failover_cli.access import ranges as ranges_module
from failover_cli.access.policy import ALL_RESOURCES, HEALTH_RESOURCES
from failover_cli.access.statement import merge
from failover_cli.config.schema import Config

ENVIRONMENT_MAX_BYTES = 4096


def settings(config: Config) -> str:
    access = config.access
    assert access is not None
    resources = HEALTH_RESOURCES if access.routes == "health" else ALL_RESOURCES
    return json.dumps(
        {
            "stack": config.stack,
            "api_name": config.api_name,
            "stage": config.api.stage,
            "regions": list(config.regions),
            "checker_regions": list(config.health_check.checker_regions),
            # Merged as the policy merges them (adjacent and nested ones take one entry).
            "cidrs": list(merge(access.cidrs)),
            "resources": list(resources),
            "rate": config.api.throttle.rate,
            "burst": config.api.throttle.burst,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def ranges_url() -> str:
    """Where the function reads the document: FAILOVER_IP_RANGES when it is a URL (a
    sandbox's), else AWS's (a local file is the CLI's only)."""
    url = ranges_module.source()
    return url if url.startswith(("http://", "https://")) else ranges_module.AWS_URL


def variables(settings_json: str, url: str) -> dict[str, str]:
    return {"SETTINGS": settings_json, "IP_RANGES_URL": url}


def environment_size(environment: dict[str, str]) -> int:
    """Bytes of the variables as Lambda measures them: the JSON of the whole map."""
    return len(json.dumps(environment, separators=(",", ":"), ensure_ascii=False).encode())


def environment_problem(config: Config) -> str | None:
    """Why the refresher could not be created with this config (None: it can)."""
    if config.access is None or not config.access.auto_refresh:
        return None
    size = environment_size(variables(settings(config), ranges_url()))
    if size <= ENVIRONMENT_MAX_BYTES:
        return None
    return (
        f"with auto_refresh, the refresher's environment would take {size} bytes (its "
        f"{len(merge(config.access.cidrs))} CIDRs, merged, among them), over Lambda's "
        f"{ENVIRONMENT_MAX_BYTES} for all of a function's variables: list fewer CIDRs (wider "
        "prefixes), or set auto_refresh: false and run `failover refresh-ip-ranges` when AWS "
        "announces new ranges"
    )
