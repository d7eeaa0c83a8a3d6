"""Small wheels built by the tests, so dependency builds need no network.

`make_wheel` writes a valid wheel (METADATA, WHEEL with its tag, RECORD with
hashes) holding the given files. `wheelhouse` fills a folder with the ones the
dependency tests use:

- `puretool 1.0`, pure Python (`py3-none-any`);
- `fastcalc 1.0` as a fake compiled package in two builds: one for Lambda
  (`cp313-cp313-manylinux2014_aarch64`) and one for this machine, each saying
  which one it is (`fastcalc.BUILD`), next to a stand-in `.so` file;
- `hostonly 1.0`, with a wheel for this machine only (none for Lambda).

pip is pointed at the folder with `PIP_NO_INDEX=1` and `PIP_FIND_LINKS`.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

LAMBDA_TAG = "cp313-cp313-manylinux2014_aarch64"


def host_tag() -> str:
    """The most specific wheel tag this interpreter accepts (cp311-cp311-linux_x86_64)."""
    python = f"cp{sys.version_info.major}{sys.version_info.minor}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{python}-{python}-{platform}"


def make_wheel(folder: Path, name: str, version: str, tag: str, files: dict[str, bytes]) -> Path:
    info = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"
    ).encode()
    contents[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: failover-tests\nRoot-Is-Purelib: "
        f"{'true' if tag.endswith('-any') else 'false'}\nTag: {tag}\n\n"
    ).encode()
    record = []
    for path, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    contents[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = folder / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in contents.items():
            archive.writestr(path, data)
    return wheel


def _fastcalc(build: str) -> dict[str, bytes]:
    machine = "aarch64" if "aarch64" in build else "host"
    return {
        "fastcalc/__init__.py": (
            f"BUILD = {build!r}\n\ndef double(x):\n    return 2 * x\n"
        ).encode(),
        f"fastcalc/_speedups.{machine}.so": b"\x7fELF stand-in for compiled code\n",
    }


def wheelhouse(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pure = {"puretool/__init__.py": b"def greet(name):\n    return f'pure hello, {name}'\n"}
    make_wheel(folder, "puretool", "1.0", "py3-none-any", pure)
    make_wheel(folder, "fastcalc", "1.0", LAMBDA_TAG, _fastcalc("manylinux2014_aarch64"))
    make_wheel(folder, "fastcalc", "1.0", host_tag(), _fastcalc("host"))
    make_wheel(folder, "hostonly", "1.0", host_tag(), {"hostonly/__init__.py": b""})
    return folder


def use_wheelhouse(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """pip (the tool's and a sandbox started after this) installs from `folder` only."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
