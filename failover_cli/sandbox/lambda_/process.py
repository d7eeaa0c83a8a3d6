"""The parent's handle on one worker process: start it, exchange frames with deadlines, kill it.

The worker runs `worker.py` with the same interpreter, isolated (-I:
no PYTHONPATH, no user site, no script folder on sys.path) and without
writing bytecode into the code folder (-B, /var/task is read-only on Lambda),
in its own session so a Ctrl-C meant for the sandbox reaches it only through
the sandbox. Its stderr (and descriptor-level stdout) goes to a file that is
read back into the function's log.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from failover_cli.sandbox.lambda_.worker import (
    HEADER,
    LIFELINE_VARIABLE,
    MAX_FRAME,
    decode_body,
    encode_frame,
)

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
READ_CHUNK = 256 * 1024


class WorkerExited(Exception):
    """The worker closed its end: it exited or was killed."""

    def __init__(self, returncode: int | None):
        super().__init__(f"worker exited with {returncode}")
        self.returncode = returncode


class WorkerProcess:
    """One running worker. Used by one invocation at a time; `kill` is safe from any thread."""

    def __init__(self, folder: Path, task_root: Path, environment: dict[str, str]):
        self.folder = folder
        stderr_path = folder / "stderr.log"
        self._stderr_writer = stderr_path.open("wb")
        self._stderr_reader = stderr_path.open("rb")
        self._stderr_pending = b""
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._disposed = False
        # Only this worker gets the read end; we keep the write end until dispose.
        lifeline, self._lifeline = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-B", str(WORKER_SCRIPT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr_writer,
                cwd=task_root,
                env={**environment, LIFELINE_VARIABLE: str(lifeline)},
                start_new_session=True,
                close_fds=True,
                pass_fds=(lifeline,),
            )
        except BaseException:
            for handle in (self._stderr_writer, self._stderr_reader):
                handle.close()
            os.close(self._lifeline)
            raise
        finally:
            os.close(lifeline)
        assert self.process.stdin is not None and self.process.stdout is not None
        self._stdin = self.process.stdin
        self._stdout_fd = self.process.stdout.fileno()
        self._poll = select.poll()
        self._poll.register(self._stdout_fd, select.POLLIN | select.POLLHUP | select.POLLERR)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, message: dict[str, Any]) -> None:
        try:
            self._stdin.write(encode_frame(message))
            self._stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            raise WorkerExited(self.process.poll()) from None

    def receive(self, deadline: float) -> dict[str, Any] | None:
        """The next frame, or None if `deadline` (time.monotonic) passes first."""
        while True:
            frame = self._take_frame()
            if frame is not None:
                return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not self._poll.poll(max(1, int(remaining * 1000))):
                continue
            try:
                chunk = os.read(self._stdout_fd, READ_CHUNK)
            except OSError:
                chunk = b""
            if not chunk:
                raise WorkerExited(self._reap(timeout=1.0))
            self._buffer += chunk

    def _take_frame(self) -> dict[str, Any] | None:
        if len(self._buffer) < HEADER.size:
            return None
        (size,) = HEADER.unpack_from(self._buffer)
        if size > MAX_FRAME:
            raise WorkerExited(self.process.poll())  # garbage on the pipe: treat as a crash
        end = HEADER.size + size
        if len(self._buffer) < end:
            return None
        body = bytes(self._buffer[HEADER.size : end])
        del self._buffer[:end]
        return decode_body(body)

    def stderr_lines(self, final: bool = False) -> list[str]:
        """Complete lines the worker wrote to its stderr since the last call."""
        data = self._stderr_pending + self._stderr_reader.read()
        lines = data.split(b"\n")
        self._stderr_pending = b"" if final else lines.pop()
        return [line.decode("utf-8", "replace") for line in lines if line]

    def max_memory_mb(self) -> int | None:
        """Peak resident memory (Linux /proc), for REPORT's Max Memory Used."""
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return max(1, int(line.split()[1]) // 1024)
        except (OSError, ValueError, IndexError):
            pass
        return None

    def kill(self) -> None:
        """SIGKILL now; the pipes stay open for whoever is reading them."""
        with self._lock:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.process.send_signal(signal.SIGKILL)

    def dispose(self) -> None:
        """Stop the process, close the pipes and delete the folder; idempotent."""
        with self._lock:
            if self._disposed:
                return
            self._disposed = True
        # Lambda freezes and discards environments without notice: no grace period.
        self.kill()
        self._reap(timeout=5.0)
        for stream in (self._stdin, self.process.stdout, self._stderr_writer, self._stderr_reader):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        with contextlib.suppress(OSError):
            os.close(self._lifeline)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _reap(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
