"""Test-wide safety: no test may reach real AWS.

Credentials are fake, profiles and config files are hidden, and every AWS
endpoint points at loopback unless a test sets its own (moto in-process
intercepts before any request leaves; sandbox tests point at their server).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# The environment as the test run started, before any fixture hid it: only the opt-in
# live tests (tests/test_live_aws.py, `-m aws`) ever hand it to a command.
STARTING_ENVIRON = dict(os.environ)
LIVE_PROFILE = "FAILOVER_TEST_PROFILE"


def _let_ctrl_c_through() -> None:
    """A suite started in the background by a shell without job control inherits SIGINT
    ignored, and Python then installs no KeyboardInterrupt handler: every Ctrl-C test would
    fail. Put Python's own handler back; the commands these tests start inherit the default
    (a caught signal resets at exec), so they get theirs too."""
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


_let_ctrl_c_through()


def _moto_builds_no_url_builders() -> None:
    """In-process moto builds a service's werkzeug URL map on its first request, in whichever
    thread makes it, and werkzeug compiles each rule's URL builders through `ast.parse`.
    CPython 3.11's AST conversion is not thread-safe (gh-106905): two threads at it at once
    fail one with "SystemError: AST constructor recursion depth mismatch" (seen once, in
    `plan`). The sandbox's start-up patches (moto_warmup) compile builders on first use,
    which moto never makes; the same patches here remove the race and their CPU."""
    from failover_cli.sandbox import moto_warmup

    moto_warmup.install()


_moto_builds_no_url_builders()


def pytest_configure(config: pytest.Config) -> None:
    """Compile the package to bytecode once, before the workers start.

    With PYTHONDONTWRITEBYTECODE set (as on these CI machines) no process ever writes its
    .pyc files, so every sandbox and command subprocess the suite starts compiled the
    package's modules from source again: about half a second of CPU each, on a suite that
    is CPU-bound. Compiled here (the controller only) into the usual __pycache__ folders,
    which Python reads whatever that variable says; a source edited later is recompiled
    as usual (its timestamp no longer matches)."""
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller has done it
    import compileall
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for package in ("failover_cli", "tests"):
        compileall.compile_dir(str(root / package), quiet=2)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Live AWS tests run only when asked for twice: `-m aws` and a profile to use.
    Known failures (tests/known_failures.py) are marked xfail with their reason."""
    from tests.known_failures import reason_for

    for item in items:
        known = reason_for(item.nodeid)
        if known is not None:
            reason, run = known
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False, run=run))
    asked = "aws" in (config.option.markexpr or "")
    profile = STARTING_ENVIRON.get(LIVE_PROFILE)
    if asked and profile:
        return
    reason = (
        f"live AWS test: {LIVE_PROFILE} is not set (set it to an AWS profile to run it)"
        if asked
        else f"live AWS test: run `python -m pytest -m aws` with {LIVE_PROFILE} set"
    )
    for item in items:
        if item.get_closest_marker("aws"):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _no_real_aws(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("FAILOVER_"):
            monkeypatch.delenv(name, raising=False)
    empty = tmp_path_factory.mktemp("awshome")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
    # The tool's caches (the IP ranges document) stay out of the user's home.
    monkeypatch.setenv("XDG_CACHE_HOME", str(empty / "cache"))
    # Any request that slips past moto goes to a closed loopback port and fails
    # fast (moto intercepts before the proxy is used; sandbox tests set
    # AWS_ENDPOINT_URL to their own loopback server, which NO_PROXY exempts).
    for proxy in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,.localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost,.localhost")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield


# ---------------------------------------------------------------------------
# Sandbox fixtures
#
# A sandbox always runs in a subprocess (`python -m failover_cli sandbox`),
# never in the pytest process: other tests use moto's in-process `mock_aws`,
# which resets moto's global backends and would wipe a sandbox living here.
# One sandbox serves the whole session, so tests use unique resource names.
# ---------------------------------------------------------------------------

import signal  # noqa: E402  (this section's imports stay with the section)
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
SANDBOX_READY_TIMEOUT = 30.0  # seconds; a cold start takes well under 2


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SandboxProcess:
    """A `failover sandbox` subprocess; its stdout and stderr go to files."""

    process: subprocess.Popen[bytes]
    port: int
    stdout_path: Path
    stderr_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def answers(self) -> bool:
        # Bypass the test-wide proxy settings: this talks to loopback only.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            opener.open(f"{self.endpoint}/moto-api/data.json", timeout=2).close()
        except urllib.error.HTTPError:
            return True  # any HTTP answer means it is serving
        except OSError:
            return False
        return True

    def wait_until_ready(self, timeout: float = SANDBOX_READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"sandbox exited with {code}:\n{self.stderr()}")
            if self.answers():
                return
            time.sleep(0.05)
        raise RuntimeError(f"sandbox did not answer within {timeout}s:\n{self.stderr()}")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Signal the process (by its pid) and reap it; kill it if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)


def launch_sandbox_process(
    folder: Path, *args: str, port: int | None = None, global_args: tuple[str, ...] = ()
) -> SandboxProcess:
    """Start `python -m failover_cli [global_args] sandbox --port P [args]`; no waiting."""
    port = free_loopback_port() if port is None else port
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "FAILOVER_", "MOTO_"))
    }
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    )
    folder.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = folder / f"sandbox-{port}.out", folder / f"sandbox-{port}.err"
    command = [sys.executable, "-m", "failover_cli", *global_args, "sandbox", "--port", str(port)]
    # AWS's 24-hour hold on a replica's source table and API Gateway's slow release of a
    # certificate would make every up-then-down test wait: off by default here (a test
    # passes the options again to turn them on; the last value wins).
    command += ["--source-table-hold", "0s", "--certificate-release", "0s"]
    # Likewise Lambda's update-in-progress window and IAM's delay before a new role can be
    # assumed (tests/test_sandbox_aws_rules_lambda.py turns them on).
    command += ["--rule", "function_update_seconds=0", "--rule", "role_assumable_after=0"]
    # Its own e-mail outbox in the test's folder (a test passing --outbox again wins).
    command += ["--outbox", str(folder / "outbox")]
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [*command, *args],
            cwd=REPO_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    return SandboxProcess(process, port, stdout_path, stderr_path)


SESSION_SANDBOX: dict[str, Path] = {}  # "outbox": the session sandbox's e-mail folder


@pytest.fixture(scope="session")
def sandbox_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of one sandbox subprocess shared by the whole session."""
    folder = tmp_path_factory.mktemp("sandbox")
    SESSION_SANDBOX["outbox"] = folder / "outbox"
    sandbox = launch_sandbox_process(folder)
    try:
        sandbox.wait_until_ready()
        # The delay before DynamoDB sees new auto scaling makes the first replica request
        # of a provisioned stack fail or not by timing: tests counting an `up`'s calls
        # need it off here (tests/test_sandbox_aws_rules.py and the replica tests keep it).
        request = urllib.request.Request(
            f"{sandbox.endpoint}/_sandbox/rules",
            data=b'{"scaling_visible_after": 0}',
            method="POST",
        )
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10):
            pass
        yield sandbox.endpoint
    finally:
        sandbox.stop()


@pytest.fixture
def sandbox_outbox(sandbox_endpoint: str) -> Path:
    """Where the session sandbox writes SNS e-mail."""
    return SESSION_SANDBOX["outbox"]


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch, sandbox_endpoint: str) -> str:
    """Point boto3 (and the tool's own HTTP requests) at the session sandbox."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox_endpoint)
    monkeypatch.setenv("FAILOVER_RESOLVE", f"*={sandbox_endpoint}")
    return sandbox_endpoint


@pytest.fixture
def launch_sandbox(tmp_path: Path) -> Iterator[Callable[..., SandboxProcess]]:
    """Start extra sandbox subprocesses (own port, own options); all stopped at teardown.

    `launch_sandbox("--time-scale", "0.01")`, `launch_sandbox(port=P)`,
    `launch_sandbox(global_args=("--json",))`.
    """
    started: list[SandboxProcess] = []

    def launch(
        *args: str, port: int | None = None, global_args: tuple[str, ...] = ()
    ) -> SandboxProcess:
        folder = tmp_path / f"sandbox{len(started)}"
        sandbox = launch_sandbox_process(folder, *args, port=port, global_args=global_args)
        started.append(sandbox)
        return sandbox

    yield launch
    for sandbox in started:
        sandbox.stop()
