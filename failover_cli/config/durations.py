"""Durations in text: `30s`, `15m`, `1h`, `2d` (SPEC §2), or plain seconds.

Shared by the command line (cli/durations.py) and config keys that hold a duration
(`deploy.bake`), so both read and write durations alike.
"""

from __future__ import annotations

import re

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[smhd]?)\s*$", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in `text` ("90", "90s", "1.5m", "2h", "1d"); ValueError when unreadable."""
    found = _PATTERN.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not a duration like 30s, 15m, 1h or 2d")
    return float(found["number"]) * _UNITS[(found["unit"] or "s").lower()]


def format_duration(seconds: float) -> str:
    """The shortest exact way to write `seconds` back (600 -> "10m", 90 -> "90s")."""
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
