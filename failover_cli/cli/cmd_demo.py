"""`failover demo`: start a sandbox in-process and run the tool against it."""

from __future__ import annotations

import click

from failover_cli.cli.options import time_scale_option


@click.command("demo")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Sandbox port (0: a free one).",
)
@time_scale_option(10.0, "Speed-up of the sandbox's clocks (health checker intervals).")
def command(port: int, time_scale: float) -> None:
    """Start a sandbox in-process and run up, plan and down against it."""
    from failover_cli.cli.render import err_console
    from failover_cli.demo import run_demo

    run_demo(err_console(), port=port, time_scale=time_scale)
    click.echo(
        "Demo finished: the stack was created, checked and removed; nothing is left running."
    )
