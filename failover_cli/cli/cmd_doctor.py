"""`failover doctor`: read-only preflight of config, credentials, permissions, zone, quotas."""

from __future__ import annotations

import click

from failover_cli.cli.durations import POSITIVE_DURATION
from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState

MAX_DNS_TIMEOUT = 60.0  # seconds: a DNS answer slower than this is no answer
_MARK = {
    "ok": "[green]✓[/green]",
    "warn": "[yellow]![/yellow]",
    "fail": "[red]✗[/red]",
    "could not check": "[dim]?[/dim]",
    "skipped": "[dim]-[/dim]",
}


@click.command("doctor")
@click.option(
    "--dns-timeout",
    type=POSITIVE_DURATION,
    default="5s",
    show_default=True,
    help="How long to wait for the public DNS answer of the hosted zone's NS records "
    "(e.g. 5s; at most 60s).",
)
@json_option
@pass_state
def command(state: AppState, dns_timeout: float) -> None:
    """Check, without changing anything, what a real `up` would meet.

    One line per check, with a fix when something will fail: who you are (STS), the
    actions this config needs (iam:SimulatePrincipalPolicy when allowed), the hosted
    zone exists and public DNS delegates to it, the runtime is offered in every region,
    quotas (Route 53 health checks, Lambda concurrency, API Gateway regional APIs), the
    alarm e-mail's confirmation, and whether this is the sandbox. A check that cannot
    be read says "could not check". Exit 0 when nothing will fail, 1 when something
    will, 2 for a bad config or no credentials.
    """
    from rich.console import Console
    from rich.markup import escape

    from failover_cli.aws.deadlines import READ_ONLY
    from failover_cli.cli.render import emit_json
    from failover_cli.cli.session import open_context
    from failover_cli.ops.doctor import Doctor, exit_code
    from failover_cli.ops.doctor_zone import public_ns

    if dns_timeout > MAX_DNS_TIMEOUT:
        raise click.BadParameter(
            f"must be at most {MAX_DNS_TIMEOUT:g}s", param_hint="--dns-timeout"
        )
    ctx, _, _ = open_context(state, READ_ONLY)
    checks = Doctor(ctx, public_ns, dns_timeout=dns_timeout).run()
    code = exit_code(checks)
    if state.json:
        emit_json({"ok": code == 0, "checks": [c.to_json() for c in checks]})
    else:
        out = Console(highlight=False, soft_wrap=True)
        width = max(len(c.name) for c in checks)
        for check in checks:
            line = f"{_MARK[check.verdict.value]} {check.name:<{width}}  {escape(check.detail)}"
            if check.fix:
                line += f"\n  {'':<{width}}  [bold]fix:[/bold] {escape(check.fix)}"
            out.print(line)
        failed = sum(1 for c in checks if c.verdict.value == "fail")
        unknown = sum(1 for c in checks if c.verdict.value == "could not check")
        # A check that could not be made is not a pass: the summary does not say it is.
        if failed:
            out.print(f"{failed} check(s) will fail.")
        elif unknown:
            out.print(f"Nothing checked will fail; {unknown} check(s) could not be made.")
        else:
            out.print("Nothing will fail.")
    click.get_current_context().exit(code)
