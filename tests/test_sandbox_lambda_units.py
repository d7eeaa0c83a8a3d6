"""The sandbox's function machinery on plain data: no sandbox, no worker process."""

from __future__ import annotations

import base64
import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any, cast

import pytest

from failover_cli.sandbox.lambda_.functions import LambdaApiError, parse_function_id
from failover_cli.sandbox.lambda_.logs import InvocationLog, report_line, stream_name
from failover_cli.sandbox.lambda_.pool import Grant, Worker, WorkerPool
from failover_cli.sandbox.lambda_.process import EnvironmentClock, WorkerProcess, run_queue_wait_s
from failover_cli.sandbox.lambda_.store import BadZip, ZipStore, code_sha256, decode_upload, extract
from failover_cli.sandbox.lambda_.worker import encode_frame, read_frame

ARN = "arn:aws:lambda:us-east-1:123456789012:function:hello"


@pytest.mark.parametrize(
    ("function_id", "qualifier", "expected"),
    [
        ("hello", None, ("hello", None)),
        ("hello:live", None, ("hello", "live")),
        ("hello", "3", ("hello", "3")),
        (ARN, None, ("hello", None)),
        (f"{ARN}:$LATEST", None, ("hello", "$LATEST")),
        (f"{ARN}:7", "7", ("hello", "7")),
        ("123456789012:function:hello", None, ("hello", None)),
        ("123456789012:function:hello:live", None, ("hello", "live")),
    ],
)
def test_function_ids(function_id: str, qualifier: str | None, expected: tuple[str, Any]) -> None:
    assert parse_function_id(function_id, qualifier) == expected


def test_function_id_errors() -> None:
    with pytest.raises(LambdaApiError) as mismatch:
        parse_function_id(f"{ARN}:1", "2")
    assert mismatch.value.code == "InvalidParameterValueException"
    with pytest.raises(LambdaApiError) as malformed:
        parse_function_id("not/a/name", None)
    assert malformed.value.code == "ValidationException"


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_zip_store_is_content_addressed(tmp_path: Any) -> None:
    data = _zip({"app.py": "x = 1\n"})
    store = ZipStore()
    sha = store.put(data)
    assert sha == code_sha256(data) and store.put(data) == sha and len(store) == 1
    assert store.get(sha) == data and store.get("other") is None
    assert decode_upload(base64.b64encode(data).decode()) == data
    for bad in ("not base64!", base64.b64encode(b"plain text").decode()):
        with pytest.raises(BadZip):
            decode_upload(bad)
    extract(data, tmp_path / "task")
    assert (tmp_path / "task" / "app.py").read_text() == "x = 1\n"
    with pytest.raises(BadZip):
        extract(_zip({"../escape.py": ""}), tmp_path / "other")
    assert not (tmp_path / "escape.py").exists()


def test_log_shapes() -> None:
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", stream_name("$LATEST"))
    assert stream_name("3", when=0).startswith("1970/01/01/[3]")
    line = report_line("rid", 12.3, 128, 40, init_ms=100.0, status="timeout")
    assert line.split("\t") == [
        "REPORT RequestId: rid",
        "Duration: 12.30 ms",
        "Billed Duration: 13 ms",
        "Memory Size: 128 MB",
        "Max Memory Used: 40 MB",
        "Init Duration: 100.00 ms",
        "Status: timeout",
        "",
    ]
    log = InvocationLog()
    log.add("late", 2000)
    log.extend([[1000, "early"]])  # a worker's clock never makes the log go backwards
    assert log.events == [(2000, "late"), (2000, "early")]
    assert base64.b64decode(log.tail()) == b"late\nearly\n"


def test_frames_round_trip() -> None:
    message = {"type": "invoke", "id": "r1", "event": {"a": [1, "é"]}}
    stream = io.BytesIO(encode_frame(message) + encode_frame({"type": "x"}))
    assert read_frame(stream) == message
    assert read_frame(stream) == {"type": "x"}
    assert read_frame(stream) is None


def test_a_workers_clock_leaves_out_its_wait_for_a_cpu() -> None:
    now: list[float] = [100.0]
    waited: list[float | None] = [7.0]
    clock = EnvironmentClock(lambda: waited[0], lambda: now[0])
    now[0], waited[0] = 110.0, 15.0  # 10 s passed, 8 of them waiting for a CPU
    assert clock.elapsed() == pytest.approx(2.0)
    now[0] = 113.0  # then 3 s running, sleeping or blocked on I/O: all of it counts
    assert clock.elapsed() == pytest.approx(5.0)
    waited[0] = None  # the worker is gone (killed at its timeout): its last wait stands
    now[0] = 114.0
    assert clock.elapsed() == pytest.approx(6.0)


def test_without_schedstat_the_workers_clock_is_the_wall_clock() -> None:
    now = [0.0]
    clock = EnvironmentClock(lambda: None, lambda: now[0])
    now[0] = 4.5
    assert clock.elapsed() == 4.5


def test_the_wait_for_a_cpu_is_read_from_the_kernel() -> None:
    if not Path("/proc/self/schedstat").exists():
        pytest.skip("no /proc/PID/schedstat on this kernel")
    waited = run_queue_wait_s(os.getpid())
    assert waited is not None and waited >= 0
    assert run_queue_wait_s(2**22 + 1) is None  # above Linux's largest pid: no such process


def _worker(fingerprint: tuple[Any, ...]) -> Worker:
    return Worker(cast(WorkerProcess, object()), fingerprint, stream="s")


def test_pool_reuses_warm_workers_and_discards_stale_ones() -> None:
    pool = WorkerPool()
    lease = pool.acquire(("v1",), limit=2, wait_s=0)
    assert lease.grant is Grant.START and lease.worker is None
    first = _worker(("v1",))
    assert pool.release(first, reusable=True) is None
    warm = pool.acquire(("v1",), limit=2, wait_s=0)
    assert warm.grant is Grant.WARM and warm.worker is first
    pool.release(first, reusable=True)
    changed = pool.acquire(("v2",), limit=2, wait_s=0)  # new code or environment
    assert changed.grant is Grant.START and changed.stale == (first,)
    # A busy worker of the old fingerprint is handed back for disposal when released.
    assert pool.release(_worker(("v1",)), reusable=True) is not None


def test_pool_limits_concurrency_and_throttles_after_the_wait() -> None:
    pool = WorkerPool()
    assert pool.acquire(("v",), limit=1, wait_s=0).grant is Grant.START
    assert pool.acquire(("v",), limit=1, wait_s=0.05).grant is Grant.THROTTLED
    broken = _worker(("v",))
    assert pool.release(broken, reusable=False) is broken  # timed out: not reused
    assert pool.acquire(("v",), limit=1, wait_s=0).grant is Grant.START


def test_pool_reaps_idle_workers_and_closes() -> None:
    pool = WorkerPool()
    pool.acquire(("v",), limit=2, wait_s=0)
    worker = _worker(("v",))
    pool.release(worker, reusable=True)
    assert pool.take_idle(older_than=worker.last_used - 1) == []
    assert pool.take_idle(older_than=worker.last_used + 1) == [worker]
    pool.acquire(("v",), limit=1, wait_s=0)
    pool.release(_worker(("v",)), reusable=True)
    assert len(pool.close()) == 1
    assert pool.acquire(("v",), limit=1, wait_s=0).grant is Grant.CLOSED


def test_only_a_role_allowed_to_create_log_groups_lets_lambda_recreate_one() -> None:
    from failover_cli.sandbox.lambda_.logs import _allows_create_log_group

    least = (
        '{"Statement": [{"Effect": "Allow", "Action": '
        '["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}'
    )
    basic = '{"Statement": {"Effect": "Allow", "Action": "logs:Create*", "Resource": "*"}}'
    denied = '{"Statement": [{"Effect": "Deny", "Action": "logs:*", "Resource": "*"}]}'
    assert not _allows_create_log_group(least)
    assert _allows_create_log_group(basic)
    assert not _allows_create_log_group(denied)
    assert _allows_create_log_group('{"Statement": [{"Effect": "Allow", "Action": "*"}]}')
