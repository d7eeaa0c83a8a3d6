"""`access:` in the config: validated offline (exit 2 naming file:line: key), and the warning
`validate` gives for `routes: all` without a CIDR of the operator's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from failover_cli.cli.main import cli
from failover_cli.config.loader import load_config
from failover_cli.config.schema import AccessConfig

BASE = "stack: hello\nregions: [us-east-1, us-west-2]\n"  # access starts on line 3


def validate(tmp_path: Path, text: str, *args: str) -> tuple[int, str, str]:
    path = tmp_path / "failover.yaml"
    path.write_text(BASE + text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "validate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_absent_means_no_allow_list(tmp_path: Path) -> None:
    (tmp_path / "failover.yaml").write_text(BASE, encoding="utf-8")
    assert load_config(tmp_path / "failover.yaml").access is None


def test_keyword_cidrs_and_addresses_are_read_and_normalised(tmp_path: Path) -> None:
    path = tmp_path / "failover.yaml"
    path.write_text(
        BASE + "access:\n  allow: [route53-health-checkers, 198.51.100.0/24, 2001:DB8::/32, "
        "203.0.113.5]\n",
        encoding="utf-8",
    )
    access = load_config(path).access
    assert access == AccessConfig(
        allow=("route53-health-checkers", "198.51.100.0/24", "2001:db8::/32", "203.0.113.5/32")
    )
    assert access.routes == "health" and access.checkers
    assert access.cidrs == ("198.51.100.0/24", "2001:db8::/32", "203.0.113.5/32")


@pytest.mark.parametrize(
    ("text", "key", "line", "fragment"),
    [
        ("access:\n  allow: [10.0.0.300/8]\n", "access.allow[0]", 4, "neither"),
        ("access:\n  allow: [198.51.100.7/24]\n", "access.allow[0]", 4,
         "did you mean 198.51.100.0/24"),
        ("access:\n  allow: []\n", "access.allow", 4, "refuse every caller"),
        ("access:\n  routes: all\n", "access", 3, "has no allow"),
        ("access:\n  allow: [route53-health-checkers]\n  routes: some\n", "access.routes", 5,
         "health, all"),
        ("access:\n  allow: [198.51.100.0/24, 198.51.100.0/24]\n", "access.allow[1]", 4,
         "list it once"),
        ("access:\n  allow: [198.51.100.0/24]\n  auto_refresh: true\n",
         "access.auto_refresh", 5, "nothing for it to refresh"),
        ("access:\n  allow: [route53-health-checkers]\n  auto_refresh: maybe\n",
         "access.auto_refresh", 5, "true or false"),
        ("access:\n  allowed: [route53-health-checkers]\n", "access.allowed", 4,
         "did you mean allow"),
    ],
)  # fmt: skip
def test_bad_access_is_exit_2_naming_the_key(
    tmp_path: Path, text: str, key: str, line: int, fragment: str
) -> None:
    code, _, stderr = validate(tmp_path, text)
    assert code == 2
    assert f"failover.yaml:{line}: {key}: " in stderr
    assert fragment in stderr


def test_validate_warns_when_every_route_is_closed_to_the_operator(tmp_path: Path) -> None:
    code, stdout, stderr = validate(
        tmp_path, "access:\n  allow: [route53-health-checkers]\n  routes: all\n", "--json"
    )
    assert code == 0
    assert "lists no CIDR of your own" in stderr
    assert json.loads(stdout)["warnings"] == [stderr.strip().removeprefix("warning: ")]
    code, _, stderr = validate(
        tmp_path, "access:\n  allow: [route53-health-checkers, 198.51.100.0/24]\n  routes: all\n"
    )
    assert code == 0 and "warning" not in stderr


def test_iam_policy_grants_update_rest_api_policy_only_with_access(tmp_path: Path) -> None:
    def actions(text: str) -> set[str]:
        path = tmp_path / "failover.yaml"
        path.write_text(BASE + text, encoding="utf-8")
        result = CliRunner().invoke(cli, ["--config", str(path), "iam-policy"])
        assert result.exit_code == 0, result.stderr
        return {a for s in json.loads(result.stdout)["Statement"] for a in _listed(s["Action"])}

    assert "apigateway:UpdateRestApiPolicy" not in actions("")
    assert "apigateway:UpdateRestApiPolicy" in actions(
        "access:\n  allow: [route53-health-checkers]\n"
    )


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_the_cost_estimate_counts_the_refresher_only_when_on(tmp_path: Path) -> None:
    from failover_cli.cost import estimate

    path = tmp_path / "failover.yaml"
    items = []
    for flag in ("false", "true"):
        path.write_text(
            BASE + f"access:\n  allow: [route53-health-checkers]\n  auto_refresh: {flag}\n",
            encoding="utf-8",
        )
        items.append([line.item for line in estimate(load_config(path)).lines])
    assert not any("refresher" in item for item in items[0])
    assert [item for item in items[1] if "refresher" in item] == [
        "Allow-list refresher requests",
        "Allow-list refresher duration",
    ]
