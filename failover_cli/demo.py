"""`failover demo`: the whole tool against a sandbox started in this process.

It writes a throw-away config, points boto3 at the sandbox through the same
standard settings a user would export, and runs the commands in order with
narration. Whatever happens, the stack is torn down and the sandbox stopped.
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

DEMO_CONFIG = """\
# Written by `failover demo`; deleted when the demo ends.
stack: demo
regions: [us-east-1, us-west-2]
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
    from failover_cli.sandbox.server import Sandbox

    with tempfile.TemporaryDirectory(prefix="failover-demo-") as folder:
        config_path = Path(folder) / "failover.yaml"
        config_path.write_text(DEMO_CONFIG, encoding="utf-8")
        sandbox = Sandbox(port=port, time_scale=time_scale)
        sandbox.start()
        try:
            console.print(
                f"[bold]Sandbox[/bold] running at {sandbox.endpoint} (two regions, moto underneath)"
            )
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
    try:
        _step(
            console, "up", "create the stack in us-east-1 and us-west-2", lambda: _up(ctx, printer)
        )
        _step(
            console, "plan", "a converged stack has nothing left to do", lambda: _plan(console, ctx)
        )
    finally:
        # Tear down even a half-built stack: the demo leaves nothing behind.
        _step(console, "down", "delete everything the stack owns", lambda: _down(ctx, printer))


def _step(console: Console, label: str, what: str, action: Callable[[], None]) -> None:
    console.rule(f"[bold]failover {label}[/bold]: {what}")
    started = time.monotonic()
    action()
    console.print(f"[green]done[/green] in {time.monotonic() - started:.1f}s")


def _up(ctx: Context, printer: ProgressPrinter) -> None:
    from failover_cli.engine.stack import plan_for_up, run_up

    run_up(ctx, plan_for_up(ctx), printer.listener())


def _plan(console: Console, ctx: Context) -> None:
    from failover_cli.cli.render import print_plan
    from failover_cli.engine.stack import plan_for_up

    ctx.forget_all()
    plan = plan_for_up(ctx)
    print_plan(console, plan, title="Plan after up")
    if plan.has_changes:
        raise FailoverError("The stack did not converge: `plan` still shows changes after `up`")


def _down(ctx: Context, printer: ProgressPrinter) -> None:
    from failover_cli.engine.stack import plan_for_down, run_down

    ctx.forget_all()
    run_down(ctx, plan_for_down(ctx, keep_table=False), printer.listener(), keep_table=False)
