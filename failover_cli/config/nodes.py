"""Read YAML as a node tree that remembers lines, and turn nodes into strictly typed values.

PyYAML's composer gives every node its position, so a problem can name the
file, the line and the dotted key. Values are typed by their resolved YAML
tag: `5` is a whole number, `"5"` a string, `yes` a boolean; nothing is
coerced. Problems are collected (not raised one by one) so the user sees
every mistake in one run.
"""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from failover_cli.config.aliases import check_aliases
from failover_cli.errors import BadInput, ConfigError

MAX_FILE_BYTES = 1024 * 1024
MAX_STRING = 4096  # no single value in the config has a reason to be longer
MAX_ENTRIES = 256  # nor any list or mapping (tags stop at 40, regions at a few dozen)
MAX_NUMBER_CHARS = 20  # the largest allowed number (172800) is 6 digits; this is plenty
MAX_SHOWN = 20  # problems printed before "and N more"

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_NULL = "tag:yaml.org,2002:null"
_TYPE_NAMES = {
    _INT: "a whole number",
    "tag:yaml.org,2002:float": "a decimal number",
    "tag:yaml.org,2002:bool": "true/false",
    _NULL: "empty",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:map": "a mapping",
    "tag:yaml.org,2002:seq": "a list",
    _STR: "a string",
}


class ConfigProblems(ConfigError):
    """Every problem found in one config file; located like ConfigError (by the first one)."""

    def __init__(self, problems: Sequence[ConfigError]):
        first = problems[0]
        super().__init__(first.path, first.line, first.key, first.problem)
        self.problems = list(problems)

    def render(self) -> str:
        lines = [p.message for p in self.problems[:MAX_SHOWN]]
        if len(self.problems) > MAX_SHOWN:
            lines.append(f"… and {len(self.problems) - MAX_SHOWN} more problems.")
        return "\n".join(lines)


class Problems:
    """Collects located problems for one file."""

    def __init__(self, path: Path):
        self.path = str(path)
        self.items: list[ConfigError] = []

    def add(self, line: int | None, key: str, problem: str) -> None:
        self.items.append(ConfigError(self.path, line, key, problem))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigProblems(sorted(self.items, key=lambda item: item.line or 0))


@dataclass(frozen=True)
class Entry:
    """A value in the document: its dotted key, the line of that key (1-based) and its node."""

    key: str
    line: int
    node: yaml.Node

    def child(self, key: str, key_node: yaml.Node, node: yaml.Node) -> Entry:
        return Entry(f"{self.key}.{key}" if self.key else key, line_of(key_node), node)


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def show(value: object, limit: int = 60) -> str:
    """A value as it may safely appear in a one-line message (quoted, escaped, shortened)."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return json.dumps(text, ensure_ascii=False)


def safe_key(key: str) -> str:
    """A user-written key, fit for a message: escaped and shortened if it is odd."""
    if len(key) <= 64 and key.isprintable():
        return key
    return show(key, 40)


def suggest(word: str, choices: Sequence[str]) -> str:
    """' (did you mean X?)' when a choice is close to `word`, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def type_name(node: yaml.Node) -> str:
    return _TYPE_NAMES.get(node.tag, f"a value tagged {show(node.tag, 30)}")


def read_document(path: Path) -> yaml.Node | None:
    """The file's single YAML document as a node tree (None when it holds no document)."""
    if not path.exists():
        raise BadInput(
            f"No config file at {path}",
            hint="Run `failover init` to write one, or pass --config PATH "
            "(or set FAILOVER_CONFIG).",
        )
    if not path.is_file():
        raise BadInput(
            f"The config path {path} is not a file", hint="Pass --config PATH to a YAML file."
        )
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(
                str(path), None, "(file)", f"is {size} bytes; a config is at most 1 MiB"
            )
        raw = path.read_bytes()
    except OSError as error:
        raise BadInput(f"Cannot read the config file {path}: {error.strerror or error}") from error
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(str(path), line, "(file)", "is not valid UTF-8 text") from error
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None:
            check_aliases(root, path)
        return root
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        at = mark.line + 1 if mark is not None else None
        problem = ": ".join(str(part) for part in (error.context, error.problem) if part)
        raise ConfigError(str(path), at, "(syntax)", f"is not valid YAML: {problem}") from error
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        raise ConfigError(
            str(path),
            line,
            "(syntax)",
            f"contains the control character #x{error.character:04x}, "
            "which YAML does not allow; remove it",
        ) from error
    except yaml.YAMLError as error:
        raise ConfigError(str(path), None, "(syntax)", f"is not valid YAML: {error}") from error
    except RecursionError as error:
        raise ConfigError(
            str(path), None, "(syntax)", "is nested too deeply to be a config"
        ) from error


class Reader:
    """Typed access to entries; every mismatch becomes a located problem and a None result."""

    def __init__(self, problems: Problems):
        self.problems = problems

    def fail(self, entry: Entry, problem: str) -> None:
        self.problems.add(entry.line, entry.key, problem)

    def mapping(self, entry: Entry, allowed: Sequence[str]) -> dict[str, Entry] | None:
        """The entries of a config section; unknown, duplicate and non-string keys are problems.

        An empty section (`table:` with nothing under it) reads as no keys at all.
        """
        pairs = self.pairs(entry, what=f"a mapping with the keys {', '.join(allowed)}")
        if pairs is None:
            return None
        out: dict[str, Entry] = {}
        for name, child in pairs:
            if name not in allowed:
                hint = suggest(name, allowed)
                self.fail(child, f"is not a known key{hint}; allowed here: {', '.join(allowed)}")
            else:
                out[name] = child
        return out

    def pairs(self, entry: Entry, *, what: str) -> list[tuple[str, Entry]] | None:
        """(key, entry) pairs of a mapping in file order; keys must be plain, unique strings."""
        node = entry.node
        if node.tag == _NULL:
            return []
        if not isinstance(node, yaml.MappingNode):
            self.fail(entry, f"must be {what}, not {type_name(node)}")
            return None
        if not self._few(entry, len(node.value)):
            return None
        seen: set[str] = set()
        out: list[tuple[str, Entry]] = []
        for key_node, value_node in node.value:
            where = Entry(entry.key, line_of(key_node), key_node)
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.fail(
                    where,
                    "uses a YAML merge key (<<), which a config does not support; "
                    "write the keys out",
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
                self.fail(
                    where,
                    f"has a key that is {type_name(key_node)}; keys must be strings (quote it)",
                )
                continue
            name = key_node.value
            child = entry.child(safe_key(name), key_node, value_node)
            if not self._clean(child, name, "key"):
                continue
            if name in seen:
                self.fail(child, "appears twice in the same mapping; keep one")
                continue
            seen.add(name)
            out.append((name, child))
        return out

    def string(self, entry: Entry, *, optional: bool = False) -> str | None:
        node = entry.node
        if optional and node.tag == _NULL:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR:
            quote = " (quote it)" if isinstance(node, yaml.ScalarNode) and node.tag != _NULL else ""
            self.fail(entry, f"must be a string, not {type_name(node)}{quote}")
            return None
        value: str = node.value
        return value if self._clean(entry, value, "value") else None

    def integer(self, entry: Entry) -> int | None:
        node = entry.node
        if not isinstance(node, yaml.ScalarNode) or node.tag != _INT:
            self.fail(entry, f"must be a whole number, not {type_name(node)}")
            return None
        if len(node.value) > MAX_NUMBER_CHARS:
            # Python refuses to read integers of thousands of digits (a crash, not a problem).
            self.fail(
                entry,
                f"is a number written with {len(node.value)} characters; no setting allows "
                "one that large",
            )
            return None
        value = yaml.constructor.SafeConstructor().construct_yaml_int(node)
        return int(value)

    def items(self, entry: Entry, *, what: str) -> list[Entry] | None:
        """The entries of a list, each keyed `key[i]` at its own line."""
        node = entry.node
        if not isinstance(node, yaml.SequenceNode):
            self.fail(entry, f"must be {what}, not {type_name(node)}")
            return None
        if not self._few(entry, len(node.value)):
            return None
        return [
            Entry(f"{entry.key}[{index}]", line_of(item), item)
            for index, item in enumerate(node.value)
        ]

    def string_list(self, entry: Entry, *, what: str) -> list[tuple[Entry, str]] | None:
        """(entry, value) for each item that is a string; the others are reported and left out."""
        items = self.items(entry, what=what)
        if items is None:
            return None
        out = [(item, self.string(item)) for item in items]
        return [(item, value) for item, value in out if value is not None]

    def string_map(self, entry: Entry, *, what: str) -> list[tuple[Entry, str, str]] | None:
        """(entry, key, value) for a free-form mapping of strings to strings, in file order.

        Pairs whose value is not a string are reported and left out.
        """
        pairs = self.pairs(entry, what=what)
        if pairs is None:
            return None
        out: list[tuple[Entry, str, str]] = []
        for name, child in pairs:
            value = self.string(child)
            if value is not None:
                out.append((child, name, value))
        return out

    def _few(self, entry: Entry, count: int) -> bool:
        """Refuse absurdly large lists and mappings before checking their entries one by one."""
        if count > MAX_ENTRIES:
            self.fail(entry, f"has {count} entries; at most {MAX_ENTRIES} are allowed here")
            return False
        return True

    def _clean(self, entry: Entry, text: str, what: str) -> bool:
        """Reject control characters and absurd lengths before any other rule sees the text."""
        if len(text) > MAX_STRING:
            self.fail(
                entry, f"has a {what} of {len(text)} characters; at most {MAX_STRING} are allowed"
            )
            return False
        bad = next(
            (ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")), None
        )
        if bad is not None:
            self.fail(
                entry,
                f"has a {what} containing the control character U+{ord(bad):04X} "
                "(newlines, tabs and other invisible characters are not allowed)",
            )
            return False
        return True
