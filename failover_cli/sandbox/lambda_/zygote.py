"""The fork server's own process: imports boto3 once, then forks a worker per request.

Run as a script (`python -I -B zygote.py FD`) by forkserver.py, so, like a
worker, it imports nothing from failover_cli and shares no state with the
sandbox. Almost every worker imports boto3 (the deep ping and the switch
reader read the table) and that import is most of a cold start's CPU (about
0.4 s of 0.5 s); forked from here, a worker finds it already loaded and
shares its pages copy-on-write. A fresh worker is otherwise what
`python -I -B worker.py` gives: its own session, the function's environment
and folder, descriptors 0-2 from the parent, nothing else open.

The socket FD (SOCK_SEQPACKET) carries one request per message, with four
descriptors (stdin, stdout, stderr, lifeline) and a JSON body {"cwd", "env",
"lifeline_variable", "script"}; the answer is {"pid": N} or {"error": "..."}.
Whenever a worker exits, {"exited": N, "code": C} follows (C as
subprocess.Popen.returncode gives it: -signal when killed). When the socket
closes (the sandbox is gone) this process exits; its workers keep their own
lifelines.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import select
import signal
import socket
import sys
from typing import Any

import boto3  # the point of this process: imported once for every worker

MAX_MESSAGE = 1 << 20
DESCRIPTORS = 4  # stdin, stdout, stderr, lifeline
LIFELINE_FD = 3  # where the lifeline lands in a worker


def _send(channel: socket.socket, message: dict[str, object]) -> None:
    channel.send(json.dumps(message).encode())


def _become_worker(
    channel: socket.socket, wakeup: int, request: dict[str, Any], fds: list[int]
) -> None:
    """In the forked child: turn into `python -I -B <script>` of the request. Never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        channel.close()
        os.close(wakeup)
        os.setsid()
        stdin, stdout, stderr, lifeline = fds  # all above 2: this process's 0-2 are open
        for target, source in enumerate((stdin, stdout, stderr)):
            os.dup2(source, target)
        if lifeline != LIFELINE_FD:  # dup2 onto itself would fail with inheritable=False
            os.dup2(lifeline, LIFELINE_FD, inheritable=False)
        os.closerange(LIFELINE_FD + 1, os.sysconf("SC_OPEN_MAX"))
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ[request["lifeline_variable"]] = str(LIFELINE_FD)
        sys.argv = [request["script"]]
        runpy.run_path(request["script"], run_name="__main__")
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # a worker that dies says why on its stderr
        import traceback

        traceback.print_exc()
    finally:
        import atexit

        atexit._run_exitfuncs()  # as an interpreter that ends would
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # exiting anyway
                stream.flush()
        os._exit(code)


def _reap(channel: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        _send(channel, {"exited": pid, "code": code})


def _load_botocore_data_once() -> None:
    """Parse, here and once, the botocore data a worker's first DynamoDB client reads.

    Each new botocore session gets a new loader, which parses its JSON files again:
    the endpoints and partitions, DynamoDB's model and endpoint rules, the SDK's
    defaults, about 100 ms of CPU in every worker whose function reads its table (the
    deep ping, the switch reader). One loader per data path serves every session, as in
    the sandbox (moto_warmup) and the tool; loaded here, a worker forked afterwards finds
    it parsed. The function still builds its own session and client: the same objects,
    from the same files. Done once the first worker is forked, not before: that first
    answer includes this process's start and has a deadline (forkserver.py)."""
    import functools

    import botocore.session
    from botocore.loaders import create_loader

    botocore.session.create_loader = functools.cache(create_loader)
    with contextlib.suppress(Exception):  # a worker loads what it needs by itself anyway
        boto3.session.Session().client("dynamodb", region_name="us-east-1")


def main() -> int:
    loaded = False
    channel = socket.socket(fileno=int(sys.argv[1]))
    read_wakeup, write_wakeup = os.pipe()
    os.set_blocking(write_wakeup, False)
    signal.set_wakeup_fd(write_wakeup)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select through the pipe
    while True:
        ready, _, _ = select.select([channel.fileno(), read_wakeup], [], [])
        if read_wakeup in ready:
            os.read(read_wakeup, 4096)
            _reap(channel)
        if channel.fileno() not in ready:
            continue
        body, fds, _flags, _address = socket.recv_fds(channel, MAX_MESSAGE, DESCRIPTORS)
        if not body:
            return 0  # the sandbox closed its end
        try:
            request = json.loads(body)
            if len(fds) != DESCRIPTORS:
                raise ValueError(f"{len(fds)} descriptors, expected {DESCRIPTORS}")
            pid = os.fork()
            if pid == 0:
                _become_worker(channel, read_wakeup, request, fds)
            _send(channel, {"pid": pid})
        except Exception as error:  # the parent falls back to a fresh process
            _send(channel, {"error": f"{type(error).__name__}: {error}"})
        finally:
            for fd in fds:
                os.close(fd)
        _reap(channel)
        if not loaded:
            _load_botocore_data_once()
            loaded = True


if __name__ == "__main__":
    sys.exit(main())
