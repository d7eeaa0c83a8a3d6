"""What a benchmark section returns, and how it is printed (plain text or Markdown)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Check:
    """One budget: PASS or FAIL, and the figures that decided it."""

    name: str
    passed: bool
    detail: str

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Check:
        return cls(data["name"], bool(data["passed"]), data["detail"])


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "headers": list(self.headers),
            "rows": [list(r) for r in self.rows],
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Table:
        return cls(
            data["title"],
            tuple(data["headers"]),
            tuple(tuple(row) for row in data["rows"]),
            tuple(data.get("notes", ())),
        )


@dataclass
class Section:
    name: str  # the key in the JSON results
    title: str
    tables: list[Table] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "tables": [t.to_json() for t in self.tables],
            "checks": [c.to_json() for c in self.checks],
            "data": self.data,
        }

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> Section:
        return cls(
            name,
            data["title"],
            [Table.from_json(t) for t in data["tables"]],
            [Check.from_json(c) for c in data["checks"]],
            data.get("data", {}),
        )


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def ms(seconds: float | None, digits: int = 0) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.{digits}f} ms"


def secs(seconds: float | None, digits: int = 2) -> str:
    return "—" if seconds is None else f"{seconds:.{digits}f} s"


def render_text(section: Section) -> str:
    lines = [f"== {section.title} =="]
    for table in section.tables:
        lines.append("")
        lines.append(table.title)
        widths = [
            max(len(cell) for cell in column)
            for column in zip(table.headers, *table.rows, strict=True)
        ]
        lines.append("  ".join(h.ljust(w) for h, w in zip(table.headers, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        for row in table.rows:
            lines.append("  ".join(_align(c, w) for c, w in zip(row, widths, strict=True)))
        lines.extend(f"  * {note}" for note in table.notes)
    if section.checks:
        lines.append("")
        lines.extend(f"[{c.verdict}] {c.name}: {c.detail}" for c in section.checks)
    return "\n".join(lines)


def render_markdown(section: Section) -> str:
    lines = [f"### {section.title}"]
    for table in section.tables:
        lines.append("")
        if table.title:
            lines.append(f"{table.title}:")
            lines.append("")
        lines.append("| " + " | ".join(table.headers) + " |")
        columns = zip(*table.rows, strict=True) if table.rows else iter(())
        right = [all(_numeric(c) for c in column if c) for column in columns]
        lines.append("|" + "|".join("---:" if r else "---" for r in right) + "|")
        lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows)
        if table.notes:
            lines.append("")
            lines.extend(f"- {note}" for note in table.notes)
    if section.checks:
        lines.append("")
        lines.extend(f"- **{c.verdict}** {c.name}: {c.detail}" for c in section.checks)
    return "\n".join(lines)


def _numeric(cell: str) -> bool:
    return cell[:1].isdigit() or cell[:1] in "—-+"


def _align(cell: str, width: int) -> str:
    # Figures right-aligned, words left-aligned.
    return cell.rjust(width) if _numeric(cell) else cell.ljust(width)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
