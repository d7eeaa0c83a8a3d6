"""Execution environments for the sandbox's functions: a small pool of workers per function.

Concurrency: each function version has a pool of at most `max_environments`
workers (fewer when ReservedConcurrentExecutions is lower). A worker serves
one invocation at a time, as a Lambda execution environment does, so calls
run in parallel up to the pool size; more wait for a free worker and are
throttled (429) if none frees up within the function's timeout plus the
init limit of wall time (a busy worker has then finished or timed out, unless
a starved host kept it from the CPU: its limits count its own time, process.py).
ReservedConcurrentExecutions is the function's, shared by all its versions
(a weighted alias runs two at once): past it a call is throttled at once. A warm
worker is reused only while the function's code and configuration are
unchanged (`FunctionSpec.fingerprint`, compared at every invoke); stale ones
are discarded. Timeouts kill the worker; the next invoke starts a new one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from failover_cli.sandbox.lambda_ import logs as lambda_logs
from failover_cli.sandbox.lambda_.forkserver import ForkServer
from failover_cli.sandbox.lambda_.functions import FunctionSpec, LambdaApiError
from failover_cli.sandbox.lambda_.host_deps import HostBuilds, overlay
from failover_cli.sandbox.lambda_.logs import InvocationLog, LogSink, role_may_create_log_groups
from failover_cli.sandbox.lambda_.pool import Grant, Worker, WorkerPool
from failover_cli.sandbox.lambda_.process import WorkerExited, WorkerProcess
from failover_cli.sandbox.lambda_.store import extract
from failover_cli.sandbox.lambda_.worker import error_payload
from failover_cli.sandbox.requests import INTERNAL_ACCESS_KEY

_log = logging.getLogger(__name__)

MAX_ENVIRONMENTS = 4  # per function version; health checkers call from several regions at once
INIT_LIMIT_S = 10.0  # Lambda's limit for the init phase (imports, module-level code)
IDLE_LIMIT_S = 600.0  # real seconds an unused worker stays warm
UNHANDLED = "Unhandled"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": INTERNAL_ACCESS_KEY,  # not held to --enforce-policy
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class Throttled(LambdaApiError):
    def __init__(self, reason: str = "ConcurrentInvocationLimitExceeded"):
        super().__init__("TooManyRequestsException", "Rate Exceeded.", status=429)
        self.reason = reason


def _stopping() -> LambdaApiError:
    return LambdaApiError("ServiceException", "The sandbox is stopping.", 500)


@dataclass(frozen=True)
class InvokeResult:
    payload: bytes
    function_error: str | None  # "Unhandled" when the function failed, as X-Amz-Function-Error
    executed_version: str
    log: InvocationLog


class LambdaRuntime:
    """Runs functions; thread-safe. `stop()` kills every worker and deletes their folders."""

    def __init__(
        self,
        logs: LogSink,
        endpoint: str,
        *,
        max_environments: int = MAX_ENVIRONMENTS,
        root: Path | None = None,
    ):
        self.logs = logs
        self.endpoint = endpoint
        self.max_environments = max_environments
        self.root = root or Path(tempfile.mkdtemp(prefix="failover-sandbox-lambda-"))
        self._pools: dict[tuple[str, str, str, str], WorkerPool] = {}
        # In-flight invocations per function, all versions together: reserved concurrency
        # is the function's, shared by its versions (a weighted alias runs two at once).
        self._running: dict[tuple[str, str, str], int] = {}
        self.host_builds = HostBuilds()
        self.forks = ForkServer()  # started on the first cold start
        self._workers: set[Worker] = set()
        self._background: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._stopped = False

    # -- invoking -------------------------------------------------------------

    def invoke(
        self, spec: FunctionSpec, code: bytes, event: Any, client_context: Any = None
    ) -> InvokeResult:
        """Run the handler once (RequestResponse) and write its log."""
        if spec.reserved_concurrency == 0:
            raise Throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
        limit = min(self.max_environments, spec.reserved_concurrency or self.max_environments)
        pool = self._pool(spec)
        lease = pool.acquire(spec.fingerprint, limit, spec.timeout_s + INIT_LIMIT_S)
        self._dispose(*lease.stale)
        if lease.grant is Grant.THROTTLED:
            raise Throttled()
        if lease.grant is Grant.CLOSED:
            raise _stopping()
        if not self._enter(spec):
            self._dispose(*[w for w in [pool.release(lease.worker, True)] if w])
            raise Throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
        worker = lease.worker
        request_id = str(uuid.uuid4())
        log = InvocationLog()
        reusable = False
        try:
            if worker is None:
                worker, failure = self._start(spec, code, log)
                if failure is not None:
                    return self._init_failed(spec, worker, request_id, log, failure)
            payload, error, reusable = self._run(
                worker, spec, request_id, event, client_context, log
            )
            return InvokeResult(payload, error, spec.version, log)
        finally:
            self._leave(spec)
            disposable = pool.release(worker, reusable)
            if worker is not None:
                self._write_log(spec, worker, log)
            self._dispose(*([disposable] if disposable else []))

    def _enter(self, spec: FunctionSpec) -> bool:
        """Count one more invocation of the function, unless its versions together already
        use all of its reserved concurrency (Lambda throttles at once, it does not queue)."""
        function = spec.key[:3]
        with self._lock:
            running = self._running.get(function, 0)
            if spec.reserved_concurrency is not None and running >= spec.reserved_concurrency:
                return False
            self._running[function] = running + 1
            return True

    def _leave(self, spec: FunctionSpec) -> None:
        function = spec.key[:3]
        with self._lock:
            left = self._running.get(function, 1) - 1
            if left > 0:
                self._running[function] = left
            else:
                self._running.pop(function, None)

    def invoke_async(self, spec: FunctionSpec, code: bytes, event: Any) -> None:
        """InvocationType=Event: accepted at once, run on a background thread."""

        def run() -> None:
            try:
                self.invoke(spec, code, event)
            except LambdaApiError:
                pass  # throttled or stopping: Lambda would retry later; the sandbox drops it
            except Exception:
                _log.exception("event invocation of %s failed", spec.name)
            finally:
                with self._lock:
                    self._background.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=f"lambda-event-{spec.name}", daemon=True)
        with self._lock:
            if self._stopped:
                raise _stopping()
            self._background.add(thread)
        thread.start()

    def _run(
        self,
        worker: Worker,
        spec: FunctionSpec,
        request_id: str,
        event: Any,
        client_context: Any,
        log: InvocationLog,
    ) -> tuple[bytes, str | None, bool]:
        """(payload, function error, worker still usable)."""
        log.add(lambda_logs.start_line(request_id, spec.version))
        clock = worker.process.clock()  # the timeout counts the worker's time, not the host's
        status: str | None = None
        try:
            worker.process.send(
                {
                    "type": "invoke",
                    "id": request_id,
                    "event": event,
                    "deadline_ms": lambda_logs.now_ms() + spec.timeout_s * 1000,
                    "arn": spec.arn if spec.version == "$LATEST" else spec.qualified_arn,
                    "client_context": client_context,
                }
            )
            while True:
                frame = worker.process.receive(clock, spec.timeout_s)
                if frame is None:
                    worker.process.kill()
                    status = "timeout"
                    log.add(lambda_logs.timeout_line(request_id, spec.timeout_s))
                    message = f"RequestId: {request_id} Error: Task timed out after "
                    message += f"{spec.timeout_s:.2f} seconds"
                    payload = json.dumps(error_payload("Sandbox.Timedout", message)).encode()
                    result: tuple[bytes, str | None, bool] = (payload, UNHANDLED, False)
                    break
                if frame.get("type") == "log":
                    log.extend(frame.get("events", []))
                elif frame.get("type") == "result" and frame.get("id") == request_id:
                    ok = bool(frame.get("ok"))
                    payload = str(frame.get("payload", "null")).encode()
                    result = (payload, None if ok else UNHANDLED, True)
                    break
        except WorkerExited as exited:
            status = "error"
            code = exited.returncode
            why = f"signal: {-code}" if code is not None and code < 0 else f"exit status {code}"
            message = f"RequestId: {request_id} Error: Runtime exited with error: {why}"
            log.add(message)
            payload = json.dumps(error_payload("Runtime.ExitError", message)).encode()
            result = (payload, UNHANDLED, False)
        for line in worker.process.stderr_lines(final=not result[2]):
            log.add(line)
        duration_ms = clock.elapsed() * 1000
        log.add(lambda_logs.end_line(request_id))
        log.add(
            lambda_logs.report_line(
                request_id,
                duration_ms,
                spec.memory_mb,
                worker.process.max_memory_mb(),
                worker.init_ms,
                status,
            )
        )
        worker.init_ms = None
        return result

    # -- starting workers -----------------------------------------------------

    def _start(
        self, spec: FunctionSpec, code: bytes, log: InvocationLog
    ) -> tuple[Worker, dict[str, Any] | None]:
        """A new worker, ready to run, or with the init error Lambda would report."""
        folder = Path(tempfile.mkdtemp(prefix=f"{spec.name[:40]}-", dir=self.root))
        task_root = folder / "task"
        stream = lambda_logs.stream_name(spec.version)
        try:
            extract(code, task_root)
            environment = self._environment(spec, task_root, stream)
            sandbox_lines = overlay(self.host_builds, spec, task_root, environment)
            process = WorkerProcess(folder, task_root, environment, self.forks)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        worker = Worker(process, spec.fingerprint, stream, init_ms=None)
        with self._lock:
            self._workers.add(worker)
            stopped = self._stopped
        if stopped:
            process.kill()
        log.add(lambda_logs.init_start_line())
        for line in sandbox_lines:
            log.add(line)
        clock = process.clock()  # the init limit counts the worker's time, not the host's
        failure: dict[str, Any] | None = None
        try:
            while True:
                frame = process.receive(clock, INIT_LIMIT_S)
                if frame is None:
                    message = f"Init phase timed out after {INIT_LIMIT_S:.2f} seconds"
                    failure = error_payload("Sandbox.Timedout", message)
                    break
                if frame.get("type") == "log":
                    log.extend(frame.get("events", []))
                elif frame.get("type") == "init_error":
                    failure = dict(frame.get("error") or {})
                    break
                elif frame.get("type") == "ready":
                    break
        except WorkerExited as exited:
            message = f"Runtime exited with error: exit status {exited.returncode}"
            failure = error_payload("Runtime.ExitError", message)
        for line in process.stderr_lines(final=failure is not None):
            log.add(line)
        worker.init_ms = clock.elapsed() * 1000
        return worker, failure

    def _init_failed(
        self,
        spec: FunctionSpec,
        worker: Worker,
        request_id: str,
        log: InvocationLog,
        failure: dict[str, Any],
    ) -> InvokeResult:
        """Lambda reports an init failure on the invoke and retries init on the next one."""
        worker.process.kill()
        failure.setdefault("requestId", request_id)
        log.add(lambda_logs.start_line(request_id, spec.version))
        log.add(lambda_logs.end_line(request_id))
        init_ms = worker.init_ms or 0.0
        log.add(
            lambda_logs.report_line(
                request_id, init_ms, spec.memory_mb, None, worker.init_ms, "error"
            )
        )
        return InvokeResult(json.dumps(failure).encode(), UNHANDLED, spec.version, log)

    def _environment(self, spec: FunctionSpec, task_root: Path, stream: str) -> dict[str, str]:
        """The function's variables, then what Lambda itself sets (users cannot override those)."""
        return {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            **dict(spec.environment),
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(task_root),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            **FAKE_CREDENTIALS,
            # The function's AWS calls (the deep ping) come back to the sandbox.
            "AWS_ENDPOINT_URL": self.endpoint,
            # No user or machine AWS config may leak in.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    # -- housekeeping ---------------------------------------------------------

    def _pool(self, spec: FunctionSpec) -> WorkerPool:
        with self._lock:
            if self._stopped:
                raise _stopping()
            pool = self._pools.get(spec.key)
            if pool is None:
                pool = self._pools[spec.key] = WorkerPool()
            return pool

    def _write_log(self, spec: FunctionSpec, worker: Worker, log: InvocationLog) -> None:
        try:
            may_create = role_may_create_log_groups(spec.account, spec.role)
            self.logs.write(
                spec.account,
                spec.region,
                spec.log_group,
                worker.stream,
                log.events,
                create_group=may_create,
            )
        except Exception:  # a lost log line must not fail the invocation
            _log.exception("writing the log of %s failed", spec.name)

    def _dispose(self, *workers: Worker) -> None:
        for worker in workers:
            worker.process.dispose()
            with self._lock:
                self._workers.discard(worker)

    def forget(self, account: str, region: str, name: str, version: str | None = None) -> None:
        """The function (or one version) was deleted: drop its idle workers (busy ones go
        when they finish)."""
        with self._lock:
            keys = [
                k
                for k in self._pools
                if k[:3] == (account, region, name) and version in (None, k[3])
            ]
            pools = [self._pools.pop(k) for k in keys]
        for pool in pools:
            self._dispose(*pool.close())

    def reap(self, idle_s: float = IDLE_LIMIT_S) -> None:
        """Stop workers unused for `idle_s` real seconds."""
        cutoff = time.monotonic() - idle_s
        with self._lock:
            pools = list(self._pools.values())
        for pool in pools:
            self._dispose(*pool.take_idle(older_than=cutoff))

    @property
    def worker_pids(self) -> list[int]:
        with self._lock:
            return sorted(w.process.pid for w in self._workers)

    def stop(self) -> None:
        """Kill every worker, wait for in-flight invocations, delete the folders; idempotent."""
        with self._lock:
            self._stopped = True
            pools = list(self._pools.values())
            self._pools.clear()
            busy = list(self._workers)
            background = list(self._background)
        for pool in pools:
            self._dispose(*pool.close())
        for worker in busy:
            worker.process.kill()  # their invoking threads see the exit and dispose them
        for thread in background:
            thread.join(timeout=5)
        with self._lock:
            leftover = list(self._workers)
        self._dispose(*leftover)
        self.forks.close()
        shutil.rmtree(self.root, ignore_errors=True)
