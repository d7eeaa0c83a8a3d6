"""`failover gc-logs`: delete empty, old-enough log streams in the stack's own log groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from failover_cli.cli.durations import DURATION, format_duration
from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState

if TYPE_CHECKING:
    from failover_cli.ops.gc_logs import GcReport


@click.command("gc-logs")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option(
    "--min-age",
    type=DURATION,
    default="1h",
    show_default=True,
    help="Keep empty streams younger than this (a warm container may still write to them).",
)
@json_option
@pass_state
def command(state: AppState, dry_run: bool, min_age: float) -> None:
    """Delete the log streams that never received an event, in every region in parallel.

    Only the stack's own log groups (/aws/lambda/<function>, tagged as owned by
    the stack) are looked into. Streams with events are always kept, and so are
    empty streams created less than --min-age ago.
    """
    from failover_cli.cli.render import emit_json
    from failover_cli.cli.session import open_context
    from failover_cli.ops.gc_logs import gc_logs

    ctx, console, _ = open_context(state)
    mode = "Listing" if dry_run else "Deleting"
    console.print(
        f"{mode} empty log streams older than {format_duration(min_age)} in "
        f"{', '.join(ctx.config.regions)}…"
    )
    report = gc_logs(ctx, min_age=min_age, dry_run=dry_run)
    if state.json:
        emit_json(report.to_json())
    else:
        _print(report)


def _print(report: GcReport) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    out = Console(highlight=False, soft_wrap=False)
    verb = "would delete" if report.dry_run else "deleted"
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("region", no_wrap=True)
    table.add_column("log group", overflow="fold")
    for column in (verb, "kept young", "kept w/ events"):
        table.add_column(column, justify="right", no_wrap=True)
    for group in report.groups:
        counts = group.counts()
        numbers = [str(counts[k]) for k in ("deleted", "kept_young", "kept_with_events")]
        if group.skipped is not None:
            numbers = ["[yellow]skipped[/yellow]", "", ""]
        table.add_row(group.region, escape(group.log_group), *numbers)
    totals = report.totals()
    table.add_row(
        "[bold]total[/bold]",
        "",
        f"[bold]{totals['deleted']}[/bold]",
        str(totals["kept_young"]),
        str(totals["kept_with_events"]),
    )
    out.print(table)
    for group in report.groups:
        if group.skipped is not None:
            out.print(f"{group.region}: {escape(group.log_group)} skipped: {escape(group.skipped)}")
    if report.dry_run:
        for group in report.groups:
            for name in group.deleted:
                out.print(f"  {group.region}  {escape(name)}")
        if totals["deleted"]:
            out.print("Dry run: nothing was deleted. Run without --dry-run to delete them.")
