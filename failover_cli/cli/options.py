"""Options shared by several commands, defined once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from failover_cli.cli.state import AppState

F = TypeVar("F", bound=Callable[..., Any])


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        state = ctx.find_object(AppState)
        if state is not None:
            state.json = True
    return value


def json_option(func: F) -> F:
    """`--json` after the command name, same meaning as the global flag."""
    return click.option(
        "--json",
        "json_flag",
        is_flag=True,
        expose_value=False,
        callback=_set_json,
        help="Machine-readable output on stdout.",
    )(func)


def yes_option(func: F) -> F:
    return click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(func)


MAX_TIME_SCALE = 1000.0  # a 10 s health check interval becomes 10 ms; faster only spins


def _finite(_ctx: click.Context, _param: click.Parameter, value: float) -> float:
    if value != value:  # NaN passes every range comparison
        raise click.BadParameter("nan is not a number")
    return value


def time_scale_option(default: float, help: str) -> Callable[[F], F]:
    """`--time-scale N` of the sandbox's clocks: above 0, at most MAX_TIME_SCALE."""

    def decorate(func: F) -> F:
        return click.option(
            "--time-scale",
            type=click.FloatRange(min=0, min_open=True, max=MAX_TIME_SCALE),
            default=default,
            show_default=True,
            callback=_finite,
            help=help,
        )(func)

    return decorate


pass_state = click.make_pass_decorator(AppState)
