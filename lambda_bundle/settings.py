"""The function's configuration, read from its environment on every request.

Reading per request costs microseconds and means a changed environment (for
example FORCE_FAIL flipped by `failover force-fail`) is honoured at once.
"""

from __future__ import annotations

import json
import os

_TRUTHY = frozenset({"true", "1", "yes"})
DEFAULT_DEEP_PING_KEY = {"HelloKey": "Hello"}
DEFAULT_DEEP_PING_ATTRIBUTE = "Hello"
SWITCH_KEY_VALUE = "failover:switch"  # the switch item's partition key value


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUTHY


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "unknown"


def force_fail() -> bool:
    return is_true(os.environ.get("FORCE_FAIL"))


def accepted_secrets() -> list[bytes]:
    """The current health-checker secret and, during a rotation, the next one.

    Empty values are dropped: an unconfigured secret accepts nothing.
    """
    values = (os.environ.get("HEALTH_CHECKER_ID"), os.environ.get("HEALTH_CHECKER_ID_NEXT"))
    return [v.encode() for v in values if v]


def deep_ping_percent() -> float:
    """Share (0-100) of /health calls that also read the table; unparsable means 0."""
    try:
        percent = float(os.environ.get("DEEP_PING_PERCENT") or 0)
    except ValueError:
        return 0.0
    if percent != percent:  # NaN
        return 0.0
    return min(max(percent, 0.0), 100.0)


def table_name() -> str:
    return os.environ.get("TABLE_NAME", "")


def deep_ping_key() -> dict[str, str]:
    """The seed item's key; raises ValueError when DEEP_PING_KEY is not a JSON object of strings."""
    raw = os.environ.get("DEEP_PING_KEY")
    if not raw:
        return dict(DEFAULT_DEEP_PING_KEY)
    key = json.loads(raw)
    if (
        not isinstance(key, dict)
        or not key
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in key.items())
    ):
        raise ValueError("DEEP_PING_KEY must be a JSON object of string attributes")
    return key


def deep_ping_attribute() -> str:
    return os.environ.get("DEEP_PING_ATTRIBUTE") or DEFAULT_DEEP_PING_ATTRIBUTE


def switch_key() -> dict[str, str]:
    """The switch item's key: SWITCH_KEY (JSON) if set, else the table's partition key (the
    seed item's key attribute) holding the constant `failover:switch` (see switch_reader.py)."""
    raw = os.environ.get("SWITCH_KEY")
    if raw:
        key = json.loads(raw)
        if not isinstance(key, dict) or not all(isinstance(v, str) for v in key.values()):
            raise ValueError("SWITCH_KEY must be a JSON object of string attributes")
        return key
    return {name: SWITCH_KEY_VALUE for name in deep_ping_key()}
