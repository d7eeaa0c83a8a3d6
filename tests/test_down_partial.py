"""`down` that meets a resource it cannot delete yet still deletes everything else.

The everyday case is DynamoDB's 24-hour rule: a table that seeded a replica cannot be
deleted for a day ("acted as a source region"), so the first `down` after a first `up`
meets it. That failure must hold back only what waits for the table: the role, the
topic and its subscription, the functions and the rest still go, the error names what
remains and why (exit 1), and a later `down` finishes the job.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e_helpers import failover, unique_stack, write_config
from tests.faults import Fault, FaultInjector, Rule
from tests.stack_inventory import inventory

pytestmark = pytest.mark.sandbox

SOURCE_REGION_MESSAGE = (
    "Replica cannot be deleted because it has acted as a source region for new replica(s) "
    "being added to the table in the last 24 hours."
)


def _refuse(monkeypatch: pytest.MonkeyPatch, operation: str, code: str, message: str) -> None:
    """Every call of `operation` made by the command fails with that error (tests/faults.py)."""
    FaultInjector([Rule(Fault.FAIL, operations=(operation,), code=code, message=message)]).install(
        monkeypatch
    )


def test_down_deletes_everything_but_a_table_held_for_24_hours_then_finishes(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = unique_stack("hold")
    config = write_config(tmp_path, stack, "alarms:\n  email: ops@example.com\n")
    names = {"table": f"{stack}.Hello", "function": f"{stack}-fn"}
    assert failover(config, "up").exit_code == 0

    with monkeypatch.context() as patched:
        _refuse(patched, "DeleteTable", "ValidationException", SOURCE_REGION_MESSAGE)
        held = failover(config, "down", "--yes")
    assert held.exit_code == 1, held.stderr
    assert "Traceback" not in held.stderr
    assert f"table {stack}.Hello (us-east-1)" in held.stderr
    assert "24 hours" in held.stderr and "re-run" in held.stderr.lower()
    left = inventory(sandbox_env, stack, **names)
    # Only the table remains (its scaling targets went before it, as they do not wait
    # for it); role, topic, alarms, functions, APIs, health checks, log groups are gone.
    assert set(left) == {"table"}, left
    assert left["table"] == [f"{stack}.Hello (us-east-1)"]

    finished = failover(config, "down", "--yes")
    assert finished.exit_code == 0, finished.stderr
    assert inventory(sandbox_env, stack, **names) == {}


def test_a_failed_delete_holds_back_only_what_waits_for_it(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An API that cannot be deleted keeps its function (which the API invokes) and the
    role and log group the function needs, and nothing else."""
    stack = unique_stack("keep")
    config = write_config(tmp_path, stack)
    names = {"table": f"{stack}.Hello", "function": f"{stack}-fn"}
    assert failover(config, "up").exit_code == 0

    with monkeypatch.context() as patched:
        _refuse(patched, "DeleteRestApi", "InternalFailure", "injected")
        held = failover(config, "down", "--yes")
    assert held.exit_code == 1
    assert "not attempted because they wait for those" in held.stderr
    assert f"function {stack}-fn (us-east-1)" in held.stderr
    left = inventory(sandbox_env, stack, **names)
    assert set(left) == {"api", "function", "log_group", "role"}, left
    assert failover(config, "down", "--yes").exit_code == 0
    assert inventory(sandbox_env, stack, **names) == {}
