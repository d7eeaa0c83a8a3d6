"""What a plan says about the function's code: its size, hash, dependencies, where it changes.

Read off the plan's function changes (no extra AWS call): a region whose function
is created gets the code new, one whose CodeSha256 differs gets it changed, the
others already run it.
"""

from __future__ import annotations

from typing import Any

from failover_cli.bundle import CodeBundle
from failover_cli.engine.model import Action, Plan

FUNCTION_KIND = "function"


def code_report(plan: Plan) -> dict[str, Any] | None:
    """The code facts for `plan --json` (None when the plan holds no function to deploy)."""
    changes = [
        c for c in plan.changes if c.spec.kind == FUNCTION_KIND and c.action is not Action.DELETE
    ]
    code: CodeBundle | None = next(
        (c.spec.props.code for c in changes if getattr(c.spec.props, "code", None)), None
    )
    if code is None:
        return None
    regions: dict[str, str] = {}
    for change in changes:
        if change.action is Action.CREATE:
            regions[change.spec.region] = "new"
        elif any(f.field == "code_sha256" for f in change.fields):
            regions[change.spec.region] = "changed"
        else:
            regions[change.spec.region] = "unchanged"
    deps = code.dependencies
    return {
        "size": code.size,
        "unzipped_size": code.unzipped_size,
        "sha256": code.sha256,
        "changed": any(state != "unchanged" for state in regions.values()),
        "regions": regions,
        "dependencies": None
        if deps is None
        else {
            "platform": deps.target.platforms[0],
            "python": deps.target.python_version,
            "architecture": deps.target.architecture,
            "from_cache": deps.from_cache,
            "packages": [
                {"name": d.name, "version": d.version, "tags": list(d.tags)}
                for d in deps.distributions
            ],
        },
    }


def code_line(report: dict[str, Any]) -> str:
    """One line for people: 'Function code: 14.2 KB zipped (…), hash …: changed in us-east-1'."""
    by_state: dict[str, list[str]] = {}
    for region, state in report["regions"].items():
        by_state.setdefault(state, []).append(region)
    where = "; ".join(f"{state} in {', '.join(regions)}" for state, regions in by_state.items())
    deps = report["dependencies"]
    built = (
        f", {len(deps['packages'])} dependencies built for {deps['platform']} "
        f"(CPython {deps['python']})"
        if deps
        else ""
    )
    return (
        f"Function code: {_size(report['size'])} zipped, {_size(report['unzipped_size'])} "
        f"unzipped{built}, hash {report['sha256']}: {where}"
    )


def _size(size: int) -> str:
    return f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{size / 1024:.1f} KB"
