"""The sandbox's host builds: compiled dependencies of an uploaded zip, installed for this machine.

In-process and without a sandbox: a folder laid out as a function's unpacked zip
(the Lambda build of `fastcalc`, a pure `puretool`) is what HostBuilds reads.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from failover_cli.sandbox.lambda_.functions import FunctionSpec
from failover_cli.sandbox.lambda_.host_deps import (
    HostBuildFailed,
    HostBuilds,
    host_platform,
    overlay,
)
from failover_cli.sandbox.lambda_.worker import HOST_PACKAGES_VARIABLE
from tests.wheel_helpers import use_wheelhouse, wheelhouse


def _task_root(tmp_path: Path, wheels: Path) -> Path:
    """What `up` would upload for puretool + fastcalc on arm64, unpacked."""
    root = tmp_path / "task"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--target", str(root), "--no-index",
         "--find-links", str(wheels), "--platform", "manylinux2014_aarch64",
         "--python-version", "3.13", "--implementation", "cp", "--only-binary=:all:",
         "--disable-pip-version-check", "puretool==1.0", "fastcalc==1.0"],
        check=True, capture_output=True,
    )  # fmt: skip
    return root


def _spec(code_sha: str) -> FunctionSpec:
    return FunctionSpec(
        account="123456789012",
        region="us-east-1",
        name="fn",
        version="$LATEST",
        arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        handler="handler.handler",
        runtime="python3.13",
        timeout_s=3,
        memory_mb=128,
        code_sha=code_sha,
        environment=(),
        reserved_concurrency=None,
        package_type="Zip",
    )


def test_compiled_packages_are_rebuilt_for_this_machine_and_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = wheelhouse(tmp_path / "wheels")
    use_wheelhouse(monkeypatch, wheels)
    task = _task_root(tmp_path, wheels)
    builds = HostBuilds(tmp_path / "cache")
    environment: dict[str, str] = {}
    lines = overlay(builds, _spec("sha-1"), task, environment)
    folder = Path(environment[HOST_PACKAGES_VARIABLE])
    assert "BUILD = 'host'" in (folder / "fastcalc" / "__init__.py").read_text()
    assert not (folder / "puretool").exists()  # a pure-Python wheel runs as uploaded
    assert lines == [
        "[sandbox] fastcalc 1.0: uploaded build for manylinux2014_aarch64 (Lambda's platform); "
        f"running the build for {host_platform()} (this machine)"
    ]
    shutil.rmtree(wheels)  # a new code with the same packages needs no pip: the cache serves
    assert overlay(builds, _spec("sha-2"), task, {}) == lines


def test_a_package_with_no_build_for_this_machine_leaves_the_uploaded_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = wheelhouse(tmp_path / "wheels")
    task = _task_root(tmp_path, wheels)
    empty = tmp_path / "empty"
    empty.mkdir()
    use_wheelhouse(monkeypatch, empty)
    with pytest.raises(HostBuildFailed, match=r"could not install fastcalc==1\.0 for this"):
        HostBuilds(tmp_path / "cache").prepare("fn", "sha-1", task)
    environment: dict[str, str] = {}
    lines = overlay(HostBuilds(tmp_path / "cache2"), _spec("sha-1"), task, environment)
    assert environment == {} and len(lines) == 1 and "fastcalc==1.0" in lines[0]
