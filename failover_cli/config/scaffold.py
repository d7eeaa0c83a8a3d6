"""Write a starter config and the starter function code next to it (`failover init`).

The config text is checked by the real loader before it lands: it is written
to a temporary file beside the target, loaded, and only then moved into
place, so a bad answer leaves nothing behind. The starter `lambda_bundle/`
is copied next to the config unless a folder of that name is already there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from failover_cli.config.loader import load_config
from failover_cli.config.schema import Config, FunctionConfig
from failover_cli.config.starter import StarterAnswers, render_starter
from failover_cli.errors import BadInput, ConfigError

# Config keys that come from an answer, and the flag that gives it.
ANSWER_FLAGS = {
    "stack": "--stack",
    "regions": "--regions",
    "domain.name": "--domain",
    "domain.hosted_zone": "--hosted-zone",
    "domain": "--domain/--hosted-zone",
    "domain.routing": "--routing",
    "alarms.email": "--email",
}


@dataclass(frozen=True)
class Scaffold:
    config: Config
    bundle: Path | None  # the copied starter code; None when a lambda_bundle folder was kept


def refuse_overwrite(target: Path, force: bool) -> None:
    if target.is_dir():
        raise BadInput(f"{target} is a folder", hint="Pass --config PATH naming a file to write.")
    if target.exists() and not force:
        raise BadInput(
            f"{target} already exists; nothing was written",
            hint="Pass --force to overwrite it, or --config PATH to write another file.",
        )


def write_starter(target: Path, answers: StarterAnswers, *, force: bool) -> Scaffold:
    """Write the config for `answers` at `target` (checked first) and copy the starter code."""
    target = target.absolute()
    refuse_overwrite(target, force)
    text = render_starter(answers)
    if not target.parent.is_dir():
        with tempfile.TemporaryDirectory() as scratch:  # check before creating any folder
            _write_checked(text, Path(scratch) / target.name)
        target.parent.mkdir(parents=True, exist_ok=True)
    config = _write_checked(text, target)
    return Scaffold(config=config, bundle=copy_starter_bundle(target.parent))


def copy_starter_bundle(folder: Path) -> Path | None:
    """Copy the shipped `lambda_bundle/` into `folder` unless one exists there already."""
    from failover_cli.bundle import shipped_bundle_path

    destination = folder / FunctionConfig.source
    if destination.exists():
        return None
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
    try:
        shutil.copytree(shipped_bundle_path(), destination, ignore=ignore)
    except OSError as error:
        raise BadInput(
            f"Wrote the config but could not copy the starter code to {destination}: {error}",
            hint="Copy it by hand, or set function.source to your code folder.",
        ) from error
    return destination


def _write_checked(text: str, target: Path) -> Config:
    """Write `text` to a temporary file beside `target`, load it, then move it into place."""
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        temporary.chmod(0o666 & ~_umask())  # mkstemp makes it private; a config is not secret
        try:
            load_config(temporary)
        except ConfigError as error:
            raise _as_answer_error(error) from error
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return load_config(target)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _as_answer_error(error: ConfigError) -> BadInput:
    """Name the answer (and its flag) rather than a line of a temporary file."""
    problems: list[ConfigError] = getattr(error, "problems", [error])
    parts = []
    for problem in problems:
        base = problem.key.split("[", 1)[0]
        flag = ANSWER_FLAGS.get(base)
        where = f"{base} ({flag})" if flag else problem.key
        parts.append(f"{where} {problem.problem}")
    return BadInput(
        "Nothing was written: " + "; ".join(parts),
        hint="Run `failover init` again with a corrected answer.",
    )
