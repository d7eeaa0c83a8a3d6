"""Which parts of a function's code take the room: sizes per package, largest first.

A file belongs to the distribution whose RECORD lists its top-level folder or
module (`numpy/`, `numpy.libs/`, `numpy-2.1.dist-info/`); the rest is the
bundle's own code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from failover_cli.deps.installed import Distribution

OWN_FILES = "the bundle's own files"
SHOWN = 5


def largest(
    files: Iterable[tuple[str, int]], distributions: Iterable[Distribution], count: int = SHOWN
) -> list[tuple[str, int]]:
    """(package, unzipped bytes) of the `count` largest parts, largest first."""
    owner: dict[str, str] = {}
    for distribution in distributions:
        for top in distribution.top_level:
            owner.setdefault(top, distribution.name)
    totals: Counter[str] = Counter()
    for relative, size in files:
        totals[owner.get(relative.split("/", 1)[0], OWN_FILES)] += size
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:count]
