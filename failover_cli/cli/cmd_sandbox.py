"""`failover sandbox`: run the local multi-region AWS emulation in the foreground."""

from __future__ import annotations

import json
import re
import shlex
import signal
from types import FrameType
from typing import TYPE_CHECKING

import click

from failover_cli.cli.durations import DURATION
from failover_cli.cli.options import json_option, pass_state, time_scale_option
from failover_cli.cli.state import AppState
from failover_cli.errors import BadInput

if TYPE_CHECKING:
    from failover_cli.sandbox.aws_rules import AwsRules
    from failover_cli.sandbox.iam_policy import Policy

if TYPE_CHECKING:
    from failover_cli.sandbox.outage_regions import Mode

_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d+")


@click.command("sandbox")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=4566,
    show_default=True,
    help="Port on 127.0.0.1 to listen on (0 picks a free one).",
)
@click.option(
    "--dns-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 where Route 53's authoritative name servers answer DNS over UDP "
    "and TCP (0 picks a free one; printed as FAILOVER_NAMESERVERS).",
)
@time_scale_option(
    1.0, "Run the emulated clocks N times faster (replicas, health checkers, alarms)."
)
@click.option(
    "--client-region",
    default="us-east-1",
    show_default=True,
    callback=lambda _ctx, _param, value: _region(value),
    help="Where the emulated DNS client sits: latency routing picks the nearest region to it.",
)
@click.option(
    "--outbox",
    type=click.Path(file_okay=False, dir_okay=True, writable=True),
    default=None,
    help="Folder where SNS e-mails are written, one file per message "
    "[default: a new sandbox-outbox-* folder in the system temp folder, per sandbox].",
)
@click.option(
    "--source-table-hold",
    type=DURATION,
    default="24h",
    show_default=True,
    help="How long a table that seeded a replica cannot be deleted, as on AWS (emulated "
    "time; 0s turns the rule off).",
)
@click.option(
    "--certificate-release",
    type=DURATION,
    default="2m",
    show_default=True,
    help="How long API Gateway keeps a certificate in use after its custom domain is "
    "deleted (emulated time).",
)
@click.option(
    "--rule",
    "rule_values",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set one of AWS's rules (GET /_sandbox/rules lists them), e.g. "
    "function_update_seconds=0 (repeatable).",
)
@click.option(
    "--enforce-policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Hold every AWS call to this IAM identity policy (JSON), with the permissions AWS "
    "checks implicitly; refused calls answer AccessDenied. Callers signing with access key "
    "sandbox-admin are exempt.",
)
@click.option(
    "--outage",
    "outages",
    multiple=True,
    metavar="REGION[:MODE]",
    callback=lambda _ctx, _param, values: _outages(values),
    help="Start with REGION in an outage (repeatable). MODE: hang (default), refuse, 5xx "
    "or dataplane. Change it at run time with POST/DELETE /_sandbox/outage.",
)
@click.option(
    "--hosted-zone",
    "hosted_zones",
    multiple=True,
    metavar="NAME",
    callback=lambda _ctx, _param, values: _zones(values),
    help="Create this Route 53 hosted zone at start, e.g. example.com (repeatable): what "
    "`init --domain` needs, without the aws CLI.",
)
@json_option
@pass_state
def command(
    state: AppState,
    port: int,
    dns_port: int,
    time_scale: float,
    client_region: str,
    outbox: str | None,
    source_table_hold: float,
    certificate_release: float,
    rule_values: tuple[str, ...],
    policy_file: str | None,
    outages: dict[str, Mode],
    hosted_zones: tuple[str, ...],
) -> None:
    """Run the local two-region AWS emulation in the foreground until Ctrl-C.

    It enforces AWS's own holds and rate limits (the README lists them); GET or POST
    /_sandbox/rules shows or changes them while it runs.
    """
    from failover_cli.sandbox import Sandbox
    from failover_cli.sandbox.aws_rules import AwsRules
    from failover_cli.sandbox.route53.starting_zones import create_zones

    policy = _policy(policy_file) if policy_file else None
    rules = AwsRules(source_table_hold=source_table_hold, certificate_release=certificate_release)
    _set_rules(rules, rule_values)
    sandbox = Sandbox(
        port=port,
        time_scale=time_scale,
        log_requests=state.verbose,
        client_region=client_region,
        outbox=outbox,
        rules=rules,
        policy=policy,
        outages=outages,
        dns_port=dns_port,
    )
    sandbox.start()  # a taken port raises PortInUse: one line, exit 2
    # SIGTERM (kill, docker stop, CI) stops as cleanly as Ctrl-C; SIGINT is set
    # explicitly because a shell starts background jobs with it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    environment = sandbox.environment()
    zones = create_zones(sandbox.endpoint, list(hosted_zones)) if hosted_zones else {}
    if state.json:
        click.echo(
            json.dumps(
                {
                    "endpoint": sandbox.endpoint,
                    "environment": environment,
                    "outbox": str(sandbox.outbox),
                    "nameserver": sandbox.nameserver,
                    "client_region": sandbox.client_region,
                    "outages": [outage.public() for outage in sandbox.outages.current()],
                    "hosted_zones": zones,
                }
            )
        )
    else:
        for name, value in environment.items():
            click.echo(f"export {name}={shlex.quote(value)}")
    click.echo(
        f"failover sandbox listening on {sandbox.endpoint} (time scale {time_scale:g}). "
        "Run the export lines above in your shell; Ctrl-C stops the sandbox.",
        err=True,
    )
    for hold in _holds(rules):
        click.echo(hold, err=True)
    click.echo(f"Watch it fail over in a browser: {sandbox.endpoint}/_sandbox/", err=True)
    click.echo(f"SNS e-mail is written to {sandbox.outbox}", err=True)
    host, _, dns_port_bound = (sandbox.nameserver or "").rpartition(":")
    click.echo(
        f"DNS answers as seen from {sandbox.client_region}; Route 53's name servers answer "
        f"on {sandbox.nameserver} (UDP and TCP): dig @{host} -p {dns_port_bound} <name>",
        err=True,
    )
    if policy_file:
        click.echo(
            f"Every AWS call is held to the IAM policy in {policy_file} "
            "(except with access key sandbox-admin)",
            err=True,
        )
    for outage in sandbox.outages.current():
        click.echo(
            f"Outage: {outage.region} ({outage.mode}); end it with "
            f"curl -X DELETE {sandbox.endpoint}/_sandbox/outage",
            err=True,
        )
    sandbox.serve_forever()
    click.echo("Sandbox stopped.", err=True)


def _holds(rules: AwsRules) -> list[str]:
    """The long holds AWS applies that a walk-through meets, as the banner names them."""
    from failover_cli.cli.durations import format_duration

    said = []
    if rules.source_table_hold:
        said.append(
            f"AWS's hold: a table that seeded a replica cannot be deleted for "
            f"{format_duration(rules.source_table_hold)} (emulated); `down --keep-table` "
            "keeps it, --source-table-hold 0s turns the hold off"
        )
    if rules.certificate_release:
        said.append(
            f"AWS's hold: a certificate stays in use {format_duration(rules.certificate_release)} "
            "(emulated) after its custom domain goes (--certificate-release)"
        )
    return said


def _policy(path: str) -> Policy:
    """The policy to enforce; one that cannot be evaluated faithfully is bad input (exit 2)."""
    from failover_cli.sandbox.access import load_policy
    from failover_cli.sandbox.iam_policy import PolicyError

    try:
        return load_policy(path)
    except PolicyError as error:
        raise BadInput(
            f"--enforce-policy: {error}",
            hint="Give an IAM identity policy document the sandbox can evaluate "
            "(see `failover sandbox --help`).",
        ) from None


def _region(value: str) -> str:
    if not _REGION.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not an AWS region name (like us-west-2)")
    from failover_cli.config.nodes import suggest
    from failover_cli.config.regions import lambda_regions

    known = lambda_regions()
    if value not in known:
        hint = suggest(value, sorted(known))
        raise click.BadParameter(f"{value!r} is not an AWS region{hint}")
    return value


def _set_rules(rules: AwsRules, values: tuple[str, ...]) -> None:
    """--rule NAME=VALUE: a bad name or value is a usage error (exit 2), like any option's."""
    for value in values:
        name, sep, number = value.partition("=")
        try:
            if not sep:
                raise ValueError(f"{value!r} is not NAME=VALUE")
            rules.update({name.strip(): float(number)})
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--rule") from None


def _zones(values: tuple[str, ...]) -> tuple[str, ...]:
    from failover_cli.config.rules import dns_name  # the check the config's names get

    for value in values:
        problem = dns_name(value.rstrip(".").lower())
        if problem:
            raise click.BadParameter(f"it {problem}", param_hint="--hosted-zone")
    return values


def _outages(values: tuple[str, ...]) -> dict[str, Mode]:
    from failover_cli.sandbox.outage_regions import BadOutage, parse_outage

    chosen: dict[str, Mode] = {}
    for value in values:
        try:
            region, mode = parse_outage(value)
        except BadOutage as error:
            raise click.BadParameter(str(error)) from None
        _region(region)
        if region in chosen:
            raise click.BadParameter(f"{region} is given twice")
        chosen[region] = mode
    return chosen


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
