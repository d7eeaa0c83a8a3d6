"""The `failover` command group: global options, lazy commands, one error boundary.

Commands live one per module (`cmd_<name>.py`) and are imported only when
invoked, so `failover --help` never imports boto3.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from failover_cli import __version__
from failover_cli.errors import ExitCode, FailoverError

# command name -> module under failover_cli.cli, and its one-line help for `--help`
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("cmd_init", "Write a starter config (prompts, or flags for every answer)."),
    "validate": ("cmd_validate", "Check the config offline; no AWS call."),
    "plan": ("cmd_plan", "Show what `up` would create, change or delete (read-only)."),
    "up": ("cmd_up", "Converge AWS to the config; safe to re-run."),
    "status": ("cmd_status", "One view per region: health, checks, alarms, DNS and a live probe."),
    "force-fail": ("cmd_force_fail", "Make one region's function fail on purpose (or --restore)."),
    "drill": ("cmd_drill", "Force-fail a region, measure failover and failback, restore."),
    "gc-logs": ("cmd_gc_logs", "Delete empty log streams in the stack's own log groups."),
    "logs": ("cmd_logs", "The functions' log events from every region, merged by time."),
    "rotate-secret": ("cmd_rotate_secret", "Replace the health-checker secret, no check fails."),
    "rollback": ("cmd_rollback", "Point each region back at its previous release, gated."),
    "invoke": ("cmd_invoke", "Call one region's function through its API; print the answer."),
    "down": ("cmd_down", "Delete everything the stack owns, then verify nothing remains."),
    "refresh-ip-ranges": (
        "cmd_refresh_ip_ranges",
        "Update the APIs' IP allow-list from the current ip-ranges.json.",
    ),
    "doctor": ("cmd_doctor", "Read-only preflight: credentials, permissions, zone, quotas."),
    "iam-policy": ("cmd_iam_policy", "Print the operator's least-privilege IAM policy (JSON)."),
    "sandbox": ("cmd_sandbox", "Run the local two-region AWS emulation in the foreground."),
    "demo": ("cmd_demo", "Start a sandbox in-process and run the whole tool against it."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, and the one error boundary."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"failover_cli.cli.{entry[0]}")
        command: click.Command = module.command
        if command.epilog is None and "Exit codes" not in (command.help or ""):
            from failover_cli.cli.exit_codes import epilog

            command.epilog = epilog(cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text without importing every command module.
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        # Errors become one paragraph and an exit code here, so `main()` and
        # click's CliRunner in tests behave the same.
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except FailoverError as error:
            _show_error(ctx, error)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted. Re-run the same command to resume where it stopped.", err=True)
            ctx.exit(130)
        except Exception as error:
            translated = _translate_unexpected(error)
            if translated is None:
                raise
            _show_error(ctx, translated)
            ctx.exit(translated.exit_code)


def _show_error(ctx: click.Context, error: FailoverError) -> None:
    from failover_cli.errors import redact

    verbose = bool(getattr(ctx.obj, "verbose", False))
    if verbose:
        import traceback

        # The chained botocore error quotes AWS's own message, which may quote the request.
        click.echo(redact(traceback.format_exc()).rstrip("\n"), err=True)
    from failover_cli.cli.render import printable

    click.echo(f"Error: {printable(redact(error.render()))}", err=True)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    default="failover.yaml",
    envvar="FAILOVER_CONFIG",
    show_envvar=True,
    show_default=True,
    metavar="PATH",
    help="Path of the stack's config file.",
)
@click.option("--profile", default=None, help="AWS named profile (else the standard chain).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and more progress detail.")
@click.version_option(__version__, prog_name="failover")
@click.pass_context
def cli(
    ctx: click.Context, config_path: str, profile: str | None, as_json: bool, verbose: bool
) -> None:
    """Provision and operate a small serverless app that survives the loss of an AWS region."""
    from failover_cli.cli.state import AppState

    ctx.obj = AppState(config_path=config_path, profile=profile, json=as_json, verbose=verbose)


def main(argv: list[str] | None = None) -> None:
    """Entry point. Usage errors exit 2; unexpected crashes print a traceback and exit 1."""
    try:
        cli.main(args=argv, prog_name="failover")
    except SystemExit:
        raise
    except Exception:  # a bug: show it, but keep the documented exit code
        import traceback

        from failover_cli.errors import redact

        sys.stderr.write(redact(traceback.format_exc()))
        sys.exit(ExitCode.FAILURE)


def _translate_unexpected(error: Exception) -> FailoverError | None:
    """botocore errors that escaped a command become the tool's own errors."""
    if "botocore" not in sys.modules:
        return None
    from failover_cli.aws.errors import translate

    return translate(error)
