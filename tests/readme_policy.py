"""The operator policy: as `failover iam-policy` prints it, and as docs/iam.md shows it.

Tests enforce the printed policy on the sandbox (removing an action from the registry
makes the test that needs it fail, naming it), and tests/test_iam_policy.py checks
that the one JSON block of docs/iam.md (linked from the README) is that output for
config.example.yaml.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "docs" / "iam.md"
SECTION = "# IAM permissions for the operator"


def readme_policy() -> dict[str, Any]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    end = section.find("\n# ", len(SECTION))
    section = section if end < 0 else section[:end]
    found = re.search(r"```json\n(.*?)\n```", section, re.S)
    assert found, f"docs/iam.md: no ```json block under {SECTION!r}"
    document: dict[str, Any] = json.loads(found.group(1))
    return document


def generated_policy(config: Path, *args: str) -> dict[str, Any]:
    """`failover --config <config> iam-policy <args>`, parsed."""
    from tests.e2e_helpers import failover

    run = failover(config, "iam-policy", *args)
    assert run.exit_code == 0, run.stderr
    assert not run.calls, "iam-policy must not call AWS"
    document: dict[str, Any] = json.loads(run.stdout)
    return document


def actions(document: dict[str, Any]) -> set[str]:
    """Every action the policy's Allow statements name."""
    found: set[str] = set()
    for statement in document["Statement"]:
        if statement["Effect"] == "Allow":
            listed = statement.get("Action", [])
            found.update([listed] if isinstance(listed, str) else listed)
    return found


def without(document: dict[str, Any], action: str) -> dict[str, Any]:
    """`document` minus `action` (a statement left with no action is dropped)."""
    assert action in actions(document), f"{action} is not in the policy"
    reduced = copy.deepcopy(document)
    kept = []
    for statement in reduced["Statement"]:
        listed = statement.get("Action", [])
        listed = [listed] if isinstance(listed, str) else listed
        statement["Action"] = [a for a in listed if a != action]
        if statement["Action"]:
            kept.append(statement)
    reduced["Statement"] = kept
    return reduced


def write(folder: Path, document: dict[str, Any], name: str = "policy.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path
