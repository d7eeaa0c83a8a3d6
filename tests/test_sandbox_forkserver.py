"""The sandbox's fork server: workers forked from a process with boto3 loaded are the same
fresh environment a new interpreter gives, end as the sandbox sees them end, and a function
that brings its own boto3 still gets its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from failover_cli.sandbox.lambda_.forkserver import ForkServer
from tests.sandbox_api_helpers import eventually
from tests.test_sandbox_lambda import EAST, create_function, invoke, make_zip

LIFELINE = "TEST_LIFELINE"

# Says what it was given, then waits for a line on stdin and exits with the number in it.
SCRIPT = """
import json, os, sys
print(json.dumps({
    "cwd": os.getcwd(),
    "env": dict(os.environ),
    "argv": sys.argv,
    "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
    "session_leader": os.getsid(0) == os.getpid(),
    "boto3_loaded": "boto3" in sys.modules,
    "isolated": bool(sys.flags.isolated),
}), flush=True)
os._exit(int(sys.stdin.readline() or 0))
"""


@pytest.fixture
def server() -> Iterator[ForkServer]:
    forks = ForkServer()
    yield forks
    forks.close()


class Child:
    """A forked script with the pipes the sandbox would give a worker."""

    def __init__(self, forks: ForkServer, folder: Path, env: dict[str, str]):
        script = folder / "script.py"
        script.write_text(SCRIPT)
        child_in, self._stdin = os.pipe()
        self._stdout, child_out = os.pipe()
        lifeline, self._lifeline = os.pipe()
        with (folder / "stderr").open("wb") as stderr:
            try:
                self.process = forks.spawn(
                    script=script,
                    cwd=folder,
                    env=env,
                    lifeline_variable=LIFELINE,
                    fds=(child_in, child_out, stderr.fileno(), lifeline),
                )
            finally:
                for fd in (child_in, child_out, lifeline):
                    os.close(fd)

    def said(self) -> dict[str, Any]:
        with os.fdopen(os.dup(self._stdout), "r") as out:
            said: dict[str, Any] = json.loads(out.readline())
        return said

    def end_with(self, code: int) -> None:
        os.write(self._stdin, f"{code}\n".encode())

    def close(self) -> None:
        for fd in (self._stdin, self._stdout, self._lifeline):
            os.close(fd)


def test_a_forked_worker_gets_its_folder_environment_and_descriptors_only(
    server: ForkServer, tmp_path: Path
) -> None:
    child = Child(server, tmp_path, {"COLOR": "blue"})
    try:
        said = child.said()
        assert said["cwd"] == str(tmp_path)
        assert said["argv"] == [str(tmp_path / "script.py")]
        # The function's environment, and the lifeline's descriptor, nothing of the server's.
        assert said["env"] == {"COLOR": "blue", LIFELINE: "3"}
        assert said["fds"][:4] == [0, 1, 2, 3]  # listdir's own descriptor is the fifth
        assert len(said["fds"]) == 5
        assert said["session_leader"] and said["isolated"] and said["boto3_loaded"]
        assert child.process.poll() is None
        child.end_with(3)
        assert child.process.wait(timeout=30) == 3
        assert child.process.poll() == 3
    finally:
        child.close()


def test_a_killed_worker_reads_as_killed_and_a_waiting_one_as_running(
    server: ForkServer, tmp_path: Path
) -> None:
    child = Child(server, tmp_path, {})
    try:
        child.said()
        with pytest.raises(subprocess.TimeoutExpired):
            child.process.wait(timeout=0.2)
        child.process.send_signal(signal.SIGKILL)
        assert child.process.wait(timeout=30) == -signal.SIGKILL
    finally:
        child.close()


def test_a_server_that_dies_is_replaced_and_its_workers_still_end_visibly(
    server: ForkServer, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Child(server, tmp_path / "a", {})
    try:
        first.said()
        zygote = server._process
        assert zygote is not None
        zygote.kill()
        zygote.wait(timeout=30)
        # The orphan is init's now: no notice will come, yet its end is seen.
        first.process.send_signal(signal.SIGKILL)
        eventually(lambda: first.process.poll() == -signal.SIGKILL, "the orphan's end seen")
        # The next request finds the server gone and starts another.
        second = Child(server, tmp_path / "b", {})
        try:
            assert second.said()["cwd"] == str(tmp_path / "b")
            second.end_with(0)
            assert second.process.wait(timeout=30) == 0
        finally:
            second.close()
    except BaseException:
        first.process.send_signal(signal.SIGKILL)
        raise
    finally:
        first.close()


def test_code_that_brings_its_own_boto3_or_botocore_is_not_forked(tmp_path: Path) -> None:
    assert ForkServer.suits(tmp_path, None)
    (tmp_path / "botocore").mkdir()
    assert not ForkServer.suits(tmp_path / "elsewhere", tmp_path)


@pytest.mark.sandbox
def test_a_function_that_vendors_boto3_imports_its_own(sandbox_env: str) -> None:
    """As on Lambda, where /var/task comes first on sys.path: the zip's boto3 wins over the
    one the sandbox's fork server has loaded."""
    handler = textwrap.dedent(
        """
        import boto3

        def handler(event, context):
            return {"boto3": boto3.__file__, "mine": getattr(boto3, "VENDORED", False)}
        """
    )
    code = make_zip({"app.py": handler, "boto3/__init__.py": "VENDORED = True\n"})
    function = create_function(EAST, code, handler="app.handler")
    body = invoke(EAST, function)["Body"]
    assert body["mine"] is True, body
