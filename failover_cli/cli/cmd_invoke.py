"""`failover invoke --region R`: one request to one region's function, answer printed."""

from __future__ import annotations

import click

from failover_cli.cli.completion import complete_region
from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState
from failover_cli.errors import ExitCode


@click.command("invoke")
@click.option(
    "--region",
    required=True,
    shell_complete=complete_region,
    help="The region whose function to call (through that region's API).",
)
@click.option(
    "--path",
    default="/hello",
    show_default=True,
    help="The route after the stage, with its own query string if any (/health?deep=true).",
)
@click.option("--data", default=None, help="A request body; the method is then POST.")
@click.option(
    "--method",
    type=click.Choice(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
    default=None,
    help="The HTTP method (default GET, or POST with --data).",
)
@json_option
@pass_state
def command(state: AppState, region: str, path: str, data: str | None, method: str | None) -> None:
    """Call one region's function through its API and print status, headers and body.

    The health-checker secret is added as the `healthCheckerId` parameter, so
    protected routes answer too; it is masked wherever it would show.
    """
    from failover_cli.aws.deadlines import READ_ONLY
    from failover_cli.cli.render import emit_json
    from failover_cli.cli.session import open_context
    from failover_cli.ops.invoke import invoke

    ctx, _, _ = open_context(state, READ_ONLY)
    answer = invoke(ctx, region, path, data, method)
    if state.json:
        emit_json(answer.to_json())
    else:
        click.echo(f"{answer.method} {answer.url}")
        if answer.status:
            click.echo(f"HTTP {answer.status} in {answer.seconds * 1000:.0f} ms")
            for name, value in sorted(answer.headers.items(), key=lambda h: h[0].lower()):
                click.echo(f"{name}: {value}")
            click.echo("")
            click.echo(answer.body)
        else:
            click.echo(f"no answer: {answer.error}")
    if not answer.ok:
        raise click.exceptions.Exit(ExitCode.FAILURE)
