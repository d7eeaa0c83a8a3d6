"""Valid configs load into the frozen Config: defaults, paths, the example file, edge values."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from failover_cli.bundle import shipped_bundle_path
from failover_cli.config.loader import load_config
from failover_cli.config.schema import (
    Config,
    DomainConfig,
    FunctionConfig,
    HealthCheckConfig,
    TableConfig,
)
from failover_cli.config.starter import EXAMPLE, render_starter

REPO = Path(__file__).resolve().parent.parent
MINIMAL = "stack: hello\nregions: [us-east-1, us-west-2]\n"


def write(folder: Path, text: str, name: str = "failover.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def make_bundle(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    return folder


def test_minimal_config_takes_every_documented_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))

    expected = Config(stack="hello", regions=("us-east-1", "us-west-2"))
    assert dataclasses.replace(config, path=expected.path, function=expected.function) == expected
    assert dataclasses.replace(config.function, source=FunctionConfig.source) == FunctionConfig()
    assert config.primary_region == "us-east-1"
    assert config.domain is None
    assert config.alarms.email is None
    assert (config.switch.interval_s, config.switch.failure_threshold) == (30, 1)  # SPEC §3
    assert config.path == tmp_path / "failover.yaml"
    assert config.path.is_absolute()


def test_without_a_local_bundle_the_shipped_one_is_used(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.function.source == shipped_bundle_path()


def test_a_lambda_bundle_next_to_the_config_is_the_default_source(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "lambda_bundle")
    config = load_config(write(tmp_path, MINIMAL))
    assert config.function.source == bundle.resolve()


def test_relative_source_resolves_against_the_config_folder_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = make_bundle(tmp_path / "code")
    (tmp_path / "conf").mkdir()
    path = write(tmp_path / "conf", MINIMAL + "function:\n  source: ../code\n")
    monkeypatch.chdir(tmp_path)  # a folder where ../code means something else
    config = load_config(path)
    assert config.function.source == code.resolve()
    assert config.function.source.is_absolute()


def test_relative_config_path_works_from_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_bundle(tmp_path / "code")
    write(tmp_path, MINIMAL + "function:\n  source: code\n")
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("failover.yaml"))
    assert config.function.source == (tmp_path / "code").resolve()
    assert config.path == tmp_path / "failover.yaml"


def test_example_file_is_the_rendered_starter_and_loads(tmp_path: Path) -> None:
    example = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    assert example == render_starter(EXAMPLE), "regenerate config.example.yaml from starter.py"

    config = load_config(write(tmp_path, example))

    assert config.stack == "hello"
    assert config.regions == ("us-east-1", "us-west-2")
    assert config.domain == DomainConfig(name="hello.example.com", hosted_zone="example.com")
    assert config.alarms.email == "ops@example.com"
    # init names the table and function after the stack; the rest are the defaults.
    assert config.table == TableConfig(name="hello-table")
    assert config.function.name == "hello-function"
    assert config.health_check == HealthCheckConfig()


def test_example_documents_every_key_with_a_comment() -> None:
    lines = (REPO / "config.example.yaml").read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        code = line.split("#", 1)[0].strip()
        if not code or code.startswith("-"):
            continue
        above = lines[index - 1].strip() if index else ""
        assert "#" in line or above.startswith("#"), f"no comment for: {line}"


def test_failover_routing_with_two_regions(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            MINIMAL + "domain:\n  name: app.example.com\n  hosted_zone: example.com.\n"
            "  routing: failover\n  base_path: ''\n  ttl: 0\n",
        )
    )
    assert config.domain == DomainConfig(
        name="app.example.com", hosted_zone="example.com", base_path="", routing="failover", ttl=0
    )


@pytest.mark.parametrize("base_path", ["''", '""', "~", ""])
def test_empty_base_path_means_none(tmp_path: Path, base_path: str) -> None:
    domain = f"domain:\n  name: example.com\n  hosted_zone: example.com\n  base_path: {base_path}\n"
    text = MINIMAL + domain
    config = load_config(write(tmp_path, text))
    assert config.domain is not None
    assert config.domain.base_path == ""


def test_zone_apex_record_is_allowed(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, MINIMAL + "domain: {name: example.com, hosted_zone: example.com}\n")
    )
    assert config.domain is not None and config.domain.name == "example.com"


def test_every_value_at_its_limits(tmp_path: Path) -> None:
    text = (
        "stack: " + "a" * 32 + "\n"
        "regions: [eu-west-1, eu-central-1, ap-southeast-2]\n"
        "table:\n"
        "  name: " + "t" * 255 + "\n"
        "  partition_key: Id\n"
        "  billing: on-demand\n"
        "  autoscaling: {min: 40000, max: 40000, target_percent: 90}\n"
        "  seed_item: {Id: k, Greeting: 'Deep hello from ', Other: x}\n"
        "function:\n"
        "  name: " + "f" * 64 + "\n"
        "  runtime: python3.14\n"
        "  architecture: x86_64\n"
        "  memory_mb: 10240\n"
        "  timeout_s: 29\n"
        "  deep_ping_percent: 0\n"
        "  environment: {LOG_LEVEL: debug, A1: ''}\n"
        "api: {stage: v_2}\n"
        "health_check:\n"
        "  interval_s: 30\n"
        "  failure_threshold: 10\n"
        "  search_string: hello\n"
        "  checker_regions: [sa-east-1, eu-west-1, ap-northeast-1, us-west-2]\n"
        "alarms: {email: null}\n"
        "logs: {retention_days: 3653}\n"
        "tags:\n" + "".join(f"  'team {index}': 'a/b=c+d@e:f'\n" for index in range(40))
    )
    config = load_config(write(tmp_path, text))
    assert config.table.seed_item == {"Id": "k", "Greeting": "Deep hello from ", "Other": "x"}
    assert config.function.environment == {"LOG_LEVEL": "debug", "A1": ""}
    assert config.health_check.checker_regions[0] == "sa-east-1"
    assert len(config.tags) == 40
    assert config.logs.retention_days == 3653


def test_empty_sections_and_anchors(tmp_path: Path) -> None:
    text = (
        "stack: hello\n"
        "regions: &regions [us-east-1, us-west-2]\n"
        "table:\n"
        "function:\n"
        "  environment:\n"
        "domain:\n"
        "alarms:\n"
        "tags: {team: &team web, owner: *team}\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.table == TableConfig()
    assert config.function.environment == {}
    assert config.domain is None
    assert config.tags == {"team": "web", "owner": "web"}


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.stack = "other"  # type: ignore[misc]


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "failover.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_config(path).stack == "hello"


def test_importing_the_loader_does_not_import_botocore() -> None:
    code = (
        "import sys, failover_cli.config.loader, failover_cli.cli.cmd_validate; "
        "sys.exit('botocore' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False)
    assert done.returncode == 0
