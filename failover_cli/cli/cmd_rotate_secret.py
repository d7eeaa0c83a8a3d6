"""`failover rotate-secret`: replace the health-checker secret; no health check fails meanwhile."""

from __future__ import annotations

import click

from failover_cli.cli.durations import POSITIVE_DURATION
from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState


@click.command("rotate-secret")
@click.option(
    "--timeout",
    type=POSITIVE_DURATION,
    default="15m",
    show_default=True,
    help="How long to wait for every checker to probe the new path before giving up.",
)
@json_option
@pass_state
def command(state: AppState, timeout: float) -> None:
    """Give the health checks and functions a new secret, without a failed check.

    The functions first accept both secrets, then the health checks switch to the
    new one; once every checker has been seen probing it successfully, the
    functions drop the old one. Safe to re-run after an interruption: it resumes
    with the same new secret. Secrets are only ever shown masked. A region that
    does not answer stops it before any change (exit 1).
    """
    from rich.markup import escape

    from failover_cli.cli.render import emit_json
    from failover_cli.cli.session import open_context
    from failover_cli.ops.reachability import Progress, require_reachable, stopped_by_outage
    from failover_cli.ops.rotate_secret import rotate_secret

    ctx, console, _ = open_context(state)
    require_reachable(ctx, "rotate-secret")  # every function must take the new secret
    try:
        report = rotate_secret(ctx, timeout=timeout, say=lambda m: console.print(escape(m)))
    except Exception as error:
        # The steps said so far (stderr) are what was done; a re-run resumes from AWS state.
        progress = Progress(
            ["the steps reported above"],
            [
                "the rest of the rotation (the functions accept both secrets meanwhile, so no "
                "health check fails)"
            ],
        )
        stopped = stopped_by_outage("rotate-secret", error, progress)
        if stopped is None:
            raise
        raise stopped from error
    if state.json:
        emit_json(report.to_json())
        return
    old = report.old_fingerprint or "(none)"
    click.echo(
        f"Rotated the health-checker secret of stack {report.stack}: {old} → "
        f"{report.new_fingerprint} (fingerprints; the secret is never shown). "
        f"{len(report.promoted)} function(s) and {len(report.checks)} health check(s) use it."
    )
