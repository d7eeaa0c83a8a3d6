"""Durations on the command line: `30s`, `15m`, `1h`, `2d` (SPEC §2), or plain seconds.

One click parameter type, shared by every command with a time option
(`--timeout`, `--min-age`), so they all read and explain durations alike.
"""

from __future__ import annotations

from typing import Any

import click

from failover_cli.config.durations import format_duration as format_duration
from failover_cli.config.durations import parse_duration as parse_duration

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
