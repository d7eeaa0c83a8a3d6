"""The function's code: find the bundle folder and zip it reproducibly and safely.

The zip is byte-for-byte the same for the same files on any machine (sorted
entries, fixed timestamps and modes), so its SHA-256 equals Lambda's
`CodeSha256` exactly when the code is unchanged and `up` can skip the upload.

Only regular files that really live under `function.source` go in: symbolic
links are skipped (and reported), so a link to `~/.aws/credentials` is never
uploaded to Lambda; so are FIFOs and devices, which reading would block on.
Sizes are checked before anything is read, against Lambda's limits
(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):
250 MB unzipped, 50 MB zipped for a direct upload; the error names the largest
packages.

Dependencies the bundle declares (`requirements.txt`, pyproject's
dependencies) are built for the function's runtime and architecture by
`failover_cli.deps` and zipped at the root next to the bundle's own files
(which win where both hold the same path), as Lambda imports them from there.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from failover_cli.errors import BadInput

if TYPE_CHECKING:
    from failover_cli.deps.builder import BuiltDependencies
    from failover_cli.deps.target import LambdaTarget

HANDLER = "handler.handler"  # module handler.py, function handler
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # Lambda: deployment package, unzipped, all files
MAX_ZIPPED_BYTES = 50 * 1024 * 1024  # Lambda: .zip uploaded directly through the API
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".git"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class CodeBundle:
    zip_bytes: bytes
    sha256: str  # base64, as Lambda reports CodeSha256
    skipped: tuple[str, ...] = ()  # "<relative path>: <why>" for what was left out
    unzipped_size: int = 0
    dependencies: BuiltDependencies | None = None  # None: the bundle declares none

    @property
    def size(self) -> int:
        return len(self.zip_bytes)

    def describe(self) -> str:
        """One line for people: sizes, hash and what the dependencies are built for."""
        text = f"{_kb(self.size)} zipped, {_kb(self.unzipped_size)} unzipped, hash {self.sha256}"
        if self.dependencies is not None:
            text += f"; {self.dependencies.describe()}"
        return text


def shipped_bundle_path() -> Path:
    """The starter bundle that ships inside the package (a link to lambda_bundle/ in a checkout)."""
    return Path(__file__).resolve().parent / "lambda_bundle"


def build_bundle(
    source: Path,
    target: LambdaTarget | None = None,
    say: Callable[[str], None] | None = None,
) -> CodeBundle:
    """Zip every regular file under `source` (minus caches and links) and the dependencies
    it declares, built for `target` (default: python3.13 on arm64), deterministically.

    Raises BadInput (exit 2) when a dependency has no wheel for the platform or the
    files exceed Lambda's size limits.
    """
    from failover_cli.deps.builder import build_dependencies
    from failover_cli.deps.target import LambdaTarget

    root = source.resolve()  # the folder itself may be a link (the shipped bundle is one)
    files, skipped = _collect(root)
    deps = build_dependencies(root, target or LambdaTarget(), say)
    entries = {relative: (root / relative, size) for relative, size in files}
    if deps is not None:
        for relative, size in _collect(deps.folder)[0]:
            entries.setdefault(relative, (deps.folder / relative, size))
    ordered = sorted(entries.items(), key=lambda item: item[0].split("/"))
    total = 0
    for relative, (_path, size) in ordered:
        total += size
        if total > MAX_UNZIPPED_BYTES:
            what = f"{relative} brings the files to {_mb(total)} unzipped"
            raise _too_big(source, what, 250, ordered, deps)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative, (path, _size) in ordered:
            info = zipfile.ZipInfo(relative, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
            if buffer.tell() > MAX_ZIPPED_BYTES:
                what = f"the zip passes {_mb(buffer.tell())} at {relative}"
                raise _too_big(source, what, 50, ordered, deps)
    data = buffer.getvalue()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return CodeBundle(data, digest, tuple(skipped), total, deps)


def _collect(root: Path) -> tuple[list[tuple[str, int]], list[str]]:
    """(relative path, size) of the files to zip, sorted; and what was skipped, and why."""
    files: list[tuple[str, int]] = []
    skipped: list[str] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        here = Path(folder)
        for name in list(dirs):
            if name in _SKIP_DIRS:
                dirs.remove(name)
            elif (here / name).is_symlink():  # os.walk does not descend; say so
                skipped.append(f"{_relative(root, here / name)}/: a symbolic link")
        for name in names:
            path = here / name
            relative = _relative(root, path)
            if path.suffix in _SKIP_SUFFIXES:
                continue
            mode = path.lstat()
            if stat.S_ISLNK(mode.st_mode):
                skipped.append(f"{relative}: a symbolic link")
            elif not stat.S_ISREG(mode.st_mode):
                skipped.append(f"{relative}: not a regular file")
            else:
                files.append((relative, mode.st_size))
    # By path segments, as Path objects sort: the same order (and zip) as before this module
    # walked by hand, so existing stacks see no code change.
    return sorted(files, key=lambda item: item[0].split("/")), sorted(skipped)


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _kb(size: int) -> str:
    return _mb(size) if size >= 1024 * 1024 else f"{size / 1024:.1f} KB"


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _too_big(
    source: Path,
    what: str,
    limit_mb: int,
    entries: list[tuple[str, tuple[Path, int]]],
    deps: BuiltDependencies | None,
) -> BadInput:
    from failover_cli.deps.installed import largest

    kind = "unzipped" if limit_mb == 250 else "zipped, for a direct upload"
    sizes = [(relative, size) for relative, (_path, size) in entries]
    biggest = largest(sizes, deps.distributions if deps else ())
    listed = ", ".join(f"{name} {_mb(size)}" for name, size in biggest)
    return BadInput(
        f"The function's code in {source} is too big for Lambda: {what} "
        f"(at most {limit_mb} MB {kind}); the largest parts, unzipped: {listed}",
        hint=(
            "Drop dependencies the function does not need from requirements.txt, and "
            "leave data files out of function.source."
        ),
    )
