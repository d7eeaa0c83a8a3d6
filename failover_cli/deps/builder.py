"""Build a bundle's dependencies with pip for Lambda's platform, once per declaration.

pip runs as `python -m pip install --target <folder>` with the platform
options of `target.LambdaTarget` and binary wheels only (no compiler, no
Docker: what cannot come as a wheel for Lambda's platform is refused). pip
reads its own configuration as always, so `PIP_INDEX_URL`,
`PIP_EXTRA_INDEX_URL`, `PIP_FIND_LINKS`, `PIP_NO_INDEX` and pip.conf choose
where wheels come from.

The result is cached under the user's cache folder
(`$XDG_CACHE_HOME/failover/dependencies/<key>`), the key being the
requirement lines, the runtime and the architecture: the next build with the
same inputs calls no pip and downloads nothing. A folder is published into
the cache only once complete (built aside, then renamed), so an interrupted
build is never mistaken for a finished one.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from failover_cli.deps.declared import Declared, declared
from failover_cli.deps.installed import Distribution, distributions
from failover_cli.deps.target import LambdaTarget
from failover_cli.errors import BadInput, FailoverError

CACHE_FORMAT = "1"  # bump when what is cached changes shape
PIP_TIMEOUT_S = 900.0  # a slow index is waited for, a hung one is not
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_INVALID = re.compile(r"Invalid requirement: (.+)")
_DROPPED = ("bin",)  # console scripts: nothing on Lambda runs them


@dataclass(frozen=True)
class BuiltDependencies:
    folder: Path  # the installed tree, zipped at the root of the function's code
    target: LambdaTarget
    distributions: tuple[Distribution, ...]
    from_cache: bool

    def describe(self) -> str:
        names = ", ".join(f"{d.name} {d.version}" for d in self.distributions) or "none"
        how = "from the cache" if self.from_cache else "built now"
        return f"dependencies for {self.target.describe()}, {how}: {names}"


def cache_root() -> Path:
    from failover_cli.access.ranges import cache_folder

    return cache_folder() / "dependencies"


def cache_key(wanted: Declared, target: LambdaTarget) -> str:
    text = "\n".join(
        [
            CACHE_FORMAT,
            target.runtime,
            target.architecture,
            *target.pip_options(),
            wanted.key_text(),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def build_dependencies(
    source: Path, target: LambdaTarget, say: Callable[[str], None] | None = None
) -> BuiltDependencies | None:
    """The installed dependencies `source` declares (None: it declares none).

    Raises BadInput (exit 2) when a requirement has no wheel for the platform.
    """
    wanted = declared(source)
    if wanted.empty:
        return None
    target.pip_options()  # a non-Python runtime fails here, before pip runs
    root = cache_root()
    folder = root / cache_key(wanted, target)
    if not (folder / "site").is_dir():
        if say is not None:
            say(f"building the function's dependencies for {target.describe()} with pip")
        _build(wanted, target, root, folder)
        cached = False
    else:
        cached = True
    site = folder / "site"
    return BuiltDependencies(site, target, tuple(distributions(site)), cached)


def _build(wanted: Declared, target: LambdaTarget, root: Path, folder: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        site = work / "site"
        _run_pip(wanted, target, site)
        for name in _DROPPED:
            shutil.rmtree(site / name, ignore_errors=True)
        try:
            os.rename(work, folder)  # atomic: the cache entry appears complete or not at all
        except OSError:
            if not (folder / "site").is_dir():  # not a concurrent build that won the race
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_pip(wanted: Declared, target: LambdaTarget, site: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--target",
        str(site),
        *target.pip_options(),
        "--no-compile",  # Lambda's /var/task is read-only: bytecode is compiled in memory
        "--disable-pip-version-check",
        "--no-input",
    ]
    if wanted.requirements_file is not None:
        command += ["-r", str(wanted.requirements_file)]
    command += list(wanted.pyproject_dependencies)
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise FailoverError(
            f"pip did not finish building the function's dependencies in {PIP_TIMEOUT_S:.0f}s",
            hint="Check the package index (PIP_INDEX_URL) is reachable, then re-run.",
        ) from None
    if done.returncode != 0:
        raise _pip_failed(done.stdout + done.stderr, target)


def _pip_failed(output: str, target: LambdaTarget) -> FailoverError:
    missing = _NO_MATCH.search(output)
    if missing is not None:
        package = missing.group(1)
        name = re.split(r"[<>=!~;\[ ]", package, maxsplit=1)[0]
        return BadInput(
            f"The function's dependency {package} has no wheel for Lambda's platform "
            f"{target.describe()}: pip found none, and nothing is compiled here",
            hint=(
                f"Pin a version of {name} that publishes a {target.platforms[0]} wheel "
                f"for Python {target.python_version} (or a pure-Python one), or change "
                "function.architecture if its wheels are for the other one. If the index "
                "cannot be reached, set PIP_INDEX_URL or PIP_FIND_LINKS."
            ),
        )
    if "ResolutionImpossible" in output or "conflicting dependencies" in output:
        return BadInput(
            "The function's requirements conflict with each other: pip found no set of "
            "versions that satisfies them all",
            hint="Loosen or align the pins in requirements.txt. pip said: "
            + " ".join(line for line in output.splitlines() if "requested" in line)[:500],
        )
    invalid = _INVALID.search(output)
    if invalid is not None:
        return BadInput(
            f"The function's requirements hold an invalid requirement: {invalid.group(1)}",
            hint="Fix it in requirements.txt or pyproject.toml of function.source.",
        )
    errors = [line for line in output.splitlines() if line.startswith("ERROR")]
    said = " ".join(errors[-3:]) or output.strip()[-500:]
    return FailoverError(
        f"pip could not build the function's dependencies for {target.describe()}: {said}",
        hint="Fix what pip reports and re-run; nothing was sent to AWS.",
    )
