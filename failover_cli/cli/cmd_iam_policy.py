"""`failover iam-policy`: the operator's least-privilege IAM policy for this config."""

from __future__ import annotations

import click

from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState
from failover_cli.permissions.calls import COMMANDS  # light: no boto3


@click.command("iam-policy")
@click.option(
    "--command",
    "commands",
    type=click.Choice(list(COMMANDS)),
    multiple=True,
    help="Only what this command needs (repeatable); default: every command.",
)
@click.option(
    "--stack-scoped",
    is_flag=True,
    help="Narrow Resource to this stack's names where the service allows it.",
)
@json_option  # accepted like everywhere else: the policy is JSON either way
@pass_state
def command(state: AppState, commands: tuple[str, ...], stack_scoped: bool) -> None:
    """Print the IAM policy (JSON) the identity running `failover` needs for this config.

    Derived from the registry of the AWS calls each command makes, including what
    AWS checks on their behalf:
    iam:PassRole on the function role only, the replica region's DynamoDB actions,
    the service-linked roles of replication and auto scaling. No AWS call.
    """
    import json

    from failover_cli.permissions.policy import ALL_COMMANDS, operator_policy

    config = state.load_config()
    document = operator_policy(config, commands or ALL_COMMANDS, stack_scoped=stack_scoped)
    click.echo(json.dumps(document, indent=2))
