"""`failover init`: write a starter config, from prompts or from flags for every answer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState
from failover_cli.config.starter import DEFAULT_ANSWERS, StarterAnswers

ROUTINGS = ("latency", "failover")


def _split_regions(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.replace(",", " ").split() if part)


def _parent_zone(domain: str) -> str:
    """The likely hosted zone of a name: its parent, or the name itself for a two-label name."""
    labels = domain.rstrip(".").split(".")
    return ".".join(labels[1:]) if len(labels) > 2 else domain


def _regions_problem(text: str) -> str | None:
    from failover_cli.config.regions import lambda_regions

    regions = _split_regions(text)
    known = sorted(lambda_regions())
    unknown = [region for region in regions if region not in known]
    if unknown:
        from failover_cli.config.nodes import suggest

        hints = "".join(suggest(region, known) for region in unknown)
        return f"names {', '.join(unknown)}, which are not AWS regions with Lambda{hints}"
    if len(set(regions)) < 2 or len(set(regions)) != len(regions):
        return "must list at least 2 distinct regions"
    return None


def _checked(check: Callable[[str], str | None]) -> Callable[[str], str]:
    """A click value_proc that re-asks while a loader rule rejects the answer."""

    def proc(value: str) -> str:
        problem = check(value)
        if problem:
            raise click.BadParameter(f"it {problem}")
        return value

    return proc


def _ask(answers: StarterAnswers, given: dict[str, str | None]) -> StarterAnswers:
    """Prompt for every answer not given as a flag; checks each with the loader's rules."""
    from failover_cli.config import rules

    stack = given["stack"] or click.prompt(
        "Stack name", default=answers.stack, value_proc=_checked(rules.stack_name)
    )
    regions = given["regions"] or click.prompt(
        "Regions, primary first (comma-separated)",
        default=",".join(answers.regions),
        value_proc=_checked(_regions_problem),
    )
    domain = given["domain"]
    if domain is None:
        domain = click.prompt(
            "Custom domain (empty for none)",
            default="",
            show_default=False,
            value_proc=_checked(lambda v: v and rules.dns_name(v)),
        )
    zone = given["hosted_zone"]
    routing = given["routing"]
    if domain:
        zone = zone or click.prompt("Route 53 hosted zone", default=_parent_zone(domain))
        routing = routing or click.prompt("Routing", default="latency", type=click.Choice(ROUTINGS))
    email = given["email"]
    if email is None:
        email = click.prompt(
            "E-mail for alarms (empty for none)",
            default="",
            show_default=False,
            value_proc=_checked(lambda v: v and rules.email(v)),
        )
    return _answers(stack, regions, domain, zone, routing, email)


def _answers(
    stack: str | None,
    regions: str | None,
    domain: str | None,
    zone: str | None,
    routing: str | None,
    email: str | None,
) -> StarterAnswers:
    """Answers from flags (or prompts); anything missing takes the starter default."""
    domain = domain or None
    return StarterAnswers(
        stack=stack or DEFAULT_ANSWERS.stack,
        regions=_split_regions(regions) if regions else DEFAULT_ANSWERS.regions,
        domain=domain,
        hosted_zone=(zone or _parent_zone(domain)) if domain else None,
        routing=routing or DEFAULT_ANSWERS.routing,
        email=email or None,
    )


@click.command("init")
@click.option("--stack", help="Stack name: prefixes every resource name.")
@click.option("--regions", help="Regions, primary first, comma-separated (us-east-1,us-west-2).")
@click.option("--domain", help="Custom domain name (optional).")
@click.option("--hosted-zone", help="Route 53 hosted zone holding the domain.")
@click.option("--routing", type=click.Choice(ROUTINGS), help="DNS routing with a domain.")
@click.option("--email", help="E-mail address for alarms (optional).")
@click.option("--no-input", is_flag=True, help="Never prompt: defaults for what is not given.")
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@json_option
@pass_state
def command(
    state: AppState,
    stack: str | None,
    regions: str | None,
    domain: str | None,
    hosted_zone: str | None,
    routing: str | None,
    email: str | None,
    no_input: bool,
    force: bool,
) -> None:
    """Write a starter config (prompts, or flags for every answer) and the starter code."""
    from failover_cli.cli.render import emit_json
    from failover_cli.config.scaffold import refuse_overwrite, write_starter

    target = Path(state.config_path)
    refuse_overwrite(target.absolute(), force)  # before asking anything
    given = dict(
        stack=stack, regions=regions, domain=domain, hosted_zone=hosted_zone, routing=routing,
        email=email,
    )  # fmt: skip
    if no_input:
        answers = _answers(stack, regions, domain, hosted_zone, routing, email)
    else:
        answers = _ask(DEFAULT_ANSWERS, given)
    if answers.domain is None and (hosted_zone or routing):
        # Without a domain they would be dropped without a word.
        raise click.UsageError(
            "--hosted-zone and --routing describe the custom domain; give --domain too, "
            "or leave them out for a stack without one"
        )
    result = write_starter(target, answers, force=force)
    if state.json:
        emit_json(
            {
                "config": str(result.config.path),
                "bundle": str(result.bundle) if result.bundle else None,
                "stack": result.config.stack,
                "regions": list(result.config.regions),
            }
        )
        return
    _next_steps(state, target, result.config.stack, result.bundle)


def _next_steps(state: AppState, target: Path, stack: str, bundle: Path | None) -> None:
    click.echo(f"Wrote {target} for stack {stack}.")
    if bundle is not None:
        click.echo(f"Copied the starter function code to {bundle}; extend it there.")
    else:
        click.echo("Kept the existing lambda_bundle folder next to it.")
    prefix = "failover" if state.config_path == "failover.yaml" else f"failover --config {target}"
    click.echo("Next steps:")
    click.echo(f"  {prefix} validate   check it offline")
    click.echo(f"  {prefix} plan       see what would be created (read-only)")
    click.echo(f"  {prefix} up         create it in AWS")
