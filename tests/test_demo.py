"""`failover demo`, the README's main command, end to end in a subprocess."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.sandbox


def _processes_pointing_at(endpoint: str) -> list[str]:
    """Processes whose environment names the endpoint (the demo's function workers would)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if endpoint.encode() in environ.read_bytes():
                found.append(environ.parent.name)
        except OSError:
            continue
    return found


def test_demo_runs_every_step_and_leaves_nothing_behind(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FAILOVER_"))}
    env["PYTHONPATH"] = str(REPO)
    process = subprocess.run(
        [sys.executable, "-m", "failover_cli", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    for step in (
        "failover up",
        "failover status",
        "failover drill",
        "failover gc-logs",
        "failover down",
    ):
        assert step in output, step
    assert "Restored us-east-1 in the switch." in output  # the drill undid its force-fail
    assert "Sandbox stopped." in output
    # The sandbox's port is free again, and no worker outlived the demo.
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)", output).group(1))  # type: ignore[union-attr]
    with socket.socket() as probe:
        # SO_REUSEADDR ignores TIME_WAIT leftovers but still fails if anyone listens.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()
    assert _processes_pointing_at(f"http://127.0.0.1:{port}") == []
    assert list(tmp_path.iterdir()) == [], "the demo writes nothing into the current folder"
