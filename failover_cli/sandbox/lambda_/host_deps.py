"""A function's compiled dependencies, rebuilt for the machine the sandbox runs on.

The zip `up` uploads holds its dependencies built for Lambda's platform
(`manylinux2014_aarch64`, CPython 3.13, say). Pure-Python wheels run anywhere,
but compiled ones would not load here, so before a worker starts, every
distribution of the zip whose wheel is platform-specific is installed again,
same name and version, for this machine's Python and platform, into a folder
that goes first on the worker's `sys.path`. The function thus runs the same
code with the same versions; only the compiled parts differ, and the
function's log says which platform each build is for.

pip reads its own configuration (`PIP_INDEX_URL`, `PIP_FIND_LINKS`,
`PIP_NO_INDEX`, pip.conf) as always. Host builds are cached in the user's
cache folder by (distributions, this interpreter and platform), and per
uploaded code in memory, so pip runs once per new set of packages.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from failover_cli.deps.installed import Distribution, distributions
from failover_cli.sandbox.lambda_.functions import FunctionSpec
from failover_cli.sandbox.lambda_.worker import HOST_PACKAGES_VARIABLE

PIP_TIMEOUT_S = 600.0
_log = logging.getLogger(__name__)


class HostBuildFailed(Exception):
    """pip could not install a distribution for this machine: the worker cannot start."""


@dataclass(frozen=True)
class HostDependencies:
    folder: Path  # goes first on the worker's sys.path
    rebuilt: tuple[Distribution, ...]

    def log_lines(self) -> list[str]:
        here = host_platform()
        return [
            f"[sandbox] {d.name} {d.version}: uploaded build for {', '.join(d.platforms)} "
            f"(Lambda's platform); running the build for {here} (this machine)"
            for d in self.rebuilt
        ]


def host_platform() -> str:
    """'linux_x86_64, cpython 3.11': this machine's platform and interpreter."""
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"{platform}, {sys.implementation.name} {version}"


def cache_root() -> Path:
    from failover_cli.access.ranges import cache_folder

    return cache_folder() / "sandbox-host-builds"


class HostBuilds:
    """Thread-safe: workers of several functions start at once."""

    def __init__(self, root: Path | None = None):
        self._root = root
        self._lock = threading.Lock()
        self._keys: dict[str, threading.Lock] = {}
        self._by_code: dict[str, HostDependencies | None] = {}

    def prepare(self, name: str, code_sha: str, task_root: Path) -> HostDependencies | None:
        """The host builds for the code unpacked in `task_root` (None: nothing to rebuild).

        Raises HostBuildFailed when pip cannot install one (told once per code)."""
        with self._lock:
            if code_sha in self._by_code:
                return self._by_code[code_sha]
            lock = self._keys.setdefault(code_sha, threading.Lock())
        with lock:  # one pip run per code; the others wait for it
            with self._lock:
                if code_sha in self._by_code:
                    return self._by_code[code_sha]
            compiled = tuple(d for d in distributions(task_root) if d.platform_specific)
            try:
                result = self._build(compiled) if compiled else None
            except HostBuildFailed as failed:
                _log.warning("function %s: %s", name, failed)
                raise
            for line in result.log_lines() if result else ():
                _log.warning("function %s: %s", name, line.removeprefix("[sandbox] "))
            with self._lock:
                self._by_code[code_sha] = result
            return result

    def _build(self, compiled: tuple[Distribution, ...]) -> HostDependencies:
        pins = sorted(f"{d.name}=={d.version}" for d in compiled)
        key = hashlib.sha256("\n".join([host_platform(), *pins]).encode()).hexdigest()[:32]
        root = self._root or cache_root()
        folder = root / key
        if not (folder / "site").is_dir():
            _install(pins, root, folder)
        return HostDependencies(folder / "site", compiled)


def overlay(
    builds: HostBuilds, spec: FunctionSpec, task_root: Path, environment: dict[str, str]
) -> list[str]:
    """Point the worker's `environment` at the host builds of the code in `task_root`; the
    log lines saying so. A failed build leaves the uploaded ones: their import fails as it
    would on a platform they were not built for."""
    try:
        host = builds.prepare(spec.name, spec.code_sha, task_root)
    except HostBuildFailed as failed:
        return [f"[sandbox] {failed}"]
    if host is None:
        return []
    environment[HOST_PACKAGES_VARIABLE] = str(host.folder)
    return host.log_lines()


def _install(pins: list[str], root: Path, folder: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--target",
            str(work / "site"),
            "--no-deps",  # the zip already holds every dependency; only these are swapped
            "--prefer-binary",
            "--no-compile",
            "--disable-pip-version-check",
            "--no-input",
            *pins,
        ]
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
            raise HostBuildFailed(f"pip did not finish in {PIP_TIMEOUT_S:.0f}s") from None
        if done.returncode != 0:
            errors = [x for x in (done.stdout + done.stderr).splitlines() if "ERROR" in x]
            raise HostBuildFailed(
                f"the sandbox could not install {', '.join(pins)} for this machine "
                f"({host_platform()}): {' '.join(errors[-2:]) or done.stderr.strip()[-300:]}"
            )
        try:
            os.rename(work, folder)
        except OSError:
            if not (folder / "site").is_dir():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
