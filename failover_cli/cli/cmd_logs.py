"""`failover logs`: the functions' log events from every region, merged by time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from failover_cli.cli.completion import complete_region
from failover_cli.cli.durations import DURATION, format_duration
from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from failover_cli.engine.context import Context
    from failover_cli.ops.logs import LogBatch

REGION_STYLES = ("cyan", "magenta", "yellow", "green", "blue", "red")


@click.command("logs")
@click.option(
    "--since",
    type=DURATION,
    default="10m",
    show_default=True,
    help="How far back to start (30s, 10m, 2h, 1d).",
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until Ctrl-C.")
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="REGION",
    shell_complete=complete_region,
    help="Only this region's function (repeatable; default: every region of the config).",
)
@click.option(
    "--filter",
    "pattern",
    metavar="PATTERN",
    help='A CloudWatch Logs filter pattern, e.g. ERROR or "Task timed out".',
)
@click.option(
    "--platform",
    is_flag=True,
    help="Also show the lines Lambda writes itself (START, END, REPORT, INIT_START).",
)
@json_option
@pass_state
def command(
    state: AppState,
    since: float,
    follow: bool,
    regions: tuple[str, ...],
    pattern: str | None,
    platform: bool,
) -> None:
    """Print the functions' log events from every region, merged by time.

    Events come from each region's /aws/lambda/<function> group; the
    health-checker secret is masked in every line (when a function's secret
    cannot be read, every secret-shaped value is), and control characters
    (terminal escapes, newlines) are shown escaped. A region that does not
    answer is named on stderr and the others are still shown (exit 1).
    With --json, one JSON object per line.
    """
    import contextlib
    import time

    from failover_cli.aws.deadlines import READ_ONLY
    from failover_cli.cli.session import open_context
    from failover_cli.errors import FailoverError
    from failover_cli.ops.logs import Follower, now_ms, read_events, read_secrets

    ctx, console, _ = open_context(state, READ_ONLY)
    chosen = _regions(ctx, regions)
    styles = {r: REGION_STYLES[i % len(REGION_STYLES)] for i, r in enumerate(ctx.config.regions)}
    lookup = read_secrets(ctx, ctx.config.regions)
    if lookup.unread:
        from rich.markup import escape

        unread = ", ".join(f"{r} ({why})" for r, why in sorted(lookup.unread.items()))
        console.print(
            f"[yellow]Could not read the health-checker secret of {escape(unread)}: "
            "every secret-shaped value (32+ hex digits) is masked too.[/yellow]"
        )
    masker = lookup.masker()
    start = now_ms() - int(since * 1000)
    if not state.json:
        where = ", ".join(chosen)
        following = " (following; Ctrl-C stops)" if follow else ""
        console.print(
            f"Log events of {ctx.config.function.name} in {where} since "
            f"{format_duration(since)} ago{following}…"
        )
    show: Callable[[LogBatch], None] = _json_lines if state.json else _printer(styles)
    if follow:
        follower = Follower(ctx, chosen, start, pattern, masker, platform)
        said: dict[str, str] = {}

        def show_batch(batch: LogBatch) -> None:
            show(batch)
            _problems(console, batch, said)

        # Following ends with Ctrl-C: that is how it is used, not a failure.
        with contextlib.suppress(KeyboardInterrupt):
            follower.run(show_batch, time.sleep)
        return
    batch = read_events(ctx, chosen, start, pattern=pattern, masker=masker, platform=platform)
    show(batch)
    _problems(console, batch, {})
    if pattern and not batch.events and not batch.problems:
        from rich.markup import escape

        console.print(
            f"No event matched --filter {escape(repr(pattern))} in the last "
            f"{format_duration(since)}."
        )
    if batch.problems:
        raise FailoverError(
            f"Could not read the log events of {', '.join(sorted(batch.problems))}; "
            "the events shown are from the other regions only",
            hint="Run `failover status` to see what is wrong there, or pass --region.",
        )


def _regions(ctx: Context, asked: tuple[str, ...]) -> list[str]:
    """The regions to read, in the config's order; one not in the stack is bad input."""
    from failover_cli.ops.force_fail import require_region

    for region in asked:
        require_region(ctx, region)
    return [r for r in ctx.config.regions if r in asked] if asked else list(ctx.config.regions)


def _printer(styles: dict[str, str]) -> Callable[[LogBatch], None]:
    from rich.console import Console
    from rich.markup import escape

    from failover_cli.cli.render import printable

    out = Console(highlight=False, soft_wrap=True)
    width = max(len(r) for r in styles)

    def show(batch: LogBatch) -> None:
        for event in batch.events:
            region = f"[{styles[event.region]}]{event.region:<{width}}[/]"
            # A logged ESC/CSI/OSC must not drive the terminal, nor a newline forge a line
            # that looks like another region's event: one event, one line, tabs kept.
            message = escape(printable(event.message, keep="\t"))
            out.print(f"[dim]{event.time}[/dim]  {region}  {message}")

    return show


def _json_lines(batch: LogBatch) -> None:
    import json
    import unicodedata

    def safe(ch: str) -> str:
        # json.dumps escapes C0 controls but leaves DEL, C1 (a one-byte CSI) and format
        # characters (bidi overrides) raw: a `--json` read in a terminal must not drive it.
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            return json.dumps(ch)[1:-1]  # \uXXXX (a surrogate pair beyond the BMP)
        return ch

    for event in batch.events:
        line = json.dumps(event.to_json(), ensure_ascii=False)
        click.echo("".join(map(safe, line)))


def _problems(console: Console, batch: LogBatch, said: dict[str, str]) -> None:
    """Each region's problem once (a follow loop would repeat it every round)."""
    from rich.markup import escape

    from failover_cli.cli.render import printable

    for region, why in sorted(batch.problems.items()):
        if said.get(region) != why:
            console.print(f"[yellow]{region}: {escape(printable(why))}[/yellow]")
            said[region] = why
    for region in batch.truncated:
        console.print(
            f"[yellow]{region}: more events than shown; narrow --since or --filter[/yellow]"
        )
