"""The deep ping: read the seed item from the table in this region.

The DynamoDB client is built on the first deep ping and cached for the life of
the container (boto3 is imported only then, so shallow pings never pay for
it). Timeouts and retries are short so that a failing read answers 503 well
inside the function's 5 s timeout; Route 53 checkers give up after a few
seconds anyway.
"""

from __future__ import annotations

import logging
from typing import Any

import settings

_log = logging.getLogger(__name__)

# Worst case about 2 attempts x (1 s connect + 1 s read) plus one short backoff.
_CONNECT_TIMEOUT_S = 1.0
_READ_TIMEOUT_S = 1.0
_TOTAL_ATTEMPTS = 2

_clients: dict[str, Any] = {}  # region -> DynamoDB client, one per container


def table_client(region: str) -> Any:
    client = _clients.get(region)
    if client is None:
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=_CONNECT_TIMEOUT_S,
            read_timeout=_READ_TIMEOUT_S,
            retries={"total_max_attempts": _TOTAL_ATTEMPTS, "mode": "standard"},
        )
        # A fresh Session uses the standard chain, so AWS_ENDPOINT_URL (an
        # emulator) is honoured exactly like on AWS.
        client = boto3.session.Session().client("dynamodb", region_name=region, config=config)
        _clients[region] = client
    return client


def read_item(
    region: str, key: dict[str, str], projection: str, names: dict[str, str]
) -> dict[str, Any] | None:
    """One projected GetItem (eventually consistent) from the table's replica in `region`."""
    table = settings.table_name()
    if not table:
        raise ValueError("TABLE_NAME is not set")
    item = (
        table_client(region)
        .get_item(
            TableName=table,
            Key={name: {"S": value} for name, value in key.items()},
            ProjectionExpression=projection,
            ExpressionAttributeNames=names,
        )
        .get("Item")
    )
    return item if isinstance(item, dict) else None


def read_greeting(region: str) -> str | None:
    """The seed item's greeting attribute, or None (logged once) when it cannot be read."""
    attribute = settings.deep_ping_attribute()
    try:
        item = read_item(region, settings.deep_ping_key(), "#a", {"#a": attribute})
    except Exception as exc:
        _log.error("deep ping read failed in %s: %s: %.200s", region, type(exc).__name__, exc)
        return None
    value = (item or {}).get(attribute, {}).get("S")
    if not isinstance(value, str):
        _log.error(
            "deep ping in %s: seed item or its string attribute %r is missing", region, attribute
        )
        return None
    return value
