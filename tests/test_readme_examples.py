"""The README's `--json | jq` examples read keys that exist (the old `.cost.total` printed
null): each is run on a stack that is not deployed (moto), and jq must find a value."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from tests.conftest import REPO_ROOT
from tests.e2e_helpers import failover, write_config

JQ_EXAMPLE = re.compile(r"^failover (?P<args>[^|\n]+?) \| jq '(?P<filter>[^']+)'", re.M)


def examples() -> list[tuple[list[str], str]]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    return [(m["args"].split(), m["filter"]) for m in JQ_EXAMPLE.finditer(text)]


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        yield write_config(tmp_path, "jq")


def test_the_readme_has_jq_examples() -> None:
    assert len(examples()) >= 2


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
@pytest.mark.parametrize(("args", "jq_filter"), examples(), ids=lambda v: str(v))
def test_each_jq_example_finds_its_keys(config: Path, args: list[str], jq_filter: str) -> None:
    run = failover(config, *args)
    assert run.exit_code in (0, 3), run.stderr  # status of a stack not deployed: 3
    document = json.loads(run.stdout)
    for key in re.findall(r"\{([^}]*)\}", jq_filter)[:1]:  # {a, b}: each key is there
        assert all(k.strip() in document for k in key.split(",")), (jq_filter, document)
    keys = subprocess.run(
        ["jq", "-c", jq_filter], input=run.stdout, capture_output=True, text=True, timeout=60
    )
    assert keys.returncode == 0, keys.stderr
    assert keys.stdout.strip() not in ("null", ""), (jq_filter, keys.stdout)
