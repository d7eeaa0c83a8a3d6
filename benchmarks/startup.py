"""CLI start-up: `failover --help` and `failover validate` next to `aws --version`.

Every command runs as a fresh process, round-robin (so a noisy moment hits all
of them alike), after warm-up runs; the table shows the median and the fastest.
The executables are the real console scripts next to this interpreter, not
version-manager shims (a pyenv shim alone costs tens of milliseconds). `aws` is
the awscli package from PyPI: the one on PATH if it is that, else one installed
into a throw-away venv under the benchmark's cache folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.report import Check, Section, Table, median, ms
from failover_cli.cli.demo import DEMO_CONFIG

HELP_BUDGET_S = 0.2  # SPEC §7
RATIO_BUDGET = 3.0  # issue 6: --help at least 3x faster than `aws --version`
CACHE = Path(os.environ.get("FAILOVER_BENCH_CACHE") or Path(__file__).parent / ".cache")
BOTO_PROBE = """\
import contextlib, io, sys
from failover_cli.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(["--help"])
print(",".join(sorted(m for m in ("boto3", "botocore", "moto", "rich") if m in sys.modules)))
"""


@dataclass(frozen=True)
class Command:
    label: str
    argv: tuple[str, ...]
    cwd: Path | None = None


def run(runs: int = 15, warmup: int = 2) -> Section:
    section = Section("startup", "CLI start-up (wall time of a fresh process)")
    failover = _script("failover")
    if failover is None:
        raise RuntimeError("`failover` is not installed: run `pip install -e '.[test]'` first")
    aws, aws_version = find_awscli()
    with tempfile.TemporaryDirectory(prefix="failover-bench-") as folder:
        (Path(folder) / "failover.yaml").write_text(DEMO_CONFIG, encoding="utf-8")
        commands = [
            Command("python -c pass (bare interpreter)", (sys.executable, "-c", "pass")),
            Command("failover --help", (str(failover), "--help")),
            Command("failover validate", (str(failover), "validate"), Path(folder)),
            Command("aws --version", (str(aws), "--version")),
        ]
        times = _time_all(commands, runs, warmup)
    medians = {c.label: median(times[c.label]) for c in commands}
    aws_median = medians["aws --version"]
    rows = tuple(
        (
            c.label,
            ms(medians[c.label], 1),
            ms(min(times[c.label]), 1),
            f"{aws_median / medians[c.label]:.1f}x" if c.label != "aws --version" else "1.0x",
        )
        for c in commands
    )
    section.tables.append(
        Table(
            f"Median of {runs} runs each, after {warmup} warm-up runs",
            ("command", "median", "fastest", "faster than aws --version"),
            rows,
            (
                f"aws: {aws_version}",
                "failover validate checks the demo config (custom domain, failover routing) "
                "offline.",
            ),
        )
    )
    help_median = medians["failover --help"]
    ratio = aws_median / help_median
    section.checks.append(
        Check(
            "failover --help ≥ 3x faster than aws --version",
            ratio >= RATIO_BUDGET,
            f"{ratio:.1f}x ({ms(help_median, 1)} vs {ms(aws_median, 1)})",
        )
    )
    section.checks.append(
        Check(
            "failover --help under 0.2 s (SPEC §7)",
            help_median < HELP_BUDGET_S,
            ms(help_median, 1),
        )
    )
    loaded = _modules_loaded_by_help()
    section.checks.append(
        Check(
            "failover --help imports no boto3/botocore",
            not {"boto3", "botocore"} & set(loaded),
            f"heavy modules loaded: {', '.join(loaded) or 'none'}",
        )
    )
    section.data = {
        "runs": runs,
        "warmup": warmup,
        "seconds": times,
        "median_seconds": medians,
        "ratio_aws_over_help": ratio,
        "aws": {"path": str(aws), "version": aws_version},
        "modules_loaded_by_help": loaded,
    }
    return section


def _time_all(commands: list[Command], runs: int, warmup: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {c.label: [] for c in commands}
    for i in range(warmup + runs):
        for command in commands:
            seconds = _time_once(command)
            if i >= warmup:
                times[command.label].append(seconds)
    return times


def _time_once(command: Command) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        command.argv,
        cwd=command.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"`{command.label}` exited {done.returncode}: {done.stderr.decode()[-500:]}"
        )
    return seconds


def _script(name: str) -> Path | None:
    """The console script installed next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


def aws_version(path: Path) -> str | None:
    try:
        done = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = (done.stdout or done.stderr).strip()
    return text if done.returncode == 0 and text else None


def find_awscli() -> tuple[Path, str]:
    """`aws` from the awscli package (v1, Python): on PATH, else in a cached venv."""
    for candidate in (_script("aws"), _venv_bin(CACHE / "awscli-venv") / "aws"):
        if candidate is not None and candidate.is_file():
            version = aws_version(candidate)
            if version and version.startswith("aws-cli/1."):
                return candidate, version
    return _install_awscli(CACHE / "awscli-venv")


def _venv_bin(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def _install_awscli(venv: Path) -> tuple[Path, str]:
    print(f"Installing awscli into {venv} (once; reused by later runs)...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(_venv_bin(venv) / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "awscli"], check=True)
    aws = _venv_bin(venv) / "aws"
    version = aws_version(aws)
    if version is None:
        raise RuntimeError(f"awscli was installed into {venv} but `aws --version` fails")
    return aws, version


def _modules_loaded_by_help() -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", BOTO_PROBE], capture_output=True, text=True, check=True
    )
    return [m for m in done.stdout.strip().split(",") if m]
