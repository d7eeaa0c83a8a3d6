"""The function's code: find the bundle folder and zip it reproducibly.

The zip is byte-for-byte the same for the same files on any machine (sorted
entries, fixed timestamps and modes), so its SHA-256 equals Lambda's
`CodeSha256` exactly when the code is unchanged and `up` can skip the upload.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

HANDLER = "handler.handler"  # module handler.py, function handler
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".git"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class CodeBundle:
    zip_bytes: bytes
    sha256: str  # base64, as Lambda reports CodeSha256

    @property
    def size(self) -> int:
        return len(self.zip_bytes)


def shipped_bundle_path() -> Path:
    """The starter bundle that ships inside the package (a link to lambda_bundle/ in a checkout)."""
    return Path(__file__).resolve().parent / "lambda_bundle"


def build_bundle(source: Path) -> CodeBundle:
    """Zip every file under `source` (minus caches) deterministically."""
    files = sorted(
        p
        for p in source.rglob("*")
        if p.is_file()
        and not _SKIP_DIRS.intersection(p.relative_to(source).parts)
        and p.suffix not in _SKIP_SUFFIXES
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    data = buffer.getvalue()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return CodeBundle(zip_bytes=data, sha256=digest)
