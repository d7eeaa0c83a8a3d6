"""Shell completion, as the shell asks for it: a fresh `failover` process with click's
completion variables set (what `eval "$(_FAILOVER_COMPLETE=bash_source failover)"` wires up)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from failover_cli.cli.main import COMMANDS


def _complete(words: str, cwd: Path, **env: str) -> list[str]:
    """What bash completion offers for the last word of `words` (a trailing space: a new word)."""
    parts = words.split(" ")
    variables = {
        **os.environ,
        "_FAILOVER_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(parts) - 1),
        **env,
    }
    variables.pop("FAILOVER_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "failover_cli"],
        env=variables,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line.split(",", 1)[1] for line in done.stdout.splitlines() if "," in line]


def test_commands_and_options_complete(tmp_path: Path) -> None:
    assert "logs" in _complete("failover lo", tmp_path)
    assert "invoke" in _complete("failover inv", tmp_path)
    assert set(_complete("failover d", tmp_path)) == {n for n in COMMANDS if n.startswith("d")}
    assert "--allow-total-outage" in _complete("failover force-fail --al", tmp_path)


@pytest.mark.parametrize("command", ["force-fail", "drill", "logs", "invoke"])
def test_region_offers_the_stacks_regions_from_the_config(tmp_path: Path, command: str) -> None:
    config = tmp_path / "prod.yaml"
    config.write_text("stack: hello\nregions: [eu-west-1, us-west-2]\n", encoding="utf-8")
    offered = _complete(f"failover --config {config} {command} --region ", tmp_path)
    assert offered == ["eu-west-1", "us-west-2"]
    assert _complete(f"failover --config {config} {command} --region us", tmp_path) == ["us-west-2"]
    # ./failover.yaml and FAILOVER_CONFIG are read as the commands read them.
    (tmp_path / "failover.yaml").write_text(config.read_text(), encoding="utf-8")
    assert _complete(f"failover {command} --region eu", tmp_path) == ["eu-west-1"]


def test_region_offers_every_lambda_region_without_a_readable_config(tmp_path: Path) -> None:
    (tmp_path / "failover.yaml").write_text("stack: [not, a, name\n", encoding="utf-8")
    offered = _complete("failover force-fail --region ", tmp_path)
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(offered)
    assert not [r for r in offered if r.startswith(("cn-", "us-gov-"))]  # not this partition


def test_the_documented_setup_line_prints_a_bash_script(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "failover_cli"],
        env={**os.environ, "_FAILOVER_COMPLETE": "bash_source"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "complete -o nosort -F" in done.stdout and "_FAILOVER_COMPLETE" in done.stdout
