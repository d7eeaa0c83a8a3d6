"""Shell completion of values: region names for `--region`.

Commands and options complete through click's own mechanism
(`_FAILOVER_COMPLETE=bash_source failover`, see the README). `--region` offers the
stack's regions when the config (from `--config`, FAILOVER_CONFIG or
./failover.yaml) can be read, else every region where Lambda is offered. A
completion never fails loudly: a broken config only means the wider list.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click


def complete_region(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    return [CompletionItem(r) for r in _candidates(ctx) if r.startswith(incomplete)]


def _candidates(ctx: click.Context) -> list[str]:
    path = ctx.find_root().params.get("config_path") or os.environ.get(
        "FAILOVER_CONFIG", "failover.yaml"
    )
    try:
        from failover_cli.config.loader import load_config

        return list(load_config(Path(path)).regions)
    except Exception:  # no config here (yet), or a broken one: every region will do
        from failover_cli.config.regions import lambda_regions

        return sorted(r for r, partition in lambda_regions().items() if partition == "aws")
