"""What a bundle declares it needs: `requirements.txt` and pyproject's dependencies.

Both are read from `function.source` itself. The requirement lines (comments
and blank lines dropped) are what the dependency cache is keyed by, so a
changed pin rebuilds and an unchanged one does not.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from failover_cli.errors import BadInput

REQUIREMENTS = "requirements.txt"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class Declared:
    """The bundle's requirement files and lines; empty when it declares nothing."""

    requirements_file: Path | None  # given to pip as -r (it may hold pip options)
    requirements_lines: tuple[str, ...]
    pyproject_dependencies: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.requirements_lines and not self.pyproject_dependencies

    def key_text(self) -> str:
        """Everything the declaration asks for, as one text (the cache key's part)."""
        return "\n".join(
            [
                "requirements.txt:",
                *self.requirements_lines,
                "pyproject:",
                *self.pyproject_dependencies,
            ]
        )


def declared(source: Path) -> Declared:
    requirements = source / REQUIREMENTS
    lines: tuple[str, ...] = ()
    if requirements.is_file():
        lines = tuple(_lines(requirements.read_text(encoding="utf-8")))
    return Declared(
        requirements if lines else None,
        lines,
        tuple(_pyproject_dependencies(source / PYPROJECT)),
    )


def _lines(text: str) -> list[str]:
    """Requirement lines without comments, blanks and trailing spaces."""
    kept = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            kept.append(line)
    return kept


def _pyproject_dependencies(path: Path) -> list[str]:
    if not path.is_file():
        return []
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise BadInput(
            f"{path} cannot be read as TOML: {error}",
            hint="Fix the file, or remove it from function.source.",
        ) from None
    dependencies = (document.get("project") or {}).get("dependencies") or []
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise BadInput(
            f"{path}: project.dependencies must be a list of requirement strings",
            hint='For example dependencies = ["requests==2.32.3"].',
        )
    return [d.strip() for d in dependencies if d.strip()]
