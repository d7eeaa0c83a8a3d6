"""`failover demo`: start a sandbox in-process and run the tool against it."""

from __future__ import annotations

import click

from failover_cli.cli.options import json_option, pass_state, time_scale_option
from failover_cli.cli.state import AppState


@click.command("demo")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Sandbox port (0: a free one).",
)
@time_scale_option(10.0, "Speed-up of the sandbox's clocks (health checker intervals).")
@json_option
@pass_state
def command(state: AppState, port: int, time_scale: float) -> None:
    """Start a sandbox in-process and run up, status, drill, gc-logs and down against it.

    The narration goes to stderr; the outcome is the last line on stdout (with
    --json, one object). Nothing is left running or written to the current folder.
    """
    from failover_cli.cli.demo import run_demo
    from failover_cli.cli.render import emit_json, err_console

    run_demo(err_console(), port=port, time_scale=time_scale)
    if state.json:
        emit_json({"ok": True, "steps": ["up", "status", "drill", "gc-logs", "down"]})
        return
    click.echo(
        "Demo finished: the stack was created, checked and removed; nothing is left running."
    )
