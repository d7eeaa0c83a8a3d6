"""Every command's --help states its exit codes and points at nothing in the source tree;
--json, --config and durations read the same everywhere."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from failover_cli.cli.main import COMMANDS, cli


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_states_the_exit_codes_and_no_source_file(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Exit codes" in text and "0 " in text, text
    assert not re.search(r"\b[\w/]+\.(py|md)\b", text), text  # no file of the source tree


def test_the_global_help_names_the_config_variable() -> None:
    text = " ".join(CliRunner().invoke(cli, ["--help"]).output.split())
    assert "--config PATH" in text and "FAILOVER_CONFIG" in text


@pytest.mark.parametrize("command", ["iam-policy", "demo", "doctor"])
def test_json_is_accepted_after_every_command_name(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--json", "--help"])
    assert result.exit_code == 0, result.output


def test_doctor_dns_timeout_is_a_duration() -> None:
    for value in ("5s", "2m", "fast"):
        result = CliRunner().invoke(cli, ["doctor", "--dns-timeout", value, "--help"])
        assert result.exit_code == 0  # --help wins: the value is checked when run
    bad = CliRunner().invoke(cli, ["--config", "nowhere.yaml", "doctor", "--dns-timeout", "fast"])
    assert bad.exit_code == 2 and "--dns-timeout" in bad.output
    late = CliRunner().invoke(cli, ["--config", "nowhere.yaml", "doctor", "--dns-timeout", "2m"])
    assert late.exit_code == 2 and "at most 60s" in late.output
