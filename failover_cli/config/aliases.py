"""Bound what YAML aliases can make of a config ("billion laughs").

PyYAML's composer shares an aliased node instead of copying it, so reading a
file with nested aliases is cheap, but anything that walks the tree (the
section readers, `validate`'s description, a future feature) would visit each
shared node once per path to it: nine levels of ten aliases are a billion
visits. Anchors have honest uses (`owner: *team`), so they are not refused;
the tree is measured once, each node memoized, and refused when aliases make
it much larger than what is written, or when an alias contains itself.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from failover_cli.errors import ConfigError

MAX_ALIAS_GROWTH = 10_000  # nodes aliases may add; a real config is a few hundred in all
_CEILING = 10**12  # sizes saturate here: a bomb's true size is astronomically big


def check_aliases(root: yaml.Node, path: Path) -> None:
    """Raise ConfigError (exit 2) when aliases expand `root` beyond the bound or loop."""
    expanded: dict[int, int] = {}  # id(node) -> nodes under it, aliases expanded
    in_progress: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in expanded:
            return expanded[key]
        if key in in_progress:
            raise ConfigError(
                str(path),
                node.start_mark.line + 1,
                "(syntax)",
                "uses an alias inside the value it names (a loop); write the value out",
            )
        in_progress.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        in_progress.discard(key)
        expanded[key] = min(total, _CEILING)
        return expanded[key]

    total = size(root)
    growth = total - len(expanded)  # distinct nodes are what the file actually writes
    if growth > MAX_ALIAS_GROWTH:
        shown = f"{growth:,}" if total < _CEILING else "billions of"
        raise ConfigError(
            str(path),
            None,
            "(syntax)",
            f"uses YAML aliases that expand to {shown} more values than it writes "
            f"(at most {MAX_ALIAS_GROWTH:,}); write the values out instead of nesting aliases",
        )
