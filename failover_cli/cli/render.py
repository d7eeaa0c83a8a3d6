"""Human output: progress and plans on stderr with rich, results on stdout."""

from __future__ import annotations

import json
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from failover_cli.engine.context import Progress
    from failover_cli.engine.model import Change, Plan
    from failover_cli.engine.runner import ChangeListener

_SYMBOL = {
    "create": ("+", "green"),
    "update": ("~", "yellow"),
    "delete": ("-", "red"),
    "skip": ("!", "magenta"),
    "no-op": ("=", "dim"),
}


def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def print_plan(console: Console, plan: Plan, *, title: str, deletions: str = "") -> None:
    """The plan's changes, then its summary line (indented: it follows the changes)."""
    if print_changes(console, plan, title=title, deletions=deletions):
        console.print("  " + plan_summary(plan))


def print_changes(console: Console, plan: Plan, *, title: str, deletions: str = "") -> bool:
    """The plan's changes (False: there are none, and it says so); with `deletions`, the
    deletes follow in their own section under that heading, each with what data it loses
    (the guard on deletes of `up`)."""
    shown = [c for c in plan.changes if c.mutating or c.action.value == "skip"]
    apart = [c for c in shown if c.action.value == "delete"] if deletions else []
    console.print(f"[bold]{title}[/bold]")
    if not shown:
        console.print("  No changes: the stack matches the config.")
        return False
    for change in shown:
        if all(change is not other for other in apart):
            console.print("  " + _line(change))
    if apart:
        console.print(f"  [bold red]{deletions}[/bold red]")
        for change in apart:
            loses = f" [red]loses {change.loses}[/red]" if change.loses else ""
            console.print("    " + _line(change) + loses)
    skipped = sum(1 for c in plan.changes if c.action.value == "skip")
    if skipped:
        console.print(f"  {skipped} not owned by the stack: left untouched.")
    return True


def plan_summary(plan: Plan) -> str:
    """ "Plan: 3 to create, 1 to update." (or "Plan: nothing to change.")."""
    counts = {a: sum(1 for c in plan.changes if c.action.value == a) for a in _SYMBOL}
    summary = ", ".join(f"{counts[a]} to {a}" for a in ("create", "update", "delete") if counts[a])
    return f"Plan: {summary or 'nothing to change'}."


def confirm_or_stop(question: str) -> None:
    """Ask on stderr; a "no" (or the end of input) changes nothing and exits 2, as the
    table of exit codes has it for a run that changed nothing by the user's choice."""
    import click

    try:
        yes = click.confirm(question, err=True, default=False)
    except click.Abort:  # end of input, or Ctrl-C at the prompt
        yes = False
        click.echo("", err=True)
    if not yes:
        click.echo("Nothing was changed.", err=True)
        raise click.exceptions.Exit(2)


# Width of the result when stdout is a pipe or a file: no line (nor a table cell holding a
# URL) is folded at 80 columns, so what is pasted from it is whole.
UNWRAPPED_WIDTH = 1000


def result_console() -> Console:
    """stdout for a command's result: never wrapped, so a long name or URL pastes whole;
    on a terminal, tables fit its width."""
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = UNWRAPPED_WIDTH
    return console


def print_result(console: Console, renderable: object) -> None:
    """Print a result; to a pipe or file without the spaces rich pads table cells with, so a
    copied or grepped line ends where its text does."""
    if console.is_terminal:
        console.print(renderable)
        return
    with console.capture() as captured:
        console.print(renderable)
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    console.file.write(text + "\n")


DELETIONS_HEADING = "Deletions (owned by the stack, no longer in the config):"


def _line(change: Change) -> str:
    symbol, colour = _SYMBOL[change.action.value]
    where = change.spec.where or "global"
    return f"[{colour}]{symbol} {change.action.value:<6}[/{colour}] {where:<14} {change.describe()}"


class ProgressPrinter:
    """Progress lines for `up`/`down`: one when a change starts and one when it ends."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()

    def progress(self) -> Progress:
        from rich.markup import escape

        def show(region: str, message: str) -> None:
            # Messages quote file and resource names: never let them read as markup.
            with self._lock:
                self.console.print(f"  [dim]… {region or 'global':<14} {escape(message)}[/dim]")

        return show

    def listener(self) -> ChangeListener:
        def on_change(change: Change, phase: str, seconds: float) -> None:
            with self._lock:
                # One line per change, when it ends: waits print their own progress.
                if phase == "done":
                    colour = _SYMBOL[change.action.value][1]
                    where = change.spec.where or "global"
                    self.console.print(
                        f"  [green]✓[/green] [{colour}]{change.action.value:<6}[/{colour}] "
                        f"{where:<14} {change.describe()} [dim]({seconds:.1f}s)[/dim]"
                    )
                elif phase == "failed":
                    self.console.print(
                        f"  [red]✗[/red] {change.spec.where or 'global':<14} "
                        f"{change.spec.kind} {change.spec.name} failed"
                    )

        return on_change


def printable(text: str, keep: str = "\n") -> str:
    """`text` with control characters escaped (those in `keep` kept: newlines by default).

    Messages quote what the user typed (a --region, a path from FAILOVER_CONFIG), and
    an ANSI escape, a bell or a bidi override in it must not drive the terminal.
    """
    import unicodedata

    return "".join(
        ch
        if ch in keep or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
        else (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        for ch in text
    )
