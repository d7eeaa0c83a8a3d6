"""`python -m benchmarks`: run every section, print one table per section, save the figures.

    python -m benchmarks                      # everything, about two minutes
    python -m benchmarks startup function     # some sections only
    python -m benchmarks --markdown           # tables as Markdown (docs/performance.md's)
    python -m benchmarks --record             # also keep results/<date>.json
    python -m benchmarks --show results/2026-11-28.json --markdown   # re-print a run

Exits 1 when a budget fails (after printing everything), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import machine
from benchmarks.report import Section, render_markdown, render_text

RESULTS = Path(__file__).resolve().parent / "results"


# Modules of this package, in the order they run.
SECTION_NAMES = (
    "startup",
    "clients",
    "sandbox",
    "commands",
    "changes",
    "releases",
    "function",
    "failover",
    "outage",
    "levers",
)


def _runner(name: str) -> Callable[[], Section]:
    # Imported on demand: `--show` needs none of them (nor the sandbox they start).
    run: Callable[[], Section] = importlib.import_module(f"benchmarks.{name}").run
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument(
        "sections",
        nargs="*",
        metavar="SECTION",
        help=f"sections to run, in this order by default: {' '.join(SECTION_NAMES)}",
    )
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument(
        "--record", action="store_true", help="also save the figures as results/<date>.json"
    )
    parser.add_argument("--show", type=Path, help="print a saved results file instead of running")
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in SECTION_NAMES]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}: choose from {' '.join(SECTION_NAMES)}")
    render = render_markdown if args.markdown else render_text

    if args.show is not None:
        return _show(args.show, args.markdown)

    info = machine.describe()
    print(_header(info, args.markdown), flush=True)
    sections: list[Section] = []
    started = time.monotonic()
    for name in args.sections or SECTION_NAMES:
        began = time.monotonic()
        print(f"\n... {name}", file=sys.stderr, flush=True)
        section = _runner(name)()
        section.data["benchmark_seconds"] = round(time.monotonic() - began, 1)
        sections.append(section)
        print("\n" + render(section), flush=True)
    results: dict[str, Any] = {
        "machine": info,
        "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seconds": round(time.monotonic() - started, 1),
        "sections": {s.name: s.to_json() for s in sections},
    }
    _save(results, RESULTS / "latest.json")
    if args.record:
        _save(results, RESULTS / f"{info['date']}.json")
    print(f"\nWhole run: {results['seconds']:.0f} s.", file=sys.stderr)
    return _verdict(sections)


def _show(path: Path, markdown: bool) -> int:
    saved = json.loads(path.read_text(encoding="utf-8"))
    print(_header(saved["machine"], markdown))
    sections = [Section.from_json(name, data) for name, data in saved["sections"].items()]
    for section in sections:
        print("\n" + (render_markdown if markdown else render_text)(section))
    return _verdict(sections)


def _header(info: dict[str, Any], markdown: bool) -> str:
    line = machine.one_line(info)
    return f"Measured on {line}." if markdown else f"failover benchmarks: {line}"


def _save(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"Figures saved to {path}", file=sys.stderr)


def _verdict(sections: list[Section]) -> int:
    checks = [c for s in sections for c in s.checks]
    failed = [c for c in checks if not c.passed]
    print(f"\nBudgets: {len(checks) - len(failed)} PASS, {len(failed)} FAIL", file=sys.stderr)
    for check in failed:
        print(f"  FAIL {check.name}: {check.detail}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
