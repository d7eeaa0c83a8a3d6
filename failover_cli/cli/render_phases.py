"""Phase timings of `force-fail --wait` and `drill` as tables on stdout."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from failover_cli.ops.drill import DrillReport
    from failover_cli.ops.force_fail import ForceFailReport
    from failover_cli.ops.phase_watch import PhaseResult, Watch


def out_console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def seconds(wall: float, scale: float) -> str:
    """A wall-clock timing, and in the measured system's seconds when its clock runs
    faster (FAILOVER_TIME_SCALE): "23s emulated (2.3s wall)"."""
    if scale == 1:
        return f"{wall:.1f}s"
    return f"{wall * scale:.0f}s emulated ({wall:.1f}s wall)"


def _time(phase: PhaseResult, scale: float) -> str:
    if phase.skipped is not None:
        return "[dim]skipped[/dim]"
    if phase.reached and phase.seconds is not None:
        return seconds(phase.seconds, scale)
    return "[red]not reached[/red]"


def _note(phase: PhaseResult) -> str:
    from rich.markup import escape

    return escape(phase.skipped if phase.skipped is not None else phase.seen)


def _table(title: str) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("half", no_wrap=True)
    table.add_column("phase", no_wrap=True)
    table.add_column("after write", justify="right", no_wrap=True)
    table.add_column("last seen", overflow="fold", ratio=1)
    return table


def _add_half(table: Table, half: str, watched: Watch, scale: float) -> None:
    for phase in watched.phases:
        table.add_row(half, phase.label, _time(phase, scale), _note(phase))
    total = seconds(watched.total_seconds, scale)
    table.add_row(half, "[bold]total[/bold]", f"[bold]{total}[/bold]", "")


def _scaled(scale: float) -> str:
    return "" if scale == 1 else f" (time scale {scale:g}: emulated = {scale:g} x wall)"


def print_force_fail(console: Console, report: ForceFailReport, scale: float = 1.0) -> None:
    region = report.region
    state = "forced out" if report.wanted else "in service"
    if not report.changed:
        console.print(f"The switch already has {region} {state}: nothing changed.")
        return
    console.print(f"{region} {state} in the switch (written in {report.written_in}).")
    if report.watch is not None:
        title = "Failover" if report.wanted else "Failback"
        table = _table(f"{title} of {region}, seconds after the change was written{_scaled(scale)}")
        _add_half(table, report.action, report.watch, scale)
        console.print(table)


def print_drill(console: Console, report: DrillReport, scale: float = 1.0) -> None:
    table = _table(f"Drill on {report.region} of stack {report.stack}{_scaled(scale)}")
    if report.failover is not None:
        _add_half(table, "failover", report.failover, scale)
    if report.failback is not None:
        _add_half(table, "failback", report.failback, scale)
    console.print(table)
    settings = report.settings
    console.print(
        f"Total {seconds(report.total_seconds, scale)}. Switch readers: every "
        f"{settings.interval_s}s, "
        f"{settings.failure_threshold} failure(s) to change state "
        f"(interval x threshold = {settings.detection_seconds}s)."
    )
    console.print(
        f"{report.region} is back in the switch."
        if report.restored
        else f"[red]{report.region} is still forced out in the switch.[/red]"
    )
