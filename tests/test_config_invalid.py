"""Invalid configs through `failover validate`: exit 2, file:line: key named, and no AWS call.

Each case is a whole file. `line` is the line where the offending key (or
list item) is written, or None when the key is absent from the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import botocore.client
import botocore.endpoint
import pytest

from failover_cli.cli.main import main

BASE = "stack: hello\nregions: [us-east-1, us-west-2]\n"  # lines 1-2; cases append from line 3
FORTY_ONE_TAGS = "tags:\n" + "".join(f"  t{index}: v\n" for index in range(41))
ENV_3K = "function:\n  environment:\n" + "".join(f"    VAR{i}: {'x' * 100}\n" for i in range(40))

CASES: list[tuple[str, str | bytes, str, int | None, str]] = [
    # (id, file content, dotted key, line, fragment of the problem)
    ("unknown-top-key", BASE + "tabel: {}\n", "tabel", 3, "did you mean table"),
    ("switch-interval", BASE + "switch:\n  interval_s: 20\n", "switch.interval_s", 4, "10"),
    (
        "switch-threshold",
        BASE + "switch:\n  failure_threshold: 0\n",
        "switch.failure_threshold",
        4,
        "1",
    ),
    ("switch-unknown", BASE + "switch:\n  interval: 10\n", "switch.interval", 4, "interval_s"),
    (
        "unknown-nested-key",
        BASE + "table:\n  partiton_key: Id\n",
        "table.partiton_key",
        4,
        "did you mean partition_key",
    ),
    ("stack-uppercase", "stack: Hello\nregions: [us-east-1, us-west-2]\n", "stack", 1, "lowercase"),
    (
        "stack-too-long",
        f"stack: {'a' * 33}\nregions: [us-east-1, us-west-2]\n",
        "stack",
        1,
        "1 to 32",
    ),
    (
        "stack-number",
        "stack: 123\nregions: [us-east-1, us-west-2]\n",
        "stack",
        1,
        "must be a string",
    ),
    ("stack-missing", "regions: [us-east-1, us-west-2]\n", "stack", None, "is required"),
    ("regions-missing", "stack: hello\n", "regions", None, "is required"),
    ("regions-one", "stack: hello\nregions: [us-east-1]\n", "regions", 2, "at least 2"),
    (
        "regions-duplicate",
        "stack: hello\nregions: [us-east-1, us-east-1]\n",
        "regions[1]",
        2,
        "list it once",
    ),
    (
        "regions-unknown",
        "stack: hello\nregions:\n  - us-east-1\n  - us-west-9\n",
        "regions[1]",
        4,
        "not an AWS region",
    ),
    (
        "regions-partitions",
        "stack: hello\nregions: [us-east-1, cn-north-1]\n",
        "regions[1]",
        2,
        "aws-cn partition",
    ),
    (
        "regions-china",
        "stack: hello\nregions: [cn-north-1, cn-northwest-1]\n",
        "regions[0]",
        2,
        "standard aws partition only",
    ),
    (
        "regions-govcloud",
        "stack: hello\nregions: [us-gov-west-1, us-gov-east-1]\n",
        "regions[0]",
        2,
        "standard aws partition only",
    ),
    ("regions-string", "stack: hello\nregions: us-east-1\n", "regions", 2, "must be a list"),
    ("table-name", BASE + "table:\n  name: ab\n", "table.name", 4, "3 to 255"),
    (
        "partition-key-empty",
        BASE + 'table:\n  partition_key: ""\n',
        "table.partition_key",
        4,
        "1 to 255 bytes",
    ),
    (
        "billing",
        BASE + "table:\n  billing: pay-per-request\n",
        "table.billing",
        4,
        "provisioned, on-demand",
    ),
    ("billing-bool", BASE + "table:\n  billing: yes\n", "table.billing", 4, "must be a string"),
    (
        "autoscaling-min",
        BASE + "table:\n  autoscaling: {min: 0}\n",
        "table.autoscaling.min",
        4,
        "between 1 and 40000",
    ),
    (
        "autoscaling-max-below-min",
        BASE + "table:\n  autoscaling:\n    min: 5\n    max: 2\n",
        "table.autoscaling.max",
        6,
        "at least min",
    ),
    (
        "autoscaling-max",
        BASE + "table:\n  autoscaling: {max: 50000}\n",
        "table.autoscaling.max",
        4,
        "40000",
    ),
    (
        "autoscaling-target",
        BASE + "table:\n  autoscaling: {target_percent: 95}\n",
        "table.autoscaling.target_percent",
        4,
        "between 20 and 90",
    ),
    (
        "int-is-bool",
        BASE + "table:\n  autoscaling: {min: true}\n",
        "table.autoscaling.min",
        4,
        "whole number, not true/false",
    ),
    (
        "int-is-float",
        BASE + "function:\n  memory_mb: 128.5\n",
        "function.memory_mb",
        4,
        "whole number",
    ),
    (
        "seed-without-key",
        BASE + "table:\n  seed_item: {Other: x, Hello: y}\n",
        "table.seed_item",
        4,
        "partition key",
    ),
    (
        "seed-only-key",
        BASE + "table:\n  seed_item: {HelloKey: Hello}\n",
        "table.seed_item",
        4,
        "at least one more attribute",
    ),
    (
        "seed-number",
        BASE + "table:\n  seed_item: {HelloKey: Hello, Hello: 5}\n",
        "table.seed_item.Hello",
        4,
        "must be a string",
    ),
    (
        "seed-default-other-key",
        BASE + "table:\n  partition_key: Id\n",
        "table.partition_key",
        4,
        "table.seed_item",
    ),
    ("function-name", BASE + "function:\n  name: my lambda\n", "function.name", 4, "1 to 64"),
    (
        "runtime",
        BASE + "function:\n  runtime: python3.9\n",
        "function.runtime",
        4,
        "python3.12, python3.13, python3.14",
    ),
    (
        "architecture",
        BASE + "function:\n  architecture: arm\n",
        "function.architecture",
        4,
        "arm64",
    ),
    ("memory", BASE + "function:\n  memory_mb: 64\n", "function.memory_mb", 4, "128 and 10240"),
    ("timeout", BASE + "function:\n  timeout_s: 30\n", "function.timeout_s", 4, "API Gateway"),
    (
        "deep-ping-percent",
        BASE + "function:\n  deep_ping_percent: 101\n",
        "function.deep_ping_percent",
        4,
        "between 0 and 100",
    ),
    (
        "source-missing",
        BASE + "function:\n  source: no_such_folder\n",
        "function.source",
        4,
        "does not exist",
    ),
    (
        "env-aws-prefix",
        BASE + "function:\n  environment:\n    AWS_REGION2: x\n",
        "function.environment.AWS_REGION2",
        5,
        "AWS_",
    ),
    (
        "env-tool-var",
        BASE + "function:\n  environment:\n    FORCE_FAIL: 'true'\n",
        "function.environment.FORCE_FAIL",
        5,
        "set by failover",
    ),
    (
        "env-bad-name",
        BASE + "function:\n  environment:\n    1X: a\n",
        "function.environment.1X",
        5,
        "not a valid variable name",
    ),
    (
        "env-value-bool",
        BASE + "function:\n  environment:\n    DEBUG: true\n",
        "function.environment.DEBUG",
        5,
        "quote it",
    ),
    (
        "env-list",
        BASE + "function:\n  environment: [A]\n",
        "function.environment",
        4,
        "must be a mapping",
    ),
    ("env-too-big", BASE + ENV_3K, "function.environment", 4, "4 KB"),
    ("stage", BASE + "api:\n  stage: prod-1\n", "api.stage", 4, "letters, digits or underscores"),
    (
        "domain-outside-zone",
        BASE + "domain:\n  name: hello.example.org\n  hosted_zone: x.com\n",
        "domain.name",
        4,
        "not in the hosted zone",
    ),
    (
        "domain-uppercase",
        BASE + "domain:\n  name: Hello.example.com\n  hosted_zone: x.com\n",
        "domain.name",
        4,
        "lowercase",
    ),
    (
        "domain-not-dns",
        BASE + "domain:\n  name: -x.example.com\n  hosted_zone: example.com\n",
        "domain.name",
        4,
        "not a DNS name",
    ),
    (
        "domain-too-long-for-acm",
        BASE + f"domain:\n  name: {'a' * 60}.example.com\n  hosted_zone: example.com\n",
        "domain.name",
        4,
        "common name",
    ),
    ("domain-no-zone", BASE + "domain:\n  name: hello.example.com\n", "domain", 3, "hosted_zone"),
    ("domain-not-mapping", BASE + "domain: hello.example.com\n", "domain", 3, "must be a mapping"),
    (
        "base-path",
        BASE + "domain:\n  name: a.example.com\n  hosted_zone: example.com\n  base_path: v1/x\n",
        "domain.base_path",
        6,
        "no slashes",
    ),
    (
        "routing",
        BASE + "domain:\n  name: a.example.com\n  hosted_zone: example.com\n  routing: weighted\n",
        "domain.routing",
        6,
        "latency, failover",
    ),
    (
        "failover-three-regions",
        "stack: hello\nregions: [us-east-1, us-west-2, eu-west-1]\ndomain:\n  name: a.example.com\n"
        "  hosted_zone: example.com\n  routing: failover\n",
        "domain.routing",
        6,
        "exactly 2 regions",
    ),
    (
        "ttl",
        BASE + "domain:\n  name: a.example.com\n  hosted_zone: example.com\n  ttl: -1\n",
        "domain.ttl",
        6,
        "between 0 and 172800",
    ),
    (
        "interval",
        BASE + "health_check:\n  interval_s: 20\n",
        "health_check.interval_s",
        4,
        "10, 30",
    ),
    (
        "threshold",
        BASE + "health_check:\n  failure_threshold: 11\n",
        "health_check.failure_threshold",
        4,
        "between 1 and 10",
    ),
    (
        "search-empty",
        BASE + 'health_check:\n  search_string: ""\n',
        "health_check.search_string",
        4,
        "1 to 255",
    ),
    (
        "search-not-in-answer",
        BASE + "health_check:\n  search_string: pong\n",
        "health_check.search_string",
        4,
        "shallow health answer",
    ),
    (
        "search-in-failure",
        BASE + "health_check:\n  search_string: e\n",
        "health_check.search_string",
        4,
        "failure answer",
    ),
    (
        "seed-lacks-search",
        BASE + "table:\n  seed_item:\n    HelloKey: Hello\n    Greeting: 'Hi '\n",
        "table.seed_item.Greeting",
        6,
        "search string",
    ),
    (
        "checkers-two",
        BASE + "health_check:\n  checker_regions: [us-east-1, us-west-1]\n",
        "health_check.checker_regions",
        4,
        "at least 3",
    ),
    (
        "checkers-unknown",
        BASE + "health_check:\n  checker_regions:\n    - us-east-1\n"
        "    - eu-central-1\n    - us-west-2\n",
        "health_check.checker_regions[1]",
        6,
        "Route 53 checker region",
    ),
    (
        "checkers-duplicate",
        BASE + "health_check:\n  checker_regions: [us-east-1, us-west-1, us-east-1]\n",
        "health_check.checker_regions[2]",
        4,
        "list it once",
    ),
    ("email", BASE + "alarms:\n  email: not-an-address\n", "alarms.email", 4, "e-mail address"),
    ("retention", BASE + "logs:\n  retention_days: 2\n", "logs.retention_days", 4, "1, 3, 5, 7"),
    ("tag-aws-prefix", BASE + "tags:\n  aws:owner: me\n", "tags.aws:owner", 4, "reserves"),
    (
        "tag-ownership",
        BASE + "tags:\n  failover:stack: other\n",
        "tags.failover:stack",
        4,
        "ownership tag",
    ),
    ("tag-value-long", BASE + f"tags:\n  team: {'v' * 300}\n", "tags.team", 4, "at most 256"),
    (
        "tag-value-number",
        BASE + "tags:\n  cost-centre: 42\n",
        "tags.cost-centre",
        4,
        "must be a string",
    ),
    ("tags-too-many", BASE + FORTY_ONE_TAGS, "tags", 3, "at most 40"),
    ("tag-key-not-string", BASE + "tags:\n  1: x\n", "tags", 4, "keys must be strings"),
    (
        "hostile-newline",
        'stack: "a\\nb"\nregions: [us-east-1, us-west-2]\n',
        "stack",
        1,
        "control character",
    ),
    ("hostile-long", BASE + f"table:\n  name: {'n' * 5000}\n", "table.name", 4, "at most 4096"),
    (
        "hostile-tab-in-env",
        BASE + 'function:\n  environment:\n    A1: "x\\ty"\n',
        "function.environment.A1",
        5,
        "control character",
    ),
    ("hostile-raw-control-char", BASE + "tags:\n  a: b\x07\n", "(syntax)", 4, "control character"),
    (
        "duplicate-key",
        "stack: hello\nstack: other\nregions: [us-east-1, us-west-2]\n",
        "stack",
        2,
        "appears twice",
    ),
    ("merge-key", BASE + "base: &b {name: x}\n", "base", 3, "not a known key"),
    ("merge-key-used", BASE + "table:\n  <<: {name: abc}\n", "table", 4, "merge key"),
    ("custom-yaml-tag", BASE + "api:\n  stage: !secret prod\n", "api.stage", 4, "tagged"),
    ("section-not-mapping", BASE + "table: prod.Hello\n", "table", 3, "must be a mapping"),
    ("top-level-list", "- stack\n- regions\n", "(top level)", 1, "mapping"),
    ("empty-file", "", "(file)", None, "is empty"),
    ("comments-only", "# nothing here\n", "(file)", None, "is empty"),
    (
        "syntax-error",
        "stack: hello\nregions: [us-east-1, us-west-2\ntable: {}\n",
        "(syntax)",
        3,
        "not valid YAML",
    ),
    ("two-documents", BASE + "---\nstack: other\n", "(syntax)", 3, "single document"),
    (
        "not-utf8",
        b"stack: hello\nregions: [us-east-1, us-west-2]\ntags: {a: \xff}\n",
        "(file)",
        3,
        "UTF-8",
    ),
    (
        "huge-list",
        "stack: hello\nregions: [" + ", ".join(["us-east-9"] * 5000) + "]\n",
        "regions",
        2,
        "at most 256",
    ),
    (
        "huge-mapping",
        BASE + "tags:\n" + "".join(f"  k{i}: v\n" for i in range(300)),
        "tags",
        3,
        "at most 256",
    ),
    ("deep-nesting", BASE + "tags: " + "[" * 20000 + "\n", "(syntax)", None, "too deeply"),
    (
        "deploy-order-partial",
        BASE + "deploy:\n  order: [us-west-2]\n",
        "deploy.order",
        4,
        "needs at least 2",
    ),
    (
        "deploy-order-stranger",
        BASE + "deploy:\n  order: [us-west-2, eu-west-1]\n",
        "deploy.order[1]",
        4,
        "not a region of `regions`",
    ),
    ("deploy-bake", BASE + "deploy:\n  bake: soon\n", "deploy.bake", 4, "not a duration"),
    ("deploy-bake-long", BASE + "deploy:\n  bake: 2h\n", "deploy.bake", 4, "at most 1h"),
    ("deploy-unknown", BASE + "deploy:\n  canary: 10\n", "deploy.canary", 4, "is not"),
]


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record (and refuse) any AWS request; validate must never make one."""
    calls: list[str] = []

    def refuse(self: object, *args: object, **kwargs: object) -> None:
        calls.append(f"{type(self).__name__}{args[:1]}")
        raise AssertionError("validate made an AWS call")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", refuse)
    yield calls


def run_cli(args: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(args)
    code = exited.value.code
    return code if isinstance(code, int) else 1


@pytest.mark.parametrize(
    ("content", "key", "line", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_invalid_config_exits_2_naming_file_line_and_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    aws_calls: list[str],
    content: str | bytes,
    key: str,
    line: int | None,
    fragment: str,
) -> None:
    path = tmp_path / "failover.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")

    code = run_cli(["--config", str(path), "validate"])

    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    location = f"{path}:{line}: {key}: " if line else f"{path}: {key}: "
    assert location in err, err
    assert fragment in err, err
    assert "Traceback" not in err
    assert aws_calls == []


def test_the_table_is_large_and_unique() -> None:
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)


def test_every_problem_in_a_file_is_reported_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], aws_calls: list[str]
) -> None:
    path = tmp_path / "failover.yaml"
    path.write_text(
        "stack: Hello\nregions: [us-east-1]\nfunction:\n  timeout_s: 60\n"
        "logs: {retention_days: 2}\n"
    )
    assert run_cli(["--config", str(path), "validate"]) == 2
    err = capsys.readouterr().err
    for located in (":1: stack:", ":2: regions:", ":4: function.timeout_s:", ":5: logs."):
        assert located in err
    assert aws_calls == []


def test_missing_file_says_how_to_get_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["--config", str(tmp_path / "absent.yaml"), "validate"]) == 2
    err = capsys.readouterr().err
    assert "absent.yaml" in err
    assert "failover init" in err
    assert "--config" in err


def test_a_folder_is_not_a_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--config", str(tmp_path), "validate"]) == 2
    assert "not a file" in capsys.readouterr().err


def test_oversized_file_is_refused_before_parsing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "failover.yaml"
    path.write_text(BASE + "# " + "x" * (1024 * 1024) + "\n")
    assert run_cli(["--config", str(path), "validate"]) == 2
    assert "at most 1 MiB" in capsys.readouterr().err


def test_source_folder_without_handler_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "code").mkdir()
    path = tmp_path / "failover.yaml"
    path.write_text(BASE + "function:\n  source: code\n")
    assert run_cli(["--config", str(path), "validate"]) == 2
    assert f"{path}:4: function.source: " in capsys.readouterr().err
