"""`failover init`: flags or prompts, checked before writing, bundle copied, never clobbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import failover_cli.bundle
from failover_cli.cli.main import cli
from failover_cli.config.loader import load_config


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the shipped starter bundle, with a cache folder that must not be copied."""
    bundle = tmp_path / "shipped" / "lambda_bundle"
    (bundle / "__pycache__").mkdir(parents=True)
    (bundle / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    (bundle / "app_routes.py").write_text("# add routes here\n")
    (bundle / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0")
    monkeypatch.setattr(failover_cli.bundle, "shipped_bundle_path", lambda: bundle)
    return bundle


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def invoke(args: list[str], input: str | None = None) -> Result:
    return CliRunner().invoke(cli, args, input=input)


def test_flags_only_writes_a_config_that_validate_accepts_and_copies_the_bundle(
    project: Path, shipped: Path
) -> None:
    target = project / "failover.yaml"
    result = invoke([
        "--config", str(target), "init", "--no-input", "--stack", "shop",
        "--regions", "eu-west-1, eu-central-1", "--domain", "shop.example.com",
        "--hosted-zone", "example.com", "--routing", "failover", "--email", "ops+shop@example.com",
    ])  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "failover --config" in result.stdout and " up " in result.stdout
    config = load_config(target)
    assert config.stack == "shop"
    assert config.regions == ("eu-west-1", "eu-central-1")
    # Names derived from the stack: a second stack in the account never shares them.
    assert (config.table.name, config.function.name) == ("shop-table", "shop-function")
    assert config.domain is not None
    assert (config.domain.name, config.domain.hosted_zone, config.domain.routing) == (
        "shop.example.com", "example.com", "failover",
    )  # fmt: skip
    assert config.alarms.email == "ops+shop@example.com"
    copied = project / "lambda_bundle"
    assert sorted(p.name for p in copied.iterdir()) == ["app_routes.py", "handler.py"]
    assert config.function.source == copied.resolve()
    assert "# " in target.read_text()  # commented, like config.example.yaml

    validated = invoke(["--config", str(target), "validate"])
    assert validated.exit_code == 0, validated.output


def test_no_input_uses_defaults_for_everything_not_given(
    project: Path, shipped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    result = invoke(["init", "--no-input"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("failover validate") == 1  # default path: no --config in the hints
    config = load_config(project / "failover.yaml")
    assert (config.stack, config.regions) == ("hello", ("us-east-1", "us-west-2"))
    assert config.domain is None and config.alarms.email is None


def test_domain_without_zone_defaults_to_its_parent(project: Path, shipped: Path) -> None:
    target = project / "failover.yaml"
    result = invoke(["--config", str(target), "init", "--no-input", "--domain", "a.b.example.com"])
    assert result.exit_code == 0, result.output
    domain = load_config(target).domain
    assert domain is not None and domain.hosted_zone == "b.example.com"


def test_prompts_take_every_answer(project: Path, shipped: Path) -> None:
    target = project / "failover.yaml"
    answers = "web\nus-east-2,us-west-1\napi.example.net\n\nlatency\nalerts@example.net\n"
    result = invoke(["--config", str(target), "init"], input=answers)

    assert result.exit_code == 0, result.output
    config = load_config(target)
    assert config.stack == "web"
    assert config.regions == ("us-east-2", "us-west-1")
    assert config.domain is not None and config.domain.hosted_zone == "example.net"
    assert config.alarms.email == "alerts@example.net"


def test_prompts_ask_again_after_a_bad_answer(project: Path, shipped: Path) -> None:
    target = project / "failover.yaml"
    answers = "Bad Name\nweb\nus-east-1\nus-east-1,us-wset-2\nus-east-1,us-west-2\n\n\n"
    result = invoke(["--config", str(target), "init"], input=answers)
    assert result.exit_code == 0, result.output
    assert "stack name is 1 to 32" in result.output
    assert "at least 2 distinct regions" in result.output
    assert "us-wset-2, which are not AWS regions with Lambda (did you mean us-west-2?)" in (
        result.output
    )
    assert "[hello]" in result.output  # each prompt shows its default
    assert load_config(target).stack == "web"


def test_refuses_to_overwrite_without_force(project: Path, shipped: Path) -> None:
    target = project / "failover.yaml"
    target.write_text("# mine\n")
    result = invoke(["--config", str(target), "init", "--no-input"])
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert target.read_text() == "# mine\n"
    assert not (project / "lambda_bundle").exists()

    forced = invoke(["--config", str(target), "init", "--no-input", "--force", "--stack", "again"])
    assert forced.exit_code == 0, forced.output
    assert load_config(target).stack == "again"


def test_refuses_before_prompting(project: Path, shipped: Path) -> None:
    target = project / "failover.yaml"
    target.write_text("# mine\n")
    result = invoke(["--config", str(target), "init"], input="")
    assert result.exit_code == 2
    assert "Stack name" not in result.output


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--regions", "us-east-1"], "--regions"),
        (["--regions", "us-east-1,mars-north-1"], "--regions"),
        (["--stack", "Bad_Stack"], "--stack"),
        (["--stack", "a\nfoo: bar"], "--stack"),
        (["--domain", "x.example.org", "--hosted-zone", "example.com"], "--domain"),
        (
            [
                "--domain",
                "x.example.com",
                "--routing",
                "failover",
                "--regions",
                "us-east-1,us-west-2,eu-west-1",
            ],
            "--routing",
        ),
        (["--email", "nobody"], "--email"),
    ],
)
def test_a_bad_answer_writes_nothing(
    project: Path, shipped: Path, flags: list[str], named: str
) -> None:
    target = project / "nested" / "failover.yaml"
    result = invoke(["--config", str(target), "init", "--no-input", *flags])
    assert result.exit_code == 2, result.output
    assert "Nothing was written" in result.stderr
    assert named in result.stderr
    assert "Traceback" not in result.output
    assert list(project.iterdir()) == []  # no config, no temp file, no folder, no bundle


def test_a_bad_answer_in_an_existing_folder_leaves_no_temp_file(
    project: Path, shipped: Path
) -> None:
    result = invoke(["--config", str(project / "f.yaml"), "init", "--no-input", "--regions", "x"])
    assert result.exit_code == 2
    assert list(project.iterdir()) == []


def test_an_existing_lambda_bundle_is_kept(project: Path, shipped: Path) -> None:
    mine = project / "lambda_bundle"
    mine.mkdir()
    (mine / "handler.py").write_text("# my code\n")
    result = invoke(["--config", str(project / "failover.yaml"), "init", "--no-input"])
    assert result.exit_code == 0, result.output
    assert "Kept the existing lambda_bundle" in result.stdout
    assert sorted(p.name for p in mine.iterdir()) == ["handler.py"]
    assert (mine / "handler.py").read_text() == "# my code\n"


def test_json_output(project: Path, shipped: Path) -> None:
    target = project / "failover.yaml"
    result = invoke(["--config", str(target), "init", "--no-input", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["config"] == str(target)
    assert data["bundle"] == str(project / "lambda_bundle")
    assert data["regions"] == ["us-east-1", "us-west-2"]


def test_the_real_shipped_bundle_is_copied_without_caches(project: Path) -> None:
    result = invoke(["--config", str(project / "failover.yaml"), "init", "--no-input"])
    assert result.exit_code == 0, result.output
    shipped = failover_cli.bundle.shipped_bundle_path()
    expected = sorted(
        p.relative_to(shipped).as_posix()
        for p in shipped.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    copied = project / "lambda_bundle"
    assert sorted(p.relative_to(copied).as_posix() for p in copied.rglob("*") if p.is_file()) == (
        expected
    )
    assert not list(copied.rglob("__pycache__"))
