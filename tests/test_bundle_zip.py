"""What goes into the function's zip: only the bundle's own regular files, within Lambda's limits.

A link in `function.source` to a file outside it (`~/.aws/credentials`) must
never be uploaded to Lambda, and an oversized folder must stop `plan`/`up`
with exit 2 before anything is read whole or sent.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from moto import mock_aws

import failover_cli.bundle as bundle_module
from failover_cli.bundle import build_bundle
from failover_cli.errors import BadInput, ExitCode
from tests.e2e_helpers import failover, write_config

SECRET_BYTES = b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "code"
    source.mkdir()
    (source / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    return source


def _outside(tmp_path: Path) -> Path:
    """A secret file outside the bundle, like ~/.aws/credentials."""
    home = tmp_path / "home" / ".aws"
    home.mkdir(parents=True)
    credentials = home / "credentials"
    credentials.write_bytes(SECRET_BYTES)
    return credentials


def _contents(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_link_to_a_file_outside_is_skipped_and_reported(tmp_path: Path) -> None:
    source = _source(tmp_path)
    (source / "config.ini").symlink_to(_outside(tmp_path))
    code = build_bundle(source)
    contents = _contents(code.zip_bytes)
    assert list(contents) == ["handler.py"]
    assert not any(SECRET_BYTES in data for data in contents.values())
    assert SECRET_BYTES not in code.zip_bytes
    assert code.skipped == ("config.ini: a symbolic link",)


def test_a_linked_folder_is_not_followed(tmp_path: Path) -> None:
    source = _source(tmp_path)
    _outside(tmp_path)
    (source / "aws").symlink_to(tmp_path / "home" / ".aws", target_is_directory=True)
    code = build_bundle(source)
    assert list(_contents(code.zip_bytes)) == ["handler.py"]
    assert code.skipped == ("aws/: a symbolic link",)


def test_a_fifo_is_skipped_rather_than_read(tmp_path: Path) -> None:
    source = _source(tmp_path)
    os.mkfifo(source / "pipe")  # reading it would block `up` for ever
    code = build_bundle(source)
    assert list(_contents(code.zip_bytes)) == ["handler.py"]
    assert code.skipped == ("pipe: not a regular file",)


def test_a_linked_source_folder_itself_is_fine(tmp_path: Path) -> None:
    # The shipped bundle is a link to lambda_bundle/ in a checkout: the root may be one.
    source = _source(tmp_path)
    (source / "lib").mkdir()
    (source / "lib" / "util.py").write_text("X = 1\n")
    link = tmp_path / "linked"
    link.symlink_to(source, target_is_directory=True)
    code = build_bundle(link)
    assert sorted(_contents(code.zip_bytes)) == ["handler.py", "lib/util.py"]
    assert code.skipped == () and code.sha256 == build_bundle(source).sha256


def test_files_past_the_unzipped_limit_are_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(tmp_path)
    big = source / "data.bin"
    with big.open("wb") as handle:  # sparse: 300 MB on paper, nothing on disk
        handle.truncate(300 * 1024 * 1024)
    monkeypatch.setattr(Path, "read_bytes", _never_read)
    with pytest.raises(BadInput) as refused:
        build_bundle(source)
    assert refused.value.exit_code == ExitCode.BAD_INPUT
    assert "data.bin" in refused.value.message and "250 MB unzipped" in refused.value.message


def test_a_zip_past_the_upload_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(tmp_path)
    (source / "noise.bin").write_bytes(os.urandom(64 * 1024))  # does not compress
    monkeypatch.setattr(bundle_module, "MAX_ZIPPED_BYTES", 32 * 1024)
    with pytest.raises(BadInput, match="zipped, for a direct upload"):
        build_bundle(source)


def _never_read(self: Path) -> bytes:
    raise AssertionError(f"{self} was read although the sizes already exceed the limit")


def test_plan_says_what_it_left_out_and_an_oversized_bundle_exits_2(tmp_path: Path) -> None:
    source = _source(tmp_path)
    (source / "config.ini").symlink_to(_outside(tmp_path))
    config = write_config(tmp_path, "hello", f"  source: {source}\n")
    with mock_aws():
        run = failover(config, "plan")
    assert run.exit_code == 0, run.stderr  # it ran (everything to create)
    assert "left out of the function's code: config.ini: a symbolic link" in run.stderr
    with (source / "data.bin").open("wb") as handle:
        handle.truncate(300 * 1024 * 1024)
    refused = failover(config, "plan")
    assert refused.exit_code == 2, refused.stderr
    assert "too big for Lambda" in refused.stderr and refused.calls == []
