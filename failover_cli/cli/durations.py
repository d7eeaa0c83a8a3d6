"""Durations on the command line: `30s`, `15m`, `1h`, `2d` (SPEC §2), or plain seconds.

One click parameter type, shared by every command with a time option
(`--timeout`, `--min-age`), so they all read and explain durations alike.
"""

from __future__ import annotations

import re
from typing import Any

import click

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


MAX_SECONDS = 3650 * 86400.0  # ten years: longer than any log retention or sensible wait


class Duration(click.ParamType):
    """A click type giving seconds as a float; `positive` refuses zero (a time-out of 0s)."""

    name = "duration"

    def __init__(self, *, positive: bool = False) -> None:
        self.positive = positive

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            seconds = float(value) if isinstance(value, int | float) else parse_duration(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)
        if not 0 <= seconds <= MAX_SECONDS:  # also NaN
            self.fail(f"{value!r} is not between 0s and {format_duration(MAX_SECONDS)}", param, ctx)
        if self.positive and seconds == 0:
            self.fail(f"{value!r} is no time at all; give a duration like 30s or 10m", param, ctx)
        return seconds


DURATION = Duration()
POSITIVE_DURATION = Duration(positive=True)  # time-outs: 0s would give up before starting
