"""`failover validate`: the human summary, --json in both places, and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from failover_cli.cli.main import cli, main

VALID = "stack: hello\nregions: [us-west-2, us-east-1]\n"


def run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(args)
    code = exited.value.code
    return code if isinstance(code, int) else 1


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "failover.yaml"
    path.write_text(VALID, encoding="utf-8")
    return path


def test_summary_names_stack_primary_table_function_domain_and_checks(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--config", str(config_file), "validate"]) == 0
    out, err = capsys.readouterr()
    assert "is valid" in out
    assert "hello" in out
    assert "us-west-2 (primary), us-east-1" in out
    assert "prod.Hello" in out
    assert "thelambda" in out
    assert "no domain" in out
    assert "every 10 s" in out
    assert err == ""


def test_summary_shows_the_domain_and_routing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "failover.yaml"
    path.write_text(
        VALID + "domain: {name: hi.example.com, hosted_zone: example.com, routing: failover}\n"
    )
    assert run(["--config", str(path), "validate"]) == 0
    out = capsys.readouterr().out
    assert "hi.example.com in zone example.com, failover routing" in out


@pytest.mark.parametrize("where", ["global", "after-command"])
def test_json_prints_valid_and_the_whole_config(
    config_file: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    args = ["--config", str(config_file), "validate"]
    args = ["--json", *args] if where == "global" else [*args, "--json"]
    assert run(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True
    config = data["config"]
    assert config["stack"] == "hello"
    assert config["regions"] == ["us-west-2", "us-east-1"]
    assert config["table"]["autoscaling"] == {"min": 1, "max": 10, "target_percent": 50}
    assert config["domain"] is None
    assert Path(config["function"]["source"]).is_absolute()
    assert config["path"] == str(config_file)


def test_json_on_an_invalid_config_lists_the_problems_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "failover.yaml"
    path.write_text("stack: hello\nregions: [us-east-1]\nlogs: {retention_days: 2}\n")
    assert run(["--config", str(path), "validate", "--json"]) == 2
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["valid"] is False
    assert [(p["line"], p["key"]) for p in data["problems"]] == [
        (2, "regions"),
        (3, "logs.retention_days"),
    ]
    assert f"{path}:2: regions:" in err


def test_json_on_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--json", "--config", str(tmp_path / "nope.yaml"), "validate"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is False
    assert "failover init" in data["problems"][0]["problem"]


def test_config_path_from_the_environment(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAILOVER_CONFIG", str(config_file))
    assert run(["validate"]) == 0
    assert str(config_file) in capsys.readouterr().out


def test_default_path_is_failover_yaml_in_the_cwd(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(config_file.parent)
    assert run(["validate"]) == 0


def test_clirunner_sees_the_same_exit_codes(tmp_path: Path, config_file: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["--config", str(config_file), "validate"])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("stack: hello\nregions: [us-east-1, us-west-2]\nfunction: {timeout_s: 90}\n")
    failed = runner.invoke(cli, ["--config", str(bad), "validate"])
    assert failed.exit_code == 2
    assert f"{bad}:3: function.timeout_s:" in failed.stderr
