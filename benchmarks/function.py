"""The function: handler time of shallow and deep pings, module import time, zip size.

The handler runs in a child interpreter (`benchmarks.function_child`) so the
bundle's top-level modules never mix with this process's. Import times are
measured inside fresh interpreters around the `import` statement alone, so
interpreter start-up is not counted; `import boto3` is timed the same way for
comparison (the handler imports it only on the first deep ping).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.report import Check, Section, Table, median, ms
from failover_cli.bundle import build_bundle, shipped_bundle_path

SHALLOW_CALLS = 20_000
DEEP_CALLS = 300
IMPORT_RUNS = 15
ZIP_BUDGET = 20 * 1024  # SPEC §7
SHALLOW_BUDGET_S = 0.001  # SPEC §7: well under 1 ms
IMPORT_SHARE_BUDGET = 0.10  # "adds almost nothing beyond boto3": under a tenth of it
IMPORT_PROBE = """\
import sys, time
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "own":  # load the modules it imports from elsewhere (stdlib) first
    import ast, importlib, pathlib
    bundle = pathlib.Path(sys.argv[1])
    own = {{p.stem for p in bundle.glob("*.py")}}
    for path in bundle.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] not in own | {{"__future__"}}:
                    importlib.import_module(name)
started = time.perf_counter()
import {module}
print(time.perf_counter() - started)
"""


def run() -> Section:
    section = Section("function", "The function (lambda_bundle/handler.py)")
    bundle = shipped_bundle_path()
    pings = _pings(bundle)
    imports = _import_seconds(bundle, IMPORT_RUNS)
    code = build_bundle(bundle)
    shallow, deep = pings["shallow"], pings["deep"]
    section.tables.append(
        Table(
            f"Handler time per call, Python {sys.version.split()[0]} (Lambda runs python3.13)",
            ("measure", "median", "p99", "calls"),
            (
                (
                    "shallow ping (/health)",
                    _us(shallow["median_s"]),
                    _us(shallow["p99_s"]),
                    f"{shallow['calls']:,}",
                ),
                (
                    "deep ping (/health?deep=true, GetItem on moto in-process)",
                    _us(deep["median_s"]),
                    _us(deep["p99_s"]),
                    f"{deep['calls']:,}",
                ),
                (
                    "first deep ping (builds the DynamoDB client)",
                    ms(pings["deep_first_s"], 1),
                    "",
                    "1",
                ),
            ),
            (
                "The deep ping's time is botocore's and moto's work: on AWS, add one "
                "DynamoDB round trip in the region.",
            ),
        )
    )
    section.tables.append(
        Table(
            f"Cold start (median of {IMPORT_RUNS} fresh interpreters each) and package",
            ("measure", "value"),
            (
                ("import handler (all it loads, stdlib included)", ms(imports["handler"], 1)),
                (
                    "import handler, stdlib already loaded (the bundle's own code)",
                    ms(imports["own"], 1),
                ),
                (
                    "import boto3, for comparison (the first deep ping needs it)",
                    ms(imports["boto3"], 1),
                ),
                ("zip size (build_bundle)", f"{code.size:,} bytes ({code.size / 1024:.1f} KB)"),
            ),
            (
                "The handler imports boto3 only on its first deep ping: shallow pings never "
                "load it.",
            ),
        )
    )
    section.checks += [
        Check(
            "shallow ping well under 1 ms of handler time (SPEC §7)",
            shallow["median_s"] < SHALLOW_BUDGET_S / 10,
            f"median {_us(shallow['median_s'])}, p99 {_us(shallow['p99_s'])}",
        ),
        Check(
            "module import adds almost nothing beyond boto3 (own code < 10% of boto3's import)",
            imports["own"] < IMPORT_SHARE_BUDGET * imports["boto3"],
            f"{ms(imports['own'], 1)} of own code ({ms(imports['handler'], 1)} with the stdlib "
            f"it loads) vs {ms(imports['boto3'], 1)} for boto3",
        ),
        Check("zip under 20 KB (SPEC §7)", code.size < ZIP_BUDGET, f"{code.size:,} bytes"),
    ]
    section.data = {
        "python": sys.version.split()[0],
        "pings": pings,
        "import_seconds": imports,
        "zip_bytes": code.size,
        "zip_sha256": code.sha256,
    }
    return section


def _pings(bundle: Path) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.function_child",
            str(bundle),
            str(SHALLOW_CALLS),
            str(DEEP_CALLS),
        ],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the handler benchmark failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _import_seconds(bundle: Path, runs: int) -> dict[str, float]:
    """Median import times: the handler (everything it loads), the handler with the stdlib
    modules it uses already loaded (its own code alone), and boto3; interleaved runs."""
    probes = {"handler": ("handler", "all"), "own": ("handler", "own"), "boto3": ("boto3", "all")}
    times: dict[str, list[float]] = {name: [] for name in probes}
    for _ in range(runs):
        for name, (module, mode) in probes.items():
            code = IMPORT_PROBE.format(module=module)
            done = subprocess.run(
                [sys.executable, "-c", code, str(bundle), mode],
                capture_output=True,
                text=True,
                check=True,
            )
            times[name].append(float(done.stdout.strip()))
    return {name: median(values) for name, values in times.items()}


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs" if seconds < 0.001 else ms(seconds, 1)
