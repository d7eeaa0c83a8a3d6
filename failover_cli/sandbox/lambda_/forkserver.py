"""The sandbox's side of the fork server (zygote.py): start workers forked from a warm process.

A cold start spawned from scratch spends about 0.5 s of CPU, most of it importing
boto3; a test suite on two cores starts thousands. Forked from a process that
has it imported, a worker costs a few milliseconds and is otherwise the same
fresh interpreter (zygote.py says what it gets). The time a Lambda cold start
takes is not what the sandbox emulates, so nothing a user sees changes but the
host's load.

A function whose code brings its own boto3 or botocore (in the zip or rebuilt
for this host) must import that one, as on Lambda, where /var/task comes first
on sys.path: `ForkServer.suits` refuses those, and the caller starts a fresh
process instead. If the server cannot be started or stops answering, the same
fallback applies.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

ZYGOTE_SCRIPT = Path(__file__).with_name("zygote.py")
OWN_PACKAGES = ("boto3", "botocore")  # what the server has imported
ANSWER_TIMEOUT_S = 10.0  # a fork takes milliseconds; more is a server in trouble
NOTICE_GRACE_S = 0.5  # an exit notice in flight when the process is already gone
MAX_MESSAGE = 1 << 20
STOPPED = "the fork server stopped"


class ForkServerError(Exception):
    """The server could not start a worker: start it another way."""


class ForkedProcess:
    """A worker forked by the server: the part of subprocess.Popen the sandbox uses."""

    def __init__(self, pid: int, server: ForkServer):
        self.pid = pid
        self._server = server

    @property
    def returncode(self) -> int | None:
        code = self._server.exit_code(self.pid)
        if code is None and not _running(self.pid):
            # Gone without a notice: the server died and init reaped it (or the notice is on
            # its way). Nothing says how it ended; Lambda would say it was killed.
            code = self._server.wait_exit(self.pid, NOTICE_GRACE_S)
            return -signal.SIGKILL if code is None else code
        return code

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        code = self._server.wait_exit(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
        return code

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:  # never signal a pid that may have been reused
            os.kill(self.pid, signum)


class ForkServer:
    """One zygote process per Lambda runtime, started on first use; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one request at a time: answers come in order
        self._exits: dict[int, int] = {}
        self._changed = threading.Condition()
        self._answers: list[dict[str, Any]] = []
        self._channel: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._closed = False

    @staticmethod
    def suits(*package_roots: Path | None) -> bool:
        """Whether a worker whose code lives in these folders may be forked from the server:
        not if they bring their own boto3 or botocore."""
        return not any(
            (root / name).exists() for root in package_roots if root for name in OWN_PACKAGES
        )

    def spawn(
        self,
        *,
        script: Path,
        cwd: Path,
        env: dict[str, str],
        lifeline_variable: str,
        fds: tuple[int, int, int, int],
    ) -> ForkedProcess:
        """Fork `python -I -B script` in `cwd` with `env` and stdin, stdout, stderr, lifeline."""
        request = {
            "script": str(script),
            "cwd": str(cwd),
            "env": env,
            "lifeline_variable": lifeline_variable,
        }
        body = json.dumps(request).encode()
        with self._lock:
            for attempt in (1, 2):  # a server that died since the last request is replaced
                channel = self._started()
                try:
                    socket.send_fds(channel, [body], list(fds))
                    break
                except OSError as error:
                    self._broken()
                    if attempt == 2:
                        raise ForkServerError(
                            f"the fork server took no request: {error}"
                        ) from error
            answer = self._answer()
        if "pid" not in answer:
            raise ForkServerError(str(answer.get("error", answer)))
        return ForkedProcess(int(answer["pid"]), self)

    def exit_code(self, pid: int) -> int | None:
        with self._changed:
            return self._exits.get(pid)

    def wait_exit(self, pid: int, timeout: float | None) -> int | None:
        with self._changed:
            self._changed.wait_for(lambda: pid in self._exits or self._closed, timeout)
            return self._exits.get(pid)

    def close(self) -> None:
        """Stop the server (its workers are stopped by their owners); idempotent."""
        with self._lock:
            self._broken()
            with self._changed:
                self._closed = True
                self._changed.notify_all()

    # -- the server process ----------------------------------------------------

    def _started(self) -> socket.socket:
        if self._closed:
            raise ForkServerError("the fork server is closed")
        if self._channel is not None:
            return self._channel
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-B", str(ZYGOTE_SCRIPT), str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C meant for the sandbox reaches it only so
                close_fds=True,
                pass_fds=(theirs.fileno(),),
            )
        except OSError as error:
            ours.close()
            raise ForkServerError(f"the fork server did not start: {error}") from error
        finally:
            theirs.close()
        with self._changed:
            self._channel = ours
        threading.Thread(
            target=self._read, args=(ours,), name="sandbox-forkserver", daemon=True
        ).start()
        return ours

    def _read(self, channel: socket.socket) -> None:
        """Exit notices as they come; answers to the request being made on this channel
        (a channel already given up on answers no one)."""
        while True:
            try:
                body = channel.recv(MAX_MESSAGE)
            except OSError:
                body = b""
            message = json.loads(body) if body else {"error": STOPPED}
            with self._changed:
                if "exited" in message:
                    self._exits[int(message["exited"])] = int(message["code"])
                elif self._channel is channel:
                    self._answers.append(message)
                self._changed.notify_all()
            if not body:
                return

    def _answer(self) -> dict[str, Any]:
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self._answers), ANSWER_TIMEOUT_S):
                self._broken()
                raise ForkServerError("the fork server did not answer")
            answer = self._answers.pop(0)
        if answer.get("error") == STOPPED:
            self._broken()
        return answer

    def _broken(self) -> None:
        """Forget the server (the next request starts another); its workers live on."""
        with self._changed:
            channel, process = self._channel, self._process
            self._channel = self._process = None
            self._answers.clear()
        if channel is not None:
            with contextlib.suppress(OSError):
                channel.close()
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)


def _running(pid: int) -> bool:
    """Whether `pid` is a process that has not been reaped (a zombie counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
