"""The allow-list `access:` asks for, from the config and the ranges document (no AWS call).

The policy itself is built by statement.py; here the config's CIDRs and the
checker prefixes become its list, and a policy over API Gateway's 8 KB limit is
refused (exit 2) with its size, measured as API Gateway stores it (shorthand
resources expanded to ARNs).
"""

from __future__ import annotations

from failover_cli.access.ranges import Ranges
from failover_cli.access.statement import (
    ALL_RESOURCES,
    DENY_SID,
    HEALTH_RESOURCES,
    INVOKE_SID,
    MAX_POLICY_BYTES,
    AllowList,
    comparable,
    merge,
    policy_size,
    policy_text,
    read_policy,
)
from failover_cli.config.schema import AccessConfig
from failover_cli.errors import BadInput

__all__ = [
    "ALL_RESOURCES",
    "DENY_SID",
    "HEALTH_RESOURCES",
    "INVOKE_SID",
    "MAX_POLICY_BYTES",
    "AllowList",
    "PolicyTooLarge",
    "allow_list",
    "check_size",
    "comparable",
    "merge",
    "policy_text",
    "read_policy",
]


class PolicyTooLarge(BadInput):
    pass


def allow_list(
    access: AccessConfig, checker_regions: tuple[str, ...], ranges: Ranges | None
) -> AllowList:
    cidrs = list(access.cidrs)
    token = ""
    if access.checkers:
        if ranges is None:
            raise RuntimeError("route53-health-checkers needs the ranges document")
        cidrs += ranges.checkers(checker_regions)
        token = ranges.sync_token
    resources = HEALTH_RESOURCES if access.routes == "health" else ALL_RESOURCES
    return AllowList(merge(cidrs), resources, token)


def check_size(text: str) -> None:
    size = policy_size(text)
    if size > MAX_POLICY_BYTES:
        raise PolicyTooLarge(
            f"The REST API resource policy for access.allow would take {size} bytes; API "
            f"Gateway allows {MAX_POLICY_BYTES}. Nothing was changed",
            hint="List fewer or wider CIDRs in access.allow (adjacent ones are merged already).",
        )
