"""The refresher `<stack>-ip-ranges` within bounds (issue 22 item 6): its role names the
stack's own APIs and the pieces it writes, it uses only the document AWS's notification
announced (its md5), and a config whose environment Lambda would refuse (over 4 KB) is
refused offline. The role on a sandbox, after an API is made anew: test_access_auto_refresh.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from failover_cli.access import refresher_handler
from failover_cli.access.refresher_settings import ENVIRONMENT_MAX_BYTES
from failover_cli.config.loader import load_config
from failover_cli.resources.ip_refresher import permissions_document
from tests.e2e_helpers import failover, write_config
from tests.test_access_ranges import DOCUMENT

SETTINGS = {"checker_regions": ["us-east-1"], "regions": ["us-east-1"], "cidrs": []}


def _notification(md5: str) -> dict[str, Any]:
    message = {"create-time": "2025-12-04-08-00-00", "synctoken": "1764835200", "md5": md5}
    return {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(message)}}]}


@pytest.fixture
def document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """The ranges document the function downloads (a file URL), and its settings."""
    data = json.dumps(DOCUMENT, indent=1).encode()
    path = tmp_path / "ip-ranges.json"
    path.write_bytes(data)
    monkeypatch.setenv("SETTINGS", json.dumps({**SETTINGS, "resources": ["*"]}))
    monkeypatch.setenv("IP_RANGES_URL", path.as_uri())
    return data


def test_a_document_other_than_the_announced_one_is_not_used(
    document: bytes, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(refresher_handler, "_converge", lambda *a: pytest.fail("wrote a list"))
    other = hashlib.md5(document + b" ", usedforsecurity=False).hexdigest()
    assert refresher_handler.handler(_notification(other), None) == {"changed": []}
    said = capsys.readouterr().out
    assert f"not the {other} announced" in said and "nothing changed" in said
    assert refresher_handler.handler(_notification(""), None) == {"changed": []}


def test_the_announced_document_is_used(document: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[str] = []
    monkeypatch.setattr(
        refresher_handler, "_converge", lambda region, *a: written.append(region) or True
    )
    announced = hashlib.md5(document, usedforsecurity=False).hexdigest()
    assert refresher_handler.handler(_notification(announced), None) == {"changed": ["us-east-1"]}
    assert written == ["us-east-1"]


def test_the_roles_api_gateway_rights_name_the_stacks_apis_and_what_it_writes(
    tmp_path: Path,
) -> None:
    config = load_config(
        write_config(
            tmp_path, "shop", "access: {allow: [route53-health-checkers], auto_refresh: true}\n"
        )
    )
    statements = permissions_document(config)["Statement"]
    resources = {
        (action, resource)
        for s in statements
        if any(a.startswith("apigateway:") for a in s["Action"])
        for action in s["Action"]
        for resource in s["Resource"]
    }
    for region in config.regions:
        own = f"arn:aws:apigateway:{region}::/restapis/<api-id:{region}>"
        assert ("apigateway:PATCH", own) in resources
        assert ("apigateway:UpdateRestApiPolicy", own) in resources
        assert ("apigateway:POST", f"{own}/deployments") in resources
        assert ("apigateway:PATCH", f"{own}/stages/prod") in resources
    assert not [r for _, r in resources if r.endswith("*")]  # no API, no piece by wildcard


def _many_cidrs(count: int) -> str:
    # Hosts two apart: no two merge into one prefix.
    cidrs = ", ".join(f"198.{18 + i // 128}.{i % 128 * 2}.1/32" for i in range(count))
    return f"access:\n  allow: [route53-health-checkers, {cidrs}]\n  auto_refresh: true\n"


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_an_environment_over_lambdas_4_kb_is_refused_offline_naming_its_size(
    tmp_path: Path, command: str
) -> None:
    config = write_config(tmp_path, "shop", _many_cidrs(250))
    run = failover(config, command)
    assert run.exit_code == 2, run.stderr
    assert "access.allow" in run.stderr and "refresher's environment would take" in run.stderr
    assert f"over Lambda's {ENVIRONMENT_MAX_BYTES}" in run.stderr
    assert "auto_refresh: false" in run.stderr  # what to do
    assert not run.calls, run.calls


def test_many_cidrs_are_fine_without_the_refresher_and_within_4_kb_with_it(
    tmp_path: Path,
) -> None:
    without = _many_cidrs(250).replace("auto_refresh: true", "auto_refresh: false")
    assert failover(write_config(tmp_path, "shop", without), "validate").exit_code == 0
    assert failover(write_config(tmp_path, "shop", _many_cidrs(20)), "validate").exit_code == 0
