"""The README's sandbox walk-through, run as written: a drifted example fails here.

The first shell block under "With the local sandbox" is taken from README.md and
run line by line through bash: the sandbox command as written (on a free port
instead of 4566, which another sandbox may hold), the export line checked against
what the sandbox prints (then the printed lines are used), and every other command
as written (4566 replaced by that port), each expected to exit 0. `up`'s printed
curl line for the domain must be the README's, and curl must get the public
route's answer. `failover` is the package run with this checkout's code.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, free_loopback_port

pytestmark = pytest.mark.sandbox
README = REPO_ROOT / "README.md"
WRITTEN_PORT = "4566"
PROXIES = {"http_proxy", "https_proxy", "no_proxy"}


def walkthrough() -> list[str]:
    """The block's commands: continuations joined, trailing comments dropped."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### With the local sandbox", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    commands = [re.sub(r"\s+#\s.*$", "", line).strip() for line in joined.splitlines()]
    return [" ".join(c.split()) if not c.startswith("export") else c for c in commands if c]


def test_the_readme_sandbox_walkthrough_runs_as_written(tmp_path: Path) -> None:
    commands = walkthrough()
    start, exports, *steps = commands
    assert start.startswith("failover sandbox ") and f"--port {WRITTEN_PORT}" in start
    assert exports.startswith("export ")
    assert steps[-1].startswith("failover down"), "the walk-through ends with down"

    port = str(free_loopback_port())
    # A user's shell: no AWS settings yet, and no stand-in proxy from the test harness.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "FAILOVER_")) and k.lower() not in PROXIES
    }
    env["PYTHONPATH"] = str(REPO_ROOT)
    sandbox_args = shlex.split(start)[2:]
    sandbox_args[sandbox_args.index("--port") + 1] = port
    out, err = tmp_path / "sandbox.out", tmp_path / "sandbox.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        sandbox = subprocess.Popen(
            [sys.executable, "-m", "failover_cli", "sandbox", *sandbox_args],
            env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, cwd=tmp_path,
        )  # fmt: skip
    try:
        printed = _printed_exports(out, err, sandbox)
        written = dict(item.split("=", 1) for item in shlex.split(exports)[1:])
        for name, value in written.items():  # the README shows what the sandbox prints
            assert printed.get(name) == value.replace(WRITTEN_PORT, port), (name, printed)
        env.update(printed)
        shell = 'failover() { "$PYTHON" -m failover_cli "$@"; }\n'
        env["PYTHON"] = sys.executable
        project = tmp_path / "project"
        project.mkdir()
        outputs: dict[str, str] = {}
        for step in steps:
            command = step.replace(WRITTEN_PORT, port)
            done = subprocess.run(
                ["bash", "-c", shell + command],
                cwd=project, env=env, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
            outputs[step] = done.stdout
        curl = next(s for s in steps if s.startswith("curl "))
        up = next(s for s in steps if s.startswith("failover up"))
        assert curl.replace(WRITTEN_PORT, port) in outputs[up], outputs[up]  # `up` printed it
        assert '"message": "Hi from' in outputs[curl], outputs[curl]
    finally:
        sandbox.terminate()
        try:
            sandbox.wait(timeout=30)
        except subprocess.TimeoutExpired:
            sandbox.kill()
            sandbox.wait()


def _printed_exports(out: Path, err: Path, sandbox: subprocess.Popen[bytes]) -> dict[str, str]:
    """The export lines, once the banner (printed after them) says it listens."""
    deadline = time.monotonic() + 120
    while "listening on" not in err.read_text():
        assert sandbox.poll() is None, err.read_text()
        assert time.monotonic() < deadline, err.read_text()
        time.sleep(0.1)
    found = {}
    for line in out.read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        found[name] = shlex.split(value)[0]
    return found
