"""Read the fields of a config section into keyword arguments, with their range and form checks.

The section builders (`sections.py`) are written in terms of these: a field
that is absent keeps its dataclass default, a field that breaks a rule is
reported (with its line) and left out, and the builder finally asks whether
the section gathered any problem.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from failover_cli.config import rules
from failover_cli.config.nodes import Entry, Reader, show, suggest

Fields = dict[str, Entry]
Check = Callable[[str], str | None]


class FieldReader:
    """Typed fields of config sections; remembers the line of every key it sees."""

    def __init__(self, reader: Reader, lines: dict[str, int]):
        self.reader = reader
        self.lines = lines  # dotted key -> line, for keys present in the file

    def fields(self, entry: Entry | None, allowed: tuple[str, ...]) -> Fields | None:
        if entry is None:
            return {}
        found = self.reader.mapping(entry, allowed)
        for child in (found or {}).values():
            self.lines[child.key] = child.line
        return found

    def integer(
        self,
        fields: Fields,
        name: str,
        kw: dict[str, Any],
        low: int,
        high: int,
        unit: str = "",
        why: str = "",
    ) -> None:
        entry = fields.get(name)
        value = None if entry is None else self.reader.integer(entry)
        if entry is None or value is None:
            return
        self._keep(entry, name, value, rules.in_range(value, low, high, unit, why), kw)

    def string(self, fields: Fields, name: str, kw: dict[str, Any], check: Check) -> None:
        entry = fields.get(name)
        value = None if entry is None else self.reader.string(entry)
        if entry is None or value is None:
            return
        self._keep(entry, name, value, check(value), kw)

    def choice(
        self, fields: Fields, name: str, kw: dict[str, Any], choices: tuple[Any, ...]
    ) -> None:
        entry = fields.get(name)
        if entry is None:
            return
        is_int = isinstance(choices[0], int)
        value = self.reader.integer(entry) if is_int else self.reader.string(entry)
        if value is not None:
            self._keep(entry, name, value, rules.one_of(value, choices), kw)

    def _keep(
        self, entry: Entry, name: str, value: Any, problem: str | None, kw: dict[str, Any]
    ) -> None:
        if problem:
            self.reader.fail(entry, problem)
        else:
            kw[name] = value

    def _mark(self) -> int:
        return len(self.reader.problems.items)

    def _ok(self, start: int) -> bool:
        return len(self.reader.problems.items) == start

    def region_list(
        self, entry: Entry, known: Collection[str], minimum: int, what: str
    ) -> list[tuple[Entry, str]] | None:
        """A list of at least `minimum` distinct names from `known`, each one `what`."""
        start = self._mark()
        items = self.reader.string_list(entry, what=f"a list of at least {minimum} regions")
        if items is None:
            return None
        for item, value in items:
            if value not in known:
                self.reader.fail(
                    item, f"is {show(value)}, which is not {what}{suggest(value, sorted(known))}"
                )
        values = [value for _, value in items]
        for index in rules.distinct(values):
            self.reader.fail(items[index][0], f"repeats {show(values[index])}; list it once")
        if self._ok(start) and len(values) < minimum:
            self.reader.fail(
                entry,
                f"lists {len(values)} region(s) but needs at least "
                f"{minimum} distinct ones, each {what}",
            )
        return items if self._ok(start) else None
