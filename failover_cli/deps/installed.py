"""What pip installed into a folder: each distribution's name, version, wheel tags and files.

Read from the `*.dist-info` folders (METADATA, WHEEL, RECORD) that every
wheel install writes, so it works the same on the tool's build folder and on
a function's unpacked zip (the sandbox reads it there). Which parts of the
code take the room (`largest`): a file belongs to the distribution whose RECORD
lists its top-level folder or module (`numpy/`, `numpy.libs/`,
`numpy-2.1.dist-info/`); the rest is the bundle's own code.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    tags: tuple[str, ...]  # "cp313-cp313-manylinux2014_aarch64", "py3-none-any"
    top_level: tuple[str, ...]  # first path segments of its files ("numpy", "numpy.libs", ...)

    @property
    def platform_specific(self) -> bool:
        """Built for one platform (compiled code), not a pure-Python `*-any` wheel."""
        return any(not tag.endswith("-any") for tag in self.tags)

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(sorted({tag.rsplit("-", 1)[-1] for tag in self.tags}))

    def describe(self) -> str:
        return f"{self.name} {self.version} ({', '.join(self.tags) or 'no wheel tag'})"


def distributions(folder: Path) -> list[Distribution]:
    """Every distribution installed directly under `folder`, sorted by name."""
    found = []
    for info in sorted(folder.glob("*.dist-info")):
        if info.is_dir():
            found.append(_read(info))
    return sorted(found, key=lambda d: d.name.lower())


def _read(info: Path) -> Distribution:
    metadata = _headers(info / "METADATA")
    wheel = _headers(info / "WHEEL", multi="Tag")
    stem_name, _, stem_version = info.name.removesuffix(".dist-info").partition("-")
    top = {info.name}
    record = info / "RECORD"
    if record.is_file():
        for row in csv.reader(io.StringIO(record.read_text(encoding="utf-8", errors="replace"))):
            if row and not row[0].startswith(".."):
                top.add(row[0].split("/", 1)[0])
    return Distribution(
        name=str(metadata.get("Name") or stem_name),
        version=str(metadata.get("Version") or stem_version),
        tags=tuple(wheel.get("Tag") or ()),
        top_level=tuple(sorted(top)),
    )


def _headers(path: Path, multi: str = "") -> dict[str, str | list[str]]:
    """The `Key: value` header lines of a METADATA or WHEEL file (up to the first blank)."""
    headers: dict[str, str | list[str]] = {}
    if not path.is_file():
        return headers
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == multi:
            listed = headers.setdefault(key, [])
            assert isinstance(listed, list)
            listed.append(value)
        else:
            headers.setdefault(key, value)
    return headers


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
