"""`failover demo`: the whole tool against a sandbox started in this process.

It writes a throw-away config with a custom domain, creates the hosted zone
that a real user would already own, points boto3 and the tool's HTTP probes at
the sandbox through the same standard settings a user would export, and runs
up -> status -> drill -> gc-logs -> down with narration. Whatever happens
(errors, Ctrl-C), the stack is torn down and the sandbox stopped.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from failover_cli.errors import FailoverError

if TYPE_CHECKING:
    from rich.console import Console

    from failover_cli.cli.render import ProgressPrinter
    from failover_cli.engine.context import Context

ZONE = "example.com"
DOMAIN = f"hello.{ZONE}"
PRIMARY, SECONDARY = "us-east-1", "us-west-2"
DEMO_CONFIG = f"""\
# Written by `failover demo`; deleted when the demo ends.
stack: demo
regions: [{PRIMARY}, {SECONDARY}]
domain:
  name: {DOMAIN}
  hosted_zone: {ZONE}
  base_path: v1
  routing: failover
health_check:
  interval_s: 10
  failure_threshold: 2
"""


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration, then restore the previous values."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def run_demo(console: Console, *, port: int = 0, time_scale: float = 10.0) -> None:
    from failover_cli.sandbox.aws_rules import AwsRules
    from failover_cli.sandbox.server import Sandbox

    with tempfile.TemporaryDirectory(prefix="failover-demo-") as folder:
        config_path = Path(folder) / "failover.yaml"
        config_path.write_text(DEMO_CONFIG, encoding="utf-8")
        # The demo ends with `down`: AWS's 24-hour hold on the table is off here.
        sandbox = Sandbox(
            port=port,
            time_scale=time_scale,
            outbox=Path(folder) / "outbox",
            rules=AwsRules(source_table_hold=0, certificate_release=0),
        )
        sandbox.start()
        try:
            console.print(
                f"[bold]Sandbox[/bold] running at {sandbox.endpoint}: two emulated regions, "
                f"health checkers {time_scale:g}x faster than real time."
            )
            console.print(f"Watch the failover live in a browser: {sandbox.endpoint}/_sandbox/")
            with environment(sandbox.environment()):
                _narrated_steps(console, config_path)
        finally:
            sandbox.stop()
            console.print("[bold]Sandbox[/bold] stopped.")


def _narrated_steps(console: Console, config_path: Path) -> None:
    from failover_cli.cli.session import open_context
    from failover_cli.cli.state import AppState

    state = AppState(config_path=str(config_path), profile=None, json=False, verbose=False)
    ctx, _, printer = open_context(state)
    zone_id = _create_zone(console, ctx)
    try:
        _step(
            console,
            "up",
            f"build the stack in {PRIMARY} and {SECONDARY}",
            lambda: _up(ctx, printer),
        )
        _step(
            console,
            "status",
            "every region healthy, the primary serving",
            lambda: _status(console, ctx),
        )
        _step(
            console,
            f"drill --region {PRIMARY}",
            "fail the primary, time the failover, restore",
            lambda: _drill(console, ctx),
        )
        _step(
            console,
            "gc-logs --min-age 0s",
            "delete never-written log streams",
            lambda: _gc_logs(console, ctx),
        )
    finally:
        # Tear down even a half-built stack: the demo leaves nothing behind.
        _step(
            console, "down --yes", "delete everything the stack owns", lambda: _down(ctx, printer)
        )
        ctx.client("route53", PRIMARY).delete_hosted_zone(Id=zone_id)


def _step(console: Console, command: str, what: str, action: Callable[[], None]) -> None:
    console.rule(f"[bold]failover {command}[/bold]: {what}")
    started = time.monotonic()
    action()
    console.print(f"[green]done[/green] in {time.monotonic() - started:.1f}s")


def _create_zone(console: Console, ctx: Context) -> str:
    console.print(f"Creating the hosted zone {ZONE} (on AWS you would already own it).")
    answer = ctx.client("route53", PRIMARY).create_hosted_zone(
        Name=ZONE, CallerReference=f"failover-demo-{time.time_ns()}"
    )
    zone_id: str = answer["HostedZone"]["Id"]
    return zone_id


def _up(ctx: Context, printer: ProgressPrinter) -> None:
    from failover_cli.engine.stack import plan_for_up, run_up

    run_up(ctx, plan_for_up(ctx), printer.listener())
    ctx.forget_all()
    if plan_for_up(ctx).has_changes:
        raise FailoverError("The stack did not converge: a second plan still shows changes")


def _status(console: Console, ctx: Context) -> None:
    from failover_cli.cli.status_view import render_status
    from failover_cli.ops.status import gather

    deadline = time.monotonic() + 60
    status = gather(ctx)
    # The health checkers need an interval or two to report on a fresh stack.
    while not (status.healthy and status.serving_region) and time.monotonic() < deadline:
        time.sleep(1)
        status = gather(ctx)
    console.print(render_status(status))


def _drill(console: Console, ctx: Context) -> None:
    from failover_cli.cli.render_phases import print_drill
    from failover_cli.ops.drill import drill

    report = drill(ctx, PRIMARY, timeout=120, say=console.print)
    print_drill(console, report)
    if not report.complete:
        raise FailoverError("The drill did not see every phase (the region is back in the switch)")


def _gc_logs(console: Console, ctx: Context) -> None:
    from failover_cli.ops.gc_logs import gc_logs

    report = gc_logs(ctx, min_age=0)
    totals = report.totals()
    console.print(
        f"Deleted {totals['deleted']} empty streams; kept {totals['kept_with_events']} with "
        "events. (The default --min-age 1h spares streams a warm container may still use.)"
    )


def _down(ctx: Context, printer: ProgressPrinter) -> None:
    from failover_cli.engine.stack import plan_for_down, run_down

    ctx.forget_all()
    run_down(ctx, plan_for_down(ctx, keep_table=False), printer.listener(), keep_table=False)
