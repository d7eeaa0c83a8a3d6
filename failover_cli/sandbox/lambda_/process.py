"""The parent's handle on one worker process: start it, exchange frames with deadlines, kill it.

The worker runs `worker.py` with the same interpreter, isolated (-I:
no PYTHONPATH, no user site, no script folder on sys.path) and without
writing bytecode into the code folder (-B, /var/task is read-only on Lambda),
in its own session so a Ctrl-C meant for the sandbox reaches it only through
the sandbox. Its stderr (and descriptor-level stdout) goes to a file that is
read back into the function's log.

Lambda's time limits (the 10 s init phase, the function timeout) are counted on
the worker's own clock (`EnvironmentClock`): wall time less the time this host
kept the worker's main thread waiting for a CPU. A Lambda execution environment
has its CPU share to itself; on a host starved by other work (a test suite on
two cores) the plain wall clock timed out a cold start that AWS would have
answered, so a release gate saw a 502 that no AWS user would.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from failover_cli.sandbox.lambda_.forkserver import ForkedProcess, ForkServer, ForkServerError
from failover_cli.sandbox.lambda_.worker import (
    HEADER,
    HOST_PACKAGES_VARIABLE,
    LIFELINE_VARIABLE,
    MAX_FRAME,
    decode_body,
    encode_frame,
)

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
log = logging.getLogger(__name__)
READ_CHUNK = 256 * 1024


class WorkerExited(Exception):
    """The worker closed its end: it exited or was killed."""

    def __init__(self, returncode: int | None):
        super().__init__(f"worker exited with {returncode}")
        self.returncode = returncode


def run_queue_wait_s(pid: int) -> float | None:
    """Seconds the main thread of `pid` has spent runnable but waiting for a CPU (Linux
    /proc/PID/schedstat, second field, in nanoseconds), or None where the kernel does not
    say (another OS, or the process is gone)."""
    try:
        with open(f"/proc/{pid}/schedstat") as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


class EnvironmentClock:
    """Seconds since it started as the worker's own execution environment counts them: wall
    time less the worker's wait for a CPU. The wait only ever grows by at most the wall
    time that passes, so this never runs backwards; a worker that sleeps, blocks on I/O or
    spins on the CPU is charged in full, as on Lambda. Without schedstat: the wall clock
    (once the worker is gone, its last reading stands)."""

    def __init__(
        self,
        waited: Callable[[], float | None],
        now: Callable[[], float] = time.monotonic,
    ):
        self._waited = waited
        self._now = now
        self._began = now()
        self._waited_before = self._waited_last = waited()

    def elapsed(self) -> float:
        wall = self._now() - self._began
        if self._waited_before is None:
            return wall
        waited = self._waited()
        if waited is not None:
            self._waited_last = waited
        return max(0.0, wall - max(0.0, (self._waited_last or 0.0) - self._waited_before))


class WorkerProcess:
    """One running worker. Used by one invocation at a time; `kill` is safe from any thread."""

    def __init__(
        self,
        folder: Path,
        task_root: Path,
        environment: dict[str, str],
        forks: ForkServer | None = None,
    ):
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
            stdin, stdout = self._start(task_root, environment, lifeline, forks)
        except BaseException:
            for handle in (self._stderr_writer, self._stderr_reader):
                handle.close()
            os.close(self._lifeline)
            raise
        finally:
            os.close(lifeline)
        self._stdin, self._stdout = stdin, stdout
        self._stdout_fd = stdout.fileno()
        self._poll = select.poll()
        self._poll.register(self._stdout_fd, select.POLLIN | select.POLLHUP | select.POLLERR)

    def _start(
        self,
        task_root: Path,
        environment: dict[str, str],
        lifeline: int,
        forks: ForkServer | None,
    ) -> tuple[IO[bytes], IO[bytes]]:
        """Fork the worker from the server when its code allows, else spawn it afresh."""
        host_packages = environment.get(HOST_PACKAGES_VARIABLE)
        host_folder = Path(host_packages) if host_packages else None
        if forks is not None and forks.suits(task_root, host_folder):
            child_stdin, parent_stdin = os.pipe()
            parent_stdout, child_stdout = os.pipe()
            try:
                self.process: subprocess.Popen[bytes] | ForkedProcess = forks.spawn(
                    script=WORKER_SCRIPT,
                    cwd=task_root,
                    env=environment,
                    lifeline_variable=LIFELINE_VARIABLE,
                    fds=(child_stdin, child_stdout, self._stderr_writer.fileno(), lifeline),
                )
            except ForkServerError as error:
                log.warning("starting a Lambda worker afresh: %s", error)
                os.close(parent_stdin)
                os.close(parent_stdout)
            else:
                return os.fdopen(parent_stdin, "wb"), os.fdopen(parent_stdout, "rb", buffering=0)
            finally:
                os.close(child_stdin)
                os.close(child_stdout)
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
        assert self.process.stdin is not None and self.process.stdout is not None
        return self.process.stdin, self.process.stdout

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

    def clock(self) -> EnvironmentClock:
        """A clock of this worker's own time, starting now."""
        return EnvironmentClock(lambda: run_queue_wait_s(self.pid))

    def receive(self, clock: EnvironmentClock, limit_s: float) -> dict[str, Any] | None:
        """The next frame, or None if `limit_s` seconds pass first on the worker's `clock`."""
        while True:
            frame = self._take_frame()
            if frame is not None:
                return frame
            remaining = limit_s - clock.elapsed()
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
        for stream in (self._stdin, self._stdout, self._stderr_writer, self._stderr_reader):
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
