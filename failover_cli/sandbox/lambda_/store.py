"""Every function zip uploaded to the sandbox, kept by its SHA-256 (Lambda's CodeSha256).

Content-addressed: the same bytes uploaded for two functions or two versions
are kept once, and a function's current code is found from the `CodeSha256`
moto reports for it. Zips are small (Lambda caps direct uploads at 50 MB).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import threading
import zipfile
from pathlib import Path

UNZIP_ERROR = "Could not unzip uploaded file. Please check your file, then try to upload again."
# Lambda's quota on a deployment package's unzipped size, and its refusal, word for word
# (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). Checked on
# upload, from the sizes the zip declares (zipfile never inflates past them), so a zip
# bomb is refused before a worker unpacks it onto the disk.
MAX_UNZIPPED_BYTES = 262_144_000
TOO_BIG_ERROR = f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"


class BadZip(ValueError):
    """An upload Lambda would refuse (InvalidParameterValueException)."""


def code_sha256(data: bytes) -> str:
    """Base64 of the SHA-256, the way Lambda reports CodeSha256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def decode_upload(encoded: str) -> bytes:
    """The zip bytes of a `ZipFile` field (base64 in the JSON body), checked like Lambda does."""
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise BadZip(UNZIP_ERROR) from None
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise BadZip(UNZIP_ERROR)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise BadZip(UNZIP_ERROR) from None
    if unzipped >= MAX_UNZIPPED_BYTES:
        raise BadZip(TOO_BIG_ERROR)
    return data


class ZipStore:
    """Thread-safe: uploads arrive on request threads, invokes read from others."""

    def __init__(self) -> None:
        self._zips: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, data: bytes) -> str:
        sha = code_sha256(data)
        with self._lock:
            self._zips.setdefault(sha, data)
        return sha

    def get(self, sha: str) -> bytes | None:
        with self._lock:
            return self._zips.get(sha)

    def __len__(self) -> int:
        with self._lock:
            return len(self._zips)


def extract(data: bytes, folder: Path) -> None:
    """Unpack a zip into `folder`, refusing entries that would land outside it."""
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.infolist():
            target = (root / member.filename).resolve()
            if target != root and root not in target.parents:
                raise BadZip(f"zip entry {member.filename!r} points outside the function folder")
        archive.extractall(root)
