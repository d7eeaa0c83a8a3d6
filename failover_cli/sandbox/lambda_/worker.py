"""One Lambda execution environment: the child process that runs a function's handler.

Run as a script (`python -I -B worker.py`) with the function's code
extracted in its working folder, so it imports nothing from failover_cli and
shares no state with the sandbox. It speaks length-prefixed JSON frames:

- parent -> child on stdin: ``{"type": "invoke", "id", "event", "deadline_ms",
  "arn", "client_context"}``; EOF means stop;
- child -> parent on the original stdout: ``ready`` or ``init_error`` once,
  then ``log`` frames (the handler's prints, one event per line) and one
  ``result`` per invoke.

The handler's own output must not corrupt the frames: `sys.stdout`/`sys.stderr`
become log writers and file descriptor 1 is pointed at 2 (a file the parent
reads) for whatever writes to the descriptor directly.

The parent (process.py) imports the framing helpers from here, so the
protocol is written down once.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

HEADER = struct.Struct(">I")  # frame length, big-endian
MAX_FRAME = 64 * 1024 * 1024  # Lambda's payload limits are 6 MB; anything bigger is a bug
LIFELINE_VARIABLE = "_FAILOVER_SANDBOX_LIFELINE"  # fd of a pipe that closes when the parent dies
HOST_PACKAGES_VARIABLE = "_FAILOVER_SANDBOX_HOST_PACKAGES"  # a folder first on sys.path


def encode_frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


def decode_body(body: bytes) -> dict[str, Any]:
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("a frame must hold a JSON object")
    return message


def read_frame(stream: BinaryIO) -> dict[str, Any] | None:
    """The next frame from a blocking stream, or None at EOF."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is too large")
    body = stream.read(size)
    if len(body) < size:
        return None
    return decode_body(body)


def now_ms() -> int:
    return int(time.time() * 1000)


class Channel:
    """The frame pipe to the parent; handler threads may log concurrently."""

    def __init__(self, fd: int):
        self._fd = fd
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        data = memoryview(encode_frame(message))
        with self._lock:
            while data:
                data = data[os.write(self._fd, data) :]

    def log(self, *messages: str) -> None:
        if messages:
            stamp = now_ms()
            self.send({"type": "log", "events": [[stamp, m] for m in messages]})


class LogWriter(io.TextIOBase):
    """sys.stdout/sys.stderr: each complete line becomes one log event, as on Lambda."""

    def __init__(self, channel: Channel):
        self._channel = channel
        self._pending = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            if "\n" not in self._pending:
                return len(text)
            *lines, self._pending = self._pending.split("\n")
        self._channel.log(*lines)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            rest, self._pending = self._pending, ""
        if rest:
            self._channel.log(rest)


class LambdaLogHandler(logging.Handler):
    """The runtime's root handler: one event per record, with the request id."""

    def __init__(self, channel: Channel, request_id: Callable[[], str]):
        super().__init__()
        self._channel = channel
        self._request_id = request_id
        formatter = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
        formatter.converter = time.gmtime
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.aws_request_id = self._request_id()
            self._channel.log(self.format(record))
        except Exception:
            self.handleError(record)


class LambdaContext:
    """The context object Lambda passes to a Python handler."""

    def __init__(self, request: dict[str, Any]):
        env = os.environ
        self.aws_request_id: str = request["id"]
        self.invoked_function_arn: str = request.get("arn", "")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        # A string, as the real runtime reads it from the environment.
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.client_context = request.get("client_context")
        self.identity = None
        self._deadline_ms = int(request["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - now_ms())


def error_payload(
    error_type: str, message: str, request_id: str = "", stack: list[str] | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"errorMessage": message, "errorType": error_type}
    if request_id:
        payload["requestId"] = request_id
    payload["stackTrace"] = stack or []
    return payload


def _user_frames(error: BaseException) -> list[str]:
    """The traceback minus this file's own frames, as Lambda's stackTrace lists it."""
    frames = traceback.extract_tb(error.__traceback__)
    user = [f for f in frames if os.path.abspath(f.filename) != os.path.abspath(__file__)]
    return traceback.format_list(user)


def _error_log(error_type: str, message: str, stack: list[str]) -> str:
    lines = [f"[ERROR] {error_type}: {message}"]
    if stack:
        lines.append("Traceback (most recent call last):")
        lines.extend(entry.rstrip("\n") for entry in stack)
    return "\n".join(lines)


def load_handler(spec: str) -> Callable[..., Any]:
    """Import `module.function` (the function's Handler); raises InitError as Lambda names it."""
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        raise InitError(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)",
        )
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from error
    except SyntaxError as error:
        raise InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}"
        ) from error
    except Exception as error:
        raise InitError(type(error).__name__, str(error), _user_frames(error)) from error
    function = getattr(module, function_name, None)
    if not callable(function):
        raise InitError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return function


class InitError(Exception):
    def __init__(self, error_type: str, message: str, stack: list[str] | None = None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack = stack or []


class Runtime:
    """The loop: one request at a time, as a Lambda execution environment does."""

    def __init__(self, channel: Channel, requests: BinaryIO):
        self.channel = channel
        self.requests = requests
        self.request_id = ""
        self.stdout = LogWriter(channel)

    def run(self) -> int:
        sys.stdout = sys.stderr = self.stdout
        logging.getLogger().addHandler(LambdaLogHandler(self.channel, lambda: self.request_id))
        try:
            handler = load_handler(os.environ.get("_HANDLER", ""))
        except InitError as error:
            self.stdout.flush()
            self.channel.log(_error_log(error.error_type, error.message, error.stack))
            self.channel.send(
                {"type": "init_error", "error": error_payload(error.error_type, error.message)}
            )
            return 0
        self.stdout.flush()
        self.channel.send({"type": "ready"})
        while (request := read_frame(self.requests)) is not None:
            self.invoke(handler, request)
        return 0

    def invoke(self, handler: Callable[..., Any], request: dict[str, Any]) -> None:
        self.request_id = request_id = str(request["id"])
        ok = True
        try:
            result = handler(request.get("event"), LambdaContext(request))
            try:
                body = json.dumps(result)
            except (TypeError, ValueError) as error:
                ok = False
                message = f"Unable to marshal response: {error}"
                self.channel.log(_error_log("Runtime.MarshalError", message, []))
                body = json.dumps(error_payload("Runtime.MarshalError", message, request_id))
        except Exception as error:
            ok = False
            stack = _user_frames(error)
            error_type, message = type(error).__name__, str(error)
            self.stdout.flush()
            self.channel.log(_error_log(error_type, message, stack))
            body = json.dumps(error_payload(error_type, message, request_id, stack))
        self.stdout.flush()
        self.channel.send({"type": "result", "id": request_id, "ok": ok, "payload": body})


def _exit_when_orphaned(lifeline: int) -> None:
    """A sandbox killed hard cannot stop us: leave once it is gone.

    The parent holds the write end of the lifeline pipe and never writes; the
    read returns (EOF) only when the parent has died, so this costs no CPU.
    """
    os.read(lifeline, 1)
    os._exit(1)


def main() -> int:
    # Frames go out on a private copy of stdout; descriptor 1 then joins 2 so
    # that C code and subprocesses writing to "stdout" cannot corrupt them.
    channel = Channel(os.dup(1))
    os.dup2(2, 1)
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path.insert(0, task_root)
    # Compiled dependencies rebuilt for this machine shadow the zip's (host_deps.py).
    host_packages = os.environ.pop(HOST_PACKAGES_VARIABLE, "")
    if host_packages:
        sys.path.insert(0, host_packages)
    lifeline = os.environ.pop(LIFELINE_VARIABLE, "")
    if lifeline:
        threading.Thread(target=_exit_when_orphaned, args=(int(lifeline),), daemon=True).start()
    return Runtime(channel, sys.stdin.buffer).run()


if __name__ == "__main__":
    sys.exit(main())
