"""The stack's REST API in a region, as GetRestApis lists it: shared by the API kind, the
roles that name it (the refresher's) and the commands that call it.

The API is found by its name (`api_name`), an owned one preferred, the oldest first (a
resent create may have made two).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from failover_cli.aws.tags import is_owned
from failover_cli.engine.context import Context


def find_api(ctx: Context, region: str) -> dict[str, Any] | None:
    """The stack's REST API in `region` (GetRestApis item), preferring an owned one; or None."""
    named = apis_named(ctx, region, ctx.config.api_name)
    owned = [a for a in named if is_owned(a.get("tags") or {}, ctx.config.stack)]
    return oldest(owned or named)


def apis_named(ctx: Context, region: str, name: str) -> list[dict[str, Any]]:
    ag = ctx.client("apigateway", region)
    found: list[dict[str, Any]] = []
    for page in ag.get_paginator("get_rest_apis").paginate(PaginationConfig={"PageSize": 500}):
        found.extend(a for a in page.get("items", []) if a.get("name") == name)
    return found


def oldest(apis: list[dict[str, Any]]) -> dict[str, Any] | None:
    def created(api: dict[str, Any]) -> float:
        value = api.get("createdDate")
        return value.timestamp() if isinstance(value, datetime) else 0.0

    return min(apis, key=created) if apis else None
