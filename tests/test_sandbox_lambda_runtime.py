"""How the sandbox runs functions: errors, timeouts, warm reuse, concurrency, clean stop."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import SandboxProcess
from tests.sandbox_api_helpers import eventually
from tests.test_sandbox_lambda import (
    EAST,
    WEST,
    client,
    create_function,
    invoke,
    log_events,
    make_zip,
)

pytestmark = pytest.mark.sandbox

APP = make_zip(
    {
        "app.py": """
        import os
        import subprocess
        import sys
        import time

        def handler(event, context):
            action = event.get("action")
            if action == "starved":  # runnable all along, but a busier process has the CPU
                cpu = {min(os.sched_getaffinity(0))}
                burn = "import time\\nend = time.monotonic() + %s\\n"
                burn += "while time.monotonic() < end: pass"
                hog = subprocess.Popen([sys.executable, "-c", burn % event["seconds"]])
                os.sched_setaffinity(hog.pid, cpu)
                os.sched_setaffinity(0, cpu)
                os.nice(19)  # about 1.5% of the CPU against the hog's nice 0
                while hog.poll() is None:
                    pass
                return {"hog": hog.returncode}
            if action == "raise":
                raise ValueError("boom " + str(event.get("n")))
            if action == "sleep":
                time.sleep(event["seconds"])
            if action == "spin":
                end = time.monotonic() + event["seconds"]
                while time.monotonic() < end:
                    pass
            if action == "hold":  # say it runs, then run until the test lets it end
                open(event["started"], "w").close()
                while not os.path.exists(event["release"]):
                    time.sleep(0.05)
            if action == "exit":
                os._exit(3)
            if action == "unserialisable":
                return {"when": object()}
            return {
                "pid": os.getpid(),
                "region": os.environ["AWS_REGION"],
                "default_region": os.environ["AWS_DEFAULT_REGION"],
                "name": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
                "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
                "color": os.environ.get("COLOR"),
                "remaining_ms": context.get_remaining_time_in_millis(),
                "cwd": os.getcwd(),
            }
        """
    }
)


def app(region: str = EAST, timeout: int = 5, **variables: str) -> str:
    return create_function(region, APP, handler="app.handler", timeout=timeout, variables=variables)


def test_the_handler_sees_a_lambda_environment(sandbox_env: str) -> None:
    function = app(WEST, timeout=7)
    body = invoke(WEST, function)["Body"]
    assert body["region"] == body["default_region"] == WEST
    assert body["name"] == function
    assert body["endpoint"] == sandbox_env  # its AWS calls come back to the sandbox
    assert 0 < body["remaining_ms"] <= 7000
    assert body["pid"] != os.getpid()


def test_handler_exceptions_are_unhandled_function_errors(sandbox_env: str) -> None:
    function = app()
    answer = invoke(EAST, function, {"action": "raise", "n": 7})
    assert answer["StatusCode"] == 200 and answer["FunctionError"] == "Unhandled"
    error = answer["Body"]
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "boom 7"
    assert any("app.py" in line and "in handler" in line for line in error["stackTrace"])
    messages = [m for ms in log_events(EAST, function).values() for m in ms]
    assert any(m.startswith("[ERROR] ValueError: boom 7") for m in messages)
    # The environment survives an exception in the handler: it answers again.
    assert "pid" in invoke(EAST, function)["Body"]


def test_unserialisable_results_and_runtime_exits(sandbox_env: str) -> None:
    function = app()
    marshal = invoke(EAST, function, {"action": "unserialisable"})
    assert marshal["FunctionError"] == "Unhandled"
    assert marshal["Body"]["errorType"] == "Runtime.MarshalError"
    exited = invoke(EAST, function, {"action": "exit"})
    assert exited["FunctionError"] == "Unhandled"
    assert exited["Body"]["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in exited["Body"]["errorMessage"]
    assert "pid" in invoke(EAST, function)["Body"]  # a fresh worker takes over


def test_timeouts_kill_the_worker_and_the_next_invoke_works(sandbox_env: str) -> None:
    function = app(timeout=1)
    first = invoke(EAST, function)["Body"]["pid"]
    answer = invoke(EAST, function, {"action": "sleep", "seconds": 30})
    assert answer["FunctionError"] == "Unhandled"
    assert answer["Body"]["errorType"] == "Sandbox.Timedout"
    assert answer["Body"]["errorMessage"].endswith("Task timed out after 1.00 seconds")
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)  # the timed-out environment is gone ...
    after = invoke(EAST, function)["Body"]["pid"]  # ... and a new one answers
    assert after != first
    messages = [m for ms in log_events(EAST, function).values() for m in ms]
    assert any(m.endswith("Task timed out after 1.00 seconds") for m in messages)
    assert any(m.startswith("REPORT") and "Status: timeout" in m for m in messages)


def test_the_timeout_leaves_out_the_time_the_host_kept_the_function_from_the_cpu(
    sandbox_env: str,
) -> None:
    # A Lambda environment has its CPU share to itself: a host starved by other work (a
    # test suite on two cores) must not time out a call that AWS would answer. The
    # handler spins for 4 s of wall time next to a process that holds its only CPU.
    function = app(timeout=2)
    answer = invoke(EAST, function, {"action": "starved", "seconds": 4})
    assert "FunctionError" not in answer, answer["Body"]
    assert answer["Body"] == {"hog": 0}
    # Sleeping and spinning still count: the 1 s limit stops both.
    function = app(timeout=1)
    for event in ({"action": "sleep", "seconds": 30}, {"action": "spin", "seconds": 30}):
        timed_out = invoke(EAST, function, event)
        assert timed_out["Body"]["errorType"] == "Sandbox.Timedout", event


def test_init_errors_are_reported_and_retried(sandbox_env: str) -> None:
    broken = make_zip({"app.py": "import no_such_module\n\ndef handler(e, c):\n    return 1\n"})
    function = create_function(EAST, broken, handler="app.handler")
    for _ in range(2):  # init is retried on each invoke, as Lambda does
        answer = invoke(EAST, function)
        assert answer["FunctionError"] == "Unhandled"
        assert answer["Body"]["errorType"] == "Runtime.ImportModuleError"
        assert "no_such_module" in answer["Body"]["errorMessage"]
    missing = create_function(EAST, APP, handler="app.nothing_here")
    assert invoke(EAST, missing)["Body"]["errorType"] == "Runtime.HandlerNotFound"


def test_warm_workers_are_reused_until_code_or_configuration_changes(sandbox_env: str) -> None:
    function = app(COLOR="blue")
    lam = client("lambda", EAST)
    first = invoke(EAST, function)["Body"]
    assert invoke(EAST, function)["Body"]["pid"] == first["pid"]  # warm
    lam.update_function_configuration(
        FunctionName=function, Environment={"Variables": {"COLOR": "green"}}
    )
    second = invoke(EAST, function)["Body"]
    assert second["color"] == "green" and second["pid"] != first["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(first["pid"], 0)  # the stale worker was stopped
    lam.update_function_code(FunctionName=function, ZipFile=APP)  # same code: still warm
    assert invoke(EAST, function)["Body"]["pid"] == second["pid"]


def test_concurrent_invokes_run_side_by_side(sandbox_env: str) -> None:
    function = app()

    def call(_: int) -> dict[str, Any]:
        answer = invoke(EAST, function, {"action": "sleep", "seconds": 0.5})
        assert answer.get("FunctionError") is None, answer["Body"]
        return dict(answer["Body"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        bodies = list(pool.map(call, range(6)))
    assert all(b["name"] == function for b in bodies)
    assert len({b["pid"] for b in bodies}) > 1  # several environments, not one queue
    streams = log_events(EAST, function)
    assert len(streams) == len({b["pid"] for b in bodies})  # one stream per environment


def test_reserved_concurrency_zero_throttles(sandbox_env: str) -> None:
    function = app()
    client("lambda", EAST).put_function_concurrency(
        FunctionName=function, ReservedConcurrentExecutions=0
    )
    with pytest.raises(ClientError) as throttled:
        invoke(EAST, function)
    assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"


def test_reserved_concurrency_is_shared_by_the_functions_versions(
    sandbox_env: str, tmp_path: Path
) -> None:
    """A weighted alias runs two versions at once: together they get the function's
    reserved concurrency, not each of them (Lambda throttles at once, it does not queue).
    Version 1 holds the one slot until the test releases it: no race with the clock."""
    function = app(timeout=60)
    lam = client("lambda", EAST)
    lam.publish_version(FunctionName=function)
    lam.update_function_configuration(FunctionName=function, Environment={"Variables": {}})
    lam.get_waiter("function_updated_v2").wait(FunctionName=function)
    lam.publish_version(FunctionName=function)
    lam.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=1)
    started, release = tmp_path / "started", tmp_path / "release"
    hold = {"action": "hold", "started": str(started), "release": str(release)}
    with ThreadPoolExecutor(max_workers=1) as pool:
        busy = pool.submit(invoke, EAST, function, hold, Qualifier="1")
        try:
            eventually(lambda: started.exists() or busy.done(), "version 1 to start", 60)
            assert not busy.done(), busy.result()
            with pytest.raises(ClientError) as refused:
                invoke(EAST, function, Qualifier="2")
            assert refused.value.response["Error"]["Code"] == "TooManyRequestsException"
        finally:
            release.touch()
        assert busy.result().get("FunctionError") is None
    assert invoke(EAST, function, Qualifier="2")["StatusCode"] == 200  # free again


def _worker_pids(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: Any
) -> tuple[SandboxProcess, list[int]]:
    """A fresh sandbox with one warm worker in each region, and those workers' pids."""
    sandbox = launch_sandbox()
    sandbox.wait_until_ready()
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint)
    return sandbox, [invoke(region, app(region))["Body"]["pid"] for region in (EAST, WEST)]


def _gone(pids: list[int], deadline_s: float = 10.0) -> None:
    deadline = time.monotonic() + deadline_s
    for pid in pids:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, f"worker {pid} outlived its sandbox"
            time.sleep(0.05)


def test_stopping_the_sandbox_stops_its_workers(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, pids = _worker_pids(launch_sandbox, monkeypatch)
    assert sandbox.stop() == 0
    _gone(pids)


def test_workers_leave_by_themselves_when_the_sandbox_is_killed(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, pids = _worker_pids(launch_sandbox, monkeypatch)
    sandbox.stop(signal.SIGKILL)  # no cleanup runs in the sandbox
    _gone(pids)
