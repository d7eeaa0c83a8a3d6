"""`failover validate`: load and check the config offline; no AWS call."""

from __future__ import annotations

import click

from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState
from failover_cli.errors import FailoverError


@click.command("validate")
@json_option
@pass_state
def command(state: AppState) -> None:
    """Check the config offline; no AWS call.

    Exit 0 when valid; exit 2 listing each problem as file:line: key: problem.
    With --json, prints {"valid": true, "config": {...}} (or "valid": false and
    the problems) on stdout.
    """
    from failover_cli.bundle import shipped_bundle_path
    from failover_cli.cli.render import emit_json
    from failover_cli.config.access_section import access_warnings
    from failover_cli.config.describe import config_to_json, describe, problems_to_json

    try:
        config = state.load_config()
    except FailoverError as error:
        if state.json:
            emit_json({"valid": False, "problems": problems_to_json(error)})
        raise  # the group's error boundary prints it and exits 2
    warnings = access_warnings(config)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if state.json:
        emit_json({"valid": True, "config": config_to_json(config), "warnings": warnings})
    else:
        click.echo(describe(config, shipped_bundle_path()))
