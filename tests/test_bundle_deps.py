"""The bundle's declared dependencies: built for Lambda's platform, cached, size-checked.

No network: pip installs from wheels this module builds (tests/wheel_helpers.py),
through its own PIP_NO_INDEX / PIP_FIND_LINKS settings, which the tool leaves to pip.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest

import failover_cli.bundle as bundle_module
from failover_cli.bundle import build_bundle
from failover_cli.deps.builder import cache_key, cache_root
from failover_cli.deps.declared import declared
from failover_cli.deps.target import LambdaTarget
from tests.e2e_helpers import failover, write_config
from tests.wheel_helpers import LAMBDA_TAG, host_tag, make_wheel, use_wheelhouse, wheelhouse

ARM = LambdaTarget("python3.13", "arm64")


@pytest.fixture
def wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = wheelhouse(tmp_path / "wheels")
    use_wheelhouse(monkeypatch, folder)
    return folder


def _source(folder: Path, requirements: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    (folder / "requirements.txt").write_text(requirements)
    return folder


def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def test_the_zip_holds_the_lambda_platform_build_not_the_hosts(
    tmp_path: Path, wheels: Path
) -> None:
    source = _source(tmp_path / "code", "puretool==1.0\nfastcalc==1.0  # compiled\n")
    code = build_bundle(source, ARM)
    archive = _zip(code.zip_bytes)
    names = archive.namelist()
    assert {"handler.py", "puretool/__init__.py", "fastcalc/__init__.py"} <= set(names)
    assert f"Tag: {LAMBDA_TAG}" in archive.read("fastcalc-1.0.dist-info/WHEEL").decode()
    assert "fastcalc/_speedups.aarch64.so" in names
    assert "fastcalc/_speedups.host.so" not in names
    assert b"manylinux2014_aarch64" in archive.read("fastcalc/__init__.py")
    assert code.dependencies is not None
    built = {d.name: d.tags for d in code.dependencies.distributions}
    assert built == {"fastcalc": (LAMBDA_TAG,), "puretool": ("py3-none-any",)}
    assert "manylinux2014_aarch64, CPython 3.13" in code.describe()
    assert host_tag() not in code.describe()


def test_two_builds_give_the_same_zip_and_the_second_runs_no_pip(
    tmp_path: Path, wheels: Path
) -> None:
    first = build_bundle(_source(tmp_path / "a", "puretool==1.0\nfastcalc==1.0\n"), ARM)
    assert first.dependencies is not None and not first.dependencies.from_cache
    shutil.rmtree(wheels)  # nothing left to download: only the cache can serve the second
    again = build_bundle(_source(tmp_path / "b", "puretool==1.0\nfastcalc==1.0\n"), ARM)
    assert again.dependencies is not None and again.dependencies.from_cache
    assert again.zip_bytes == first.zip_bytes and again.sha256 == first.sha256
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in _zip(again.zip_bytes).infolist())


def test_the_cache_is_keyed_by_requirements_runtime_and_architecture(tmp_path: Path) -> None:
    source = _source(tmp_path / "code", "puretool==1.0\n")
    first = cache_key(declared(source), ARM)
    (source / "requirements.txt").write_text("# the same, commented\npuretool==1.0  # pinned\n")
    assert cache_key(declared(source), ARM) == first
    assert cache_key(declared(source), LambdaTarget("python3.12", "arm64")) != first
    assert cache_key(declared(source), LambdaTarget("python3.13", "x86_64")) != first
    (source / "requirements.txt").write_text("puretool==1.1\n")
    assert cache_key(declared(source), ARM) != first


def test_pyproject_dependencies_are_built_too(tmp_path: Path, wheels: Path) -> None:
    source = tmp_path / "code"
    source.mkdir()
    (source / "handler.py").write_text("")
    (source / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\ndependencies = ["puretool==1.0"]\n'
    )
    assert "puretool/__init__.py" in _zip(build_bundle(source, ARM).zip_bytes).namelist()


def test_a_bundle_without_requirements_zips_as_before(tmp_path: Path) -> None:
    source = tmp_path / "code"
    source.mkdir()
    (source / "handler.py").write_text("")
    code = build_bundle(source)
    assert code.dependencies is None and _zip(code.zip_bytes).namelist() == ["handler.py"]
    assert not cache_root().exists()  # no pip, no cache


def test_platform_options_follow_runtime_and_architecture() -> None:
    assert ARM.pip_options()[:2] == ["--platform", "manylinux2014_aarch64"]
    assert "manylinux_2_34_aarch64" in ARM.platforms  # python3.12+ runs on Amazon Linux 2023
    old = LambdaTarget("python3.11", "x86_64")
    assert old.platforms == ("manylinux2014_x86_64",)
    assert old.pip_options()[-5:] == [
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--only-binary=:all:",
    ]


def test_a_requirement_without_a_lambda_wheel_exits_2_with_no_aws_call(
    tmp_path: Path, wheels: Path
) -> None:
    source = _source(tmp_path / "code", "puretool==1.0\nhostonly==1.0\n")
    config = write_config(tmp_path, "deps", f"  source: {source}\n")
    for command in (["plan"], ["up"]):
        run = failover(config, *command)
        assert run.exit_code == 2, run.stderr
        assert run.calls == []
        said = " ".join(run.stderr.split())
        assert "hostonly==1.0 has no wheel for Lambda's platform manylinux2014_aarch64" in said
        assert "Pin a version of hostonly" in said and "function.architecture" in said


def test_an_oversized_bundle_exits_2_naming_its_largest_packages(
    tmp_path: Path, wheels: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_wheel(wheels, "bigdata", "2.0", "py3-none-any", {"bigdata/blob.bin": b"\1" * 300_000})
    make_wheel(wheels, "middling", "1.0", "py3-none-any", {"middling/m.bin": b"\2" * 90_000})
    source = _source(tmp_path / "code", "bigdata==2.0\nmiddling==1.0\npuretool==1.0\n")
    config = write_config(tmp_path, "deps", f"  source: {source}\n")
    # Lambda's 250 MB, scaled down so the test writes kilobytes, not megabytes.
    monkeypatch.setattr(bundle_module, "MAX_UNZIPPED_BYTES", 256 * 1024)
    run = failover(config, "plan")
    assert run.exit_code == 2, run.stderr
    assert run.calls == []
    said = " ".join(run.stderr.split())
    assert "too big for Lambda" in said and "250 MB unzipped" in said
    largest = said.split("the largest parts, unzipped: ", 1)[1]
    assert largest.index("bigdata") < largest.index("middling") < largest.index("puretool")
