"""`failover plan`: what `up` would do, read-only, and what the stack costs a month.

The plan is the command's result, so it goes to stdout (`failover plan > plan.txt`)
and ends with one summary line that carries the monthly estimate; progress and
warnings go to stderr. It exits 0 when it ran, as Terraform's does, so
`failover plan && failover up` works; `--detailed-exitcode` gives 3 for pending
changes, for CI. The itemised estimate and its assumptions are behind
`--cost-details`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState
from failover_cli.errors import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from failover_cli.config.schema import Config
    from failover_cli.cost import CostEstimate


@click.command("plan")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 3 when changes are pending, 0 when there are none (for CI; as Terraform's).",
)
@click.option(
    "--cost-details",
    is_flag=True,
    help="Itemise the monthly estimate: usage, list price, free tier and assumptions.",
)
@click.option(
    "--free-tier",
    is_flag=True,
    help="Count AWS's old 12-month free tier (accounts opened before 2025-07-15).",
)
@json_option
@pass_state
def command(state: AppState, detailed_exitcode: bool, cost_details: bool, free_tier: bool) -> None:
    """Show what `up` would create, change or delete (read-only), and the monthly cost.

    The plan goes to stdout and ends with its summary line and the monthly estimate;
    progress and warnings go to stderr.

    \b
    Exit codes:
      0  the plan ran (changes pending or not)
      1  an AWS error the tool could not get past
      2  bad input (config, usage, credentials); nothing read or changed
      3  only with --detailed-exitcode: changes are pending
    """
    from rich.markup import escape

    from failover_cli.aws.deadlines import OBSERVE
    from failover_cli.cli.render import (
        DELETIONS_HEADING,
        emit_json,
        plan_summary,
        print_changes,
        result_console,
    )
    from failover_cli.cli.session import open_context
    from failover_cli.cost import estimate
    from failover_cli.engine.code_report import code_line, code_report
    from failover_cli.engine.stack import plan_for_up
    from failover_cli.ops.release_waves import describe_waves

    ctx, _, _ = open_context(state, OBSERVE)
    plan = plan_for_up(ctx)
    cost = estimate(ctx.config, free_tier=free_tier)
    code = code_report(plan)
    release = describe_waves(ctx.config, plan)  # which regions a release reaches, in order
    if state.json:
        emit_json(
            {
                "stack": ctx.config.stack,
                **plan.to_json(),
                "code": code,
                "release": release,
                "forced_failover": forced_failover(ctx.config),
                "cost": cost.to_json(),
            }
        )
    else:
        out = result_console()
        title = f"Plan for stack {ctx.config.stack}"
        print_changes(out, plan, title=title, deletions=DELETIONS_HEADING)
        if code is not None:
            out.print("  " + escape(code_line(code)))
        if release is not None:
            out.print("  " + escape(release))
        out.print("  " + forced_failover_sentence(ctx.config))
        if cost_details:
            print_cost(out, cost)
        # Last, on one line: `failover plan 2>/dev/null | tail -1` is the summary.
        out.print(f"{plan_summary(plan)} {cost_sentence(cost, details_shown=cost_details)}")
    pending = detailed_exitcode and plan.has_changes
    raise click.exceptions.Exit(ExitCode.DEGRADED if pending else ExitCode.OK)


def forced_failover(config: Config) -> dict[str, int]:
    """How long `force-fail` takes to move DNS: the switch readers' interval x threshold."""
    switch = config.switch
    seconds = switch.interval_s * switch.failure_threshold
    return {
        "reader_interval_s": switch.interval_s,
        "reader_failure_threshold": switch.failure_threshold,
        "seconds": seconds,
    }


def forced_failover_sentence(config: Config) -> str:
    found = forced_failover(config)
    return (
        f"force-fail moves DNS within about {found['seconds']}s plus replication (about a "
        f"second): switch readers every {found['reader_interval_s']}s x "
        f"{found['reader_failure_threshold']} failure(s) to notice (`switch:` in the config)."
    )


def cost_sentence(cost: CostEstimate, *, details_shown: bool) -> str:
    """The estimate in one sentence, for the plan's last line."""
    more = "" if details_shown else " (--cost-details for the items and assumptions)"
    if not cost.free_tier:
        return (
            f"Monthly estimate: {_usd(cost.monthly_usd)} USD at list prices, no free tier "
            f"counted (--free-tier for an account opened before 2025-07-15){more}."
        )
    return (
        f"Monthly estimate: {_usd(cost.net_usd)} USD after the free tier, "
        f"{_usd(cost.monthly_usd)} USD at list prices{more}."
    )


def print_cost(console: Console, cost: CostEstimate) -> None:
    """The itemised estimate as a table, then the free-tier allowances and assumptions."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=f"Estimated monthly cost in USD (list prices of {cost.prices_taken})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_footer=True,
        pad_edge=False,
    )
    table.add_column("item", footer="total", no_wrap=True)
    table.add_column("usage", justify="right", no_wrap=True)
    table.add_column("list", justify="right", footer=_usd(cost.monthly_usd), no_wrap=True)
    table.add_column("free tier", justify="right", footer=_usd(-cost.free_usd), no_wrap=True)
    table.add_column("to pay", justify="right", footer=_usd(cost.net_usd), no_wrap=True)
    for line in cost.lines:
        table.add_row(
            line.item,
            f"{_amount(line.quantity)} {line.unit}",
            _usd(line.monthly_usd),
            _usd(-line.free_usd) if line.free_usd else "",
            _usd(line.net_usd),
        )
    console.print(table)
    allowances = [f"{line.item} {line.free_tier}" for line in cost.lines if line.free_tier]
    for label, parts in (
        ("Free tier", allowances),
        ("Assumes", list(cost.assumptions)),
        ("Not included", list(cost.excluded)),
        ("Caps", list(cost.caps)),
    ):
        console.print(f"  {label}: " + "; ".join(parts) + ".", style="dim")


def _usd(value: float) -> str:
    return f"{value:,.2f}" if abs(value) >= 0.005 or value == 0 else f"{value:,.4f}"


def _amount(value: float) -> str:
    """Short enough for an 80-column table: 3.11M, 156k, 1,440, 1.16."""
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:,.2f}"
