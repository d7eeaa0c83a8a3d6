"""The sandbox itself: time until `failover sandbox` answers, and CPU used while idle.

Issue 4 asks for a start in under 2 s and an idle sandbox that burns no CPU;
both are measured on a real `failover sandbox` subprocess on a free loopback port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from benchmarks.report import Check, Section, Table, median, ms

START_BUDGET_S = 2.0
IDLE_SECONDS = 5.0
IDLE_BUDGET_PERCENT = 1.0
_TICKS = os.sysconf("SC_CLK_TCK")


def run(runs: int = 5) -> Section:
    section = Section("sandbox", "The sandbox: start-up and idle cost")
    starts = [_start_and_stop(measure_idle=False)[0] for _ in range(runs)]
    _, idle_cpu = _start_and_stop(measure_idle=True)
    idle_percent = 100.0 * idle_cpu / IDLE_SECONDS
    section.tables.append(
        Table(
            f"`failover sandbox` as a subprocess, median of {runs} starts",
            ("measure", "value"),
            (
                ("start until the first HTTP answer", ms(median(starts), 0)),
                ("slowest start", ms(max(starts), 0)),
                (f"CPU used over {IDLE_SECONDS:.0f} s idle", f"{idle_cpu * 1000:.0f} ms"),
            ),
        )
    )
    section.checks.append(
        Check("sandbox starts in under 2 s", max(starts) < START_BUDGET_S, ms(max(starts), 0))
    )
    section.checks.append(
        Check(
            "an idle sandbox uses under 1% of a core",
            idle_percent < IDLE_BUDGET_PERCENT,
            f"{idle_percent:.2f}%",
        )
    )
    section.data = {"start_seconds": starts, "idle_cpu_seconds": idle_cpu}
    return section


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        opener.open(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def _start_and_stop(*, measure_idle: bool) -> tuple[float, float]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "failover_cli", "sandbox", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/moto-api/data.json"
        while not _answers(url):
            if process.poll() is not None or time.perf_counter() - started > 30:
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.01)
        start = time.perf_counter() - started
        idle = 0.0
        if measure_idle:
            time.sleep(1.0)  # let start-up work finish
            before = _cpu_seconds(process.pid)
            time.sleep(IDLE_SECONDS)
            idle = _cpu_seconds(process.pid) - before
        return start, idle
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
