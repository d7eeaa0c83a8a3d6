"""Transient faults are absorbed, persistent ones are named: throttling, 500s, lost answers,
dropped connections (tests/faults.py injects them between botocore and the sandbox).

- `up` converges with 10% of requests throttled and 5% answered 500 (seeded), and so
  do `plan` and `down` under the same weather;
- `up` converges when the answer to the first attempt of every mutating call is lost
  after AWS did the work (botocore resends it: the resend must not make a second
  resource or stop the run), and `down` likewise;
- `status` and `plan` read through dropped connections on a share of reads; when one
  read keeps failing `plan` exits 1 naming the region and the operation, and `status`
  reports that region unreachable (exit 3) naming the operation.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from failover_cli.aws.deadlines import READ_ONLY
from tests.e2e_helpers import Run, failover, write_config
from tests.faults import (
    Fault,
    FaultInjector,
    Rule,
    shorten_botocore_backoff,
    throttle_and_fail,
)
from tests.stack_inventory import CONVERGED_NO_DOMAIN, fingerprints, inventory

pytestmark = pytest.mark.sandbox
SEED = 20240611


def _stack(prefix: str) -> tuple[str, dict[str, str]]:
    stack = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return stack, {"table": f"{stack}.Hello", "function": f"{stack}-fn"}


# status's --timeout for these runs: its wall deadline per region (10 s by default) is not
# what is tested here, and a busy machine spends it on reads that would all have answered,
# calling the regions unreachable (exit 3) through no fault of the drops.
AMPLE = "120"


def _facts(status: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What each region's reads found: the resources and the function's state."""
    return [
        (
            r["region"],
            r["table"]["name"],
            r["function"]["state"],
            r["api"]["id"],
            r["health_check"]["id"],
            r["alarm"]["name"],
        )
        for r in status["regions"]
    ]


def _ok(run: Run, code: int = 0) -> None:
    assert run.exit_code == code, (run.exit_code, run.stdout[-2000:], run.stderr[-2000:])
    assert "Traceback" not in run.stderr


def _counts(sandbox: str, stack: str, names: dict[str, str]) -> dict[str, int]:
    seen = fingerprints(sandbox, stack, names["function"])
    return {k: len(v) for k, v in inventory(sandbox, stack, seen=seen, **names).items()}


def test_up_plan_and_down_converge_through_throttling_and_server_errors(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, names = _stack("weather")
    config = write_config(tmp_path, stack)
    injector = FaultInjector(throttle_and_fail(0.10, 0.05), seed=SEED).install(monkeypatch)
    _ok(failover(config, "up"))
    _ok(failover(config, "plan", "--detailed-exitcode"))  # converged: nothing pending
    assert injector.total(Fault.THROTTLE) > 0 and injector.total(Fault.SERVER_ERROR) > 0
    mutating_struck = [k for k in injector.injected if not k[1].split(":")[1].startswith("Get")]
    assert mutating_struck, injector.summary()
    assert _counts(sandbox_env, stack, names) == CONVERGED_NO_DOMAIN
    seen = fingerprints(sandbox_env, stack, names["function"])
    _ok(failover(config, "down", "--yes"))
    assert inventory(sandbox_env, stack, seen=seen, **names) == {}
    share = injector.total() / injector.attempts
    print(f"{injector.total()} faults in {injector.attempts} requests ({share:.0%})")


def test_every_lost_answer_to_a_write_is_resent_without_harm(
    sandbox_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, names = _stack("lost")
    config = write_config(tmp_path, stack)
    # The first attempt of each kind of write (per service, region and operation)
    # reaches the sandbox and takes effect; its answer is dropped; botocore resends.
    injector = FaultInjector([Rule(Fault.RESET, mutating=True, nth=1)]).install(monkeypatch)
    _ok(failover(config, "up"))
    struck_up = injector.total()
    assert struck_up >= 20, injector.summary()  # every kind of write of a clean up
    _ok(failover(config, "plan", "--detailed-exitcode"))  # converged: nothing pending
    assert _counts(sandbox_env, stack, names) == CONVERGED_NO_DOMAIN
    seen = fingerprints(sandbox_env, stack, names["function"])
    _ok(failover(config, "down", "--yes"))
    assert injector.total() > struck_up, injector.summary()  # the deletes too
    assert inventory(sandbox_env, stack, seen=seen, **names) == {}


@pytest.fixture
def deployed(sandbox_env: str, tmp_path: Path) -> tuple[Path, str]:
    stack, _ = _stack("reads")
    config = write_config(tmp_path, stack)
    _ok(failover(config, "up"))
    yield config, stack
    _ok(failover(config, "down", "--yes"))


def test_status_and_plan_read_through_dropped_connections_and_name_a_read_that_keeps_failing(
    deployed: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, stack = deployed
    clean = failover(config, "status", "--json", "--timeout", AMPLE)
    assert clean.exit_code in (0, 3), clean.stderr
    with monkeypatch.context() as patched:
        injector = FaultInjector(
            # Drops botocore's attempts absorb: at 0.3 one of status's reads (GetAlias, new
            # with the alias) lost all five attempts to this seed, which is an outage and
            # rightly said as one; at 0.15 five in a row is a 1-in-13,000 chance per call.
            [Rule(Fault.DROP, mutating=False, rate=0.15), Rule(Fault.DELAY, delay_ms=20, rate=0.3)],
            seed=SEED,
        ).install(patched)
        status = failover(config, "status", "--json", "--timeout", AMPLE)
        plan = failover(config, "plan")
    assert injector.total(Fault.DROP) > 0 and injector.total(Fault.DELAY) > 0
    assert status.exit_code in (0, 3) and "Traceback" not in status.stderr, status.stderr
    seen = json.loads(status.stdout)
    assert seen["stack"] == stack and [r["region"] for r in seen["regions"]] == [
        "us-east-1",
        "us-west-2",
    ]
    # What the drops could have cost is a read, so that is what is compared: every fact
    # read, and the same as without them. Not the exit code: the live probes and the health
    # checkers' reports (no AWS reads, no faults) can differ between the two runs on a
    # busy machine, and either makes a status degraded.
    assert seen["unread"] == [] and all(r["reachable"] and not r["unread"] for r in seen["regions"])
    assert _facts(seen) == _facts(json.loads(clean.stdout))
    assert all(r["function"]["state"] == "Active" for r in seen["regions"])
    _ok(plan)

    # One read that fails every time (the read-only deadline's attempts spent): `plan`
    # exits 1 naming it; `status` reports the region unreachable, naming it, and exits 3.
    for command, fault in (("status", Fault.DROP), ("plan", Fault.SERVER_ERROR)):
        rule = Rule(fault, operations=("dynamodb:DescribeTable",), regions=("us-west-2",))
        with monkeypatch.context() as patched:
            shorten_botocore_backoff(patched)
            injector = FaultInjector([rule]).install(patched)
            run = (
                failover(config, command, "--json", "--timeout", AMPLE)
                if command == "status"
                else None
            )
            run = run or failover(config, command)
        assert injector.total() >= READ_ONLY.max_attempts  # the first attempt and retries
        assert "Traceback" not in run.stderr
        if command == "status":
            assert run.exit_code == 3, (run.stdout[-1000:], run.stderr[-1000:])
            west = json.loads(run.stdout)["regions"][1]
            assert west["reachable"] is False and "DescribeTable failed" in west["error"]
            continue
        assert run.exit_code == 1, (command, run.stdout[-1000:], run.stderr[-1000:])
        assert "DescribeTable failed" in run.stderr and "us-west-2" in run.stderr, run.stderr
