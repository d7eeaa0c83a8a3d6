"""The sandbox itself: time until `failover sandbox` answers, CPU used while idle, and the
host CPU a fresh `up` costs it.

Issue 4 asks for a start in under 2 s and an idle sandbox that burns no CPU;
both are measured on a real `failover sandbox` subprocess on a free loopback port.
Issue 23 (a test suite that is CPU-bound on two cores) asks where a fresh `up`
spends the host's CPU: in the command, in the sandbox's server, in the Lambda
workers it starts, and what one health-checker request to a stack costs it (Route 53's
checkers send three every interval per check, twenty times as many at --time-scale 20).
Each is counted from /proc and the rusage of reaped children.
"""

from __future__ import annotations

import http.client
import os
import resource
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
    stacks, probes = _cpu_of_fresh_ups(STACKS)
    section.tables.append(
        Table(
            f"Host CPU of a fresh `up` (two regions, no domain), median of {STACKS} stacks "
            "in one sandbox",
            ("where", "CPU"),
            (
                ("the command (`failover up`, its own process)", ms(median(stacks["command"]))),
                ("the sandbox's server", ms(median(stacks["server"]))),
                ("its Lambda workers (and their fork server)", ms(median(stacks["workers"]))),
            ),
            notes=(
                "Workers are forked from a process with boto3 imported; each started "
                "afresh they cost about 0.4 s of CPU more each.",
            ),
        )
    )
    section.tables.append(
        Table(
            f"Sandbox CPU (server and workers) per health-check request, mean of {PROBES}",
            ("path", "CPU"),
            tuple((kind, ms(seconds[0], 1)) for kind, seconds in sorted(probes.items())),
            notes=(
                "API Gateway invokes the function in process (sandbox/in_process.py); over "
                "loopback with botocore a shallow request cost 11-13.5 ms, a deep one 16-21.",
            ),
        )
    )
    section.data = {
        "start_seconds": starts,
        "idle_cpu_seconds": idle_cpu,
        "fresh_up": stacks,
        "probe_cpu_seconds": probes,
    }
    return section


STACKS = 3
PROBES = 100
PROBE_PAUSE_S = 0.04  # 25 a second: under the stage's throttle (50 a second), so each runs


def _cpu_of_fresh_ups(count: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """CPU seconds per fresh `up` (the command's, the sandbox server's, its workers'), and
    the sandbox's per health-check request of those stacks (_cpu_per_probe)."""
    import tempfile
    from pathlib import Path

    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env.update(
        AWS_ACCESS_KEY_ID="benchmark",
        AWS_SECRET_ACCESS_KEY="benchmark",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        FAILOVER_RESOLVE=f"*={endpoint}",
        AWS_EC2_METADATA_DISABLED="true",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "failover_cli", "sandbox", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    found: dict[str, list[float]] = {"command": [], "server": [], "workers": []}
    try:
        while not _answers(f"{endpoint}/moto-api/data.json"):
            if process.poll() is not None:
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.05)
        with tempfile.TemporaryDirectory() as folder:
            # A first stack warms the server's moto backends; it is not counted.
            for n in range(count + 1):
                stack = f"cpu{n}"
                config = Path(folder) / f"{stack}.yaml"
                config.write_text(
                    f"stack: {stack}\nregions: [us-east-1, us-west-2]\n"
                    f"table: {{name: {stack}-table}}\nfunction: {{name: {stack}-fn}}\n"
                )
                server, workers = _cpu_seconds(process.pid), _tree_cpu_seconds(process.pid)
                command = _child_cpu_seconds()
                subprocess.run(
                    [sys.executable, "-m", "failover_cli", "--config", str(config), "up"],
                    env=env,
                    check=True,
                    capture_output=True,
                )
                time.sleep(2.0)  # the health checkers' first probes belong to this stack
                if n:
                    found["command"].append(_child_cpu_seconds() - command)
                    server_now = _cpu_seconds(process.pid)
                    found["server"].append(server_now - server)
                    found["workers"].append(
                        _tree_cpu_seconds(process.pid) - workers - (server_now - server)
                    )
        probes = _cpu_per_probe(process.pid, endpoint, env)
    finally:
        _stop(process)
    return found, probes


def _cpu_per_probe(pid: int, endpoint: str, env: dict[str, str]) -> dict[str, list[float]]:
    """Sandbox CPU seconds per GET of a stack's health-check paths, shallow and deep (the
    switch reader reads DynamoDB). The checkers are disabled first: only these requests run."""
    import boto3

    route53 = boto3.client(
        "route53",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    targets: dict[str, tuple[str, str]] = {}
    for check in route53.list_health_checks()["HealthChecks"]:
        config = check["HealthCheckConfig"]
        if not config.get("FullyQualifiedDomainName"):
            continue  # a calculated check: nothing to probe
        route53.update_health_check(HealthCheckId=check["Id"], Disabled=True)
        path = config.get("ResourcePath", "/")
        kind = (
            "deep: a switch reader (reads DynamoDB)" if "/switch/" in path else "shallow: /health"
        )
        targets.setdefault(kind, (config["FullyQualifiedDomainName"], path))
    time.sleep(1.0)  # probes already running finish
    port = int(endpoint.rsplit(":", 1)[1])
    found: dict[str, list[float]] = {}
    for kind, (host, path) in targets.items():
        before = _tree_cpu_seconds(pid)
        for _ in range(PROBES):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path, headers={"Host": host})
            answer = connection.getresponse()
            answer.read()
            connection.close()
            if answer.status != 200:
                raise RuntimeError(f"{kind} answered {answer.status}")
            time.sleep(PROBE_PAUSE_S)
        found[kind] = [(_tree_cpu_seconds(pid) - before) / PROBES]
    return found


def _child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tree_cpu_seconds(pid: int) -> float:
    """CPU of `pid` and every descendant, living or reaped (utime, stime, cutime, cstime)."""
    total = 0.0
    for each in [pid, *_descendants(pid)]:
        try:
            with open(f"/proc/{each}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile: its parent's cutime has it now, or soon
        total += sum(int(f) for f in fields[11:15]) / _TICKS
    return total


def _descendants(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listing:
            children = [int(c) for c in listing.read().split()]
    except OSError:
        return []
    return [c for child in children for c in (child, *_descendants(child))]


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
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as Ctrl-C would; SIGKILL if the sandbox has not ended within 15 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
