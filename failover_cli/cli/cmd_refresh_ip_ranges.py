"""`failover refresh-ip-ranges`: rewrite the APIs' IP allow-list from the current ranges.

Cheap and safe to run from cron or CI: it reads the ranges document, and only
where a region's deployed allow-list differs does it write the policy and
redeploy the stage. A second run changes nothing. Exit 0 either way; 2 when
the document cannot be read or the config has no access section (nothing
changed).
"""

from __future__ import annotations

import click

from failover_cli.cli.options import json_option, pass_state
from failover_cli.cli.state import AppState


@click.command("refresh-ip-ranges")
@json_option
@pass_state
def command(state: AppState) -> None:
    """Update the REST APIs' allow-list from the current ip-ranges.json (policies only)."""
    from failover_cli.cli.render import emit_json
    from failover_cli.cli.session import open_context
    from failover_cli.engine.model import Action
    from failover_cli.ops.allow_list import refresh, require_access
    from failover_cli.resources.api_policy import describe

    ctx, console, printer = open_context(state)
    require_access(ctx)  # before any read: a config without access has nothing to refresh
    result = refresh(ctx, printer.listener())
    ranges = result.ranges
    rows = []
    for change in result.changes:
        changed = change.action is not Action.NOOP
        after = describe(change.spec.props.allow)
        detail = change.fields[0].note if changed and change.fields else ""
        rows.append(
            {
                "region": change.spec.region,
                "changed": changed,
                "allow_list": after,
                "detail": detail,
            }
        )
    if state.json:
        document = (
            {
                "syncToken": ranges.sync_token,
                "createDate": ranges.create_date,
                "source": ranges.source,
            }
            if ranges
            else None
        )
        emit_json({"document": document, "regions": rows})
        return
    if ranges is not None:
        console.print(f"ip-ranges.json of {ranges.date} (syncToken {ranges.sync_token})")
    for row in rows:
        verb = "updated, stage redeployed" if row["changed"] else "unchanged"
        extra = f" ({row['detail']})" if row["detail"] else ""
        click.echo(f"{row['region']:<14} allow-list {verb}: {row['allow_list']}{extra}")
