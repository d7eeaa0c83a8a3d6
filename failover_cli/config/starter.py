"""The commented starter config that `failover init` writes.

The top-level `config.example.yaml` is exactly `render_starter(EXAMPLE)` (a
test keeps them equal), so the documentation of every key lives here once.
User answers are written as YAML scalars that read back as the same
strings, whatever they contain; the loader then judges them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import yaml

from failover_cli.config.rules import RETENTION_DAYS

COMMENT_COLUMN = 32


@dataclass(frozen=True)
class StarterAnswers:
    stack: str
    regions: tuple[str, ...]
    domain: str | None = None
    hosted_zone: str | None = None
    routing: str = "latency"
    email: str | None = None


DEFAULT_ANSWERS = StarterAnswers(stack="hello", regions=("us-east-1", "us-west-2"))
EXAMPLE = StarterAnswers(
    stack="hello",
    regions=("us-east-1", "us-west-2"),
    domain="hello.example.com",
    hosted_zone="example.com",
    routing="latency",
    email="ops@example.com",
)

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@/-]*")


def scalar(value: str) -> str:
    """`value` as a YAML scalar that reads back as this very string."""
    if _PLAIN.fullmatch(value) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar


def _line(code: str, comment: str = "") -> str:
    """`code` with its comment at the comment column, or on the line above when code is long."""
    if not comment:
        return code
    if len(code) < COMMENT_COLUMN:
        return f"{code.ljust(COMMENT_COLUMN - 1)} # {comment}"
    indent = code[: len(code) - len(code.lstrip())]
    return f"{indent}# {comment}\n{code}"


def table_name(stack: str) -> str:
    """The table name `init` writes: the stack's own, so two stacks in one account never
    share one (the schema's default `prod.Hello` stays for configs that omit it)."""
    return f"{stack}-table"


def function_name(stack: str) -> str:
    """The function name `init` writes (the log group /aws/lambda/<name> follows it)."""
    return f"{stack}-function"


def _retention_choices() -> str:
    return " ".join(map(str, RETENTION_DAYS[:12])) + " ... " + str(RETENTION_DAYS[-1])


def _domain(answers: StarterAnswers) -> list[str]:
    routing = answers.routing or "latency"
    rows = [
        ("domain:", "optional; without it: no certificate, custom domain or DNS records"),
        (
            f"  name: {scalar(answers.domain or 'hello.example.com')}",
            "lowercase; the zone's apex or a name below it, 64 characters at most",
        ),
        (
            f"  hosted_zone: {scalar(answers.hosted_zone or 'example.com')}",
            "must already exist in Route 53",
        ),
        ("  base_path: v1", 'URL prefix: letters, digits, . _ - ("" for none)'),
        (
            f"  routing: {scalar(routing)}",
            "latency | failover (failover: exactly 2 regions, first is PRIMARY)",
        ),
        ("  ttl: 60", "record TTL in seconds, 0..172800"),
    ]
    if answers.domain:
        return [_line(code, comment) for code, comment in rows]
    return [_line(f"# {code}", comment) for code, comment in rows]


def render_starter(answers: StarterAnswers) -> str:
    """The full commented config for these answers; every other key shows its default."""
    regions = ", ".join(scalar(region) for region in answers.regions)
    email = (
        _line(
            f"  email: {scalar(answers.email)}",
            "alarm and recovery e-mails (confirm the link AWS sends)",
        )
        if answers.email
        else _line("  # email: ops@example.com", "optional: alarm and recovery e-mails")
    )
    lines = [
        "# failover: one serverless app in two or more AWS regions, from this one file.",
        "# `failover validate` checks it offline; `failover plan` shows what `up` would do.",
        "# Every key but stack and regions is optional: the values shown are the defaults.",
        "",
        _line(
            f"stack: {scalar(answers.stack)}",
            "[a-z][a-z0-9-]{0,31}; prefixes names, value of tag failover:stack",
        ),
        _line(
            f"regions: [{regions}]",
            ">= 2 distinct regions, one partition; the first is the primary",
        ),
        "",
        _line("table:", "a DynamoDB global table with a replica in every region"),
        _line(f"  name: {scalar(table_name(answers.stack))}", "3..255 letters, digits, _ . -"),
        _line("  partition_key: HelloKey", "the string HASH key"),
        _line(
            "  billing: provisioned", "provisioned (auto-scaled, free-tier friendly) | on-demand"
        ),
        _line(
            "  autoscaling: {min: 1, max: 10, target_percent: 50}",
            "provisioned: capacity 1..40000, target 20..90%",
        ),
        _line(
            '  seed_item: {HelloKey: Hello, Hello: "Deep hello from "}',
            "holds the key; the deep ping answers its next attribute + region",
        ),
        "",
        _line("function:", "the same Lambda function in every region"),
        _line(f"  name: {scalar(function_name(answers.stack))}", "1..64 letters, digits, - _"),
        _line("  runtime: python3.13", "python3.12 | python3.13 | python3.14"),
        _line("  architecture: arm64", "arm64 | x86_64"),
        _line("  memory_mb: 128", "128..10240"),
        _line("  timeout_s: 5", "1..29: API Gateway waits at most 29 seconds"),
        _line(
            "  # source: lambda_bundle",
            "code folder; default ./lambda_bundle, else the bundle failover ships",
        ),
        _line("  deep_ping_percent: 10", "share of /health calls that also read the table, 0..100"),
        _line("  environment: {}", "extra variables for your code (not AWS_*, not failover's own)"),
        _line(
            "  # reserved_concurrency: 10",
            "cap (and guarantee) concurrent runs per region; default: none",
        ),
        "",
        _line("api:", "a regional REST API per region, proxying to the function"),
        _line("  stage: prod", "the REST API stage: URLs end in /prod/..."),
        _line(
            "  throttle: {rate: 50, burst: 100}",
            "requests/s and burst per region; beyond: 429, unbilled",
        ),
        "",
        *_domain(answers),
        "",
        _line("health_check:", "one Route 53 health check per region, on the function's /health"),
        _line("  interval_s: 10", "10 | 30 seconds between checks"),
        _line("  failure_threshold: 2", "1..10 failed checks before a region counts as down"),
        _line('  search_string: "hello from"', "1..255 characters every healthy answer contains"),
        _line(
            "  checker_regions: [us-east-1, us-west-1, us-west-2]", ">= 3 Route 53 checker regions"
        ),
        "",
        _line("switch:", "the data-plane switch's Route 53 readers (README: How it works)"),
        _line("  interval_s: 30", "10 | 30 seconds between reads of another region's replica"),
        _line("  failure_threshold: 1", "1..10 reads seeing a region out before it leaves DNS"),
        "",
        _line("alarms:", "CloudWatch alarms on the health checks, in us-east-1"),
        email,
        "",
        _line("logs:", "the function's log groups (empty streams: failover gc-logs)"),
        _line("  retention_days: 1", f"days, as CloudWatch Logs allows: {_retention_choices()}"),
        "",
        _line("deploy:", "how a release rolls (README: Releasing a change)"),
        _line(
            "  # order: [...]", "one region at a time; default: SECONDARY, or last region, first"
        ),
        _line("  bake: 2m", "each wave's health check must stay healthy this long (0s..1h)"),
        _line("  # canary_percent: 10", "1..50: each wave sends this share to the release first"),
        "",
        _line("tags: {}", "added to every taggable resource (at most 40; no aws: keys)"),
        "",
        _line("# access:", "optional IP allow-list (README: Locking the endpoint down)"),
        _line(
            "#   allow: [route53-health-checkers, 198.51.100.0/24]",
            "checker regions' published prefixes and/or CIDRs",
        ),
        _line("#   routes: health", "health: /health only | all: every route (list your CIDRs)"),
        _line("#   auto_refresh: false", "true: a function follows AWS's range changes"),
        "",
        _line("# iam:", "optional, for CI tokens (docs/iam.md)"),
        _line("#   permissions_boundary: null", "a policy ARN every role it creates carries"),
    ]
    return "\n".join(lines) + "\n"
