"""The phase watcher and the drill against moto in-process (no waiting: a no-sleep clock).

The drill's promise under test: the region is back in the switch afterwards, whether the drill
finished, timed out, met an error, or was interrupted (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from failover_cli.config.schema import DomainConfig
from failover_cli.errors import BadInput
from failover_cli.ops import drill as drill_module
from failover_cli.ops.drill import drill
from failover_cli.ops.failover_observer import HealthReading, Unavailable
from failover_cli.ops.force_fail import force_fail, write_switch
from failover_cli.ops.phase_watch import Goal, watch
from tests.e2e_helpers import failover
from tests.engine_helpers import context, make_config, no_sleep_clock
from tests.ops_fakes import FollowingObserver, deploy_functions, force_failed, replicate
from tests.test_net_http import without_proxies

DOMAIN = DomainConfig(name="hello.example.com", hosted_zone="example.com", routing="failover")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def deployed(aws: None) -> None:
    deploy_functions(make_config())


def _after(polls: int) -> Any:
    """A check that holds from its `polls`-th reading on."""
    seen = {"n": 0}

    def check() -> tuple[bool, str]:
        seen["n"] += 1
        return seen["n"] >= polls, f"reading {seen['n']}"

    return check


# -- the watcher --------------------------------------------------------------------------


def test_watch_times_each_phase_from_the_start_moment() -> None:
    clock = no_sleep_clock()
    started = clock.now()

    def flaky() -> tuple[bool, str]:
        flaky.calls += 1  # type: ignore[attr-defined]
        if flaky.calls == 1:  # type: ignore[attr-defined]
            raise RuntimeError("Throttling")
        return True, "ok"

    flaky.calls = 0  # type: ignore[attr-defined]

    def unavailable() -> tuple[bool, str]:
        raise Unavailable("no TestDNSAnswer here")

    goals = [
        Goal("first", "first", _after(1)),
        Goal("later", "later", _after(4)),
        Goal("flaky", "flaky", flaky),
        Goal("never", "never", lambda: (False, "still no")),
        Goal("skipped", "skipped", _after(1), skip="no domain"),
        Goal("unavailable", "unavailable", unavailable),
    ]
    results, _ = watch(goals, clock=clock, started_at=started, timeout=30, poll=1)
    by_name = {r.name: r for r in results}
    assert [r.name for r in results] == [g.name for g in goals]
    assert by_name["first"].reached and by_name["later"].reached and by_name["flaky"].reached
    assert by_name["first"].seconds is not None and by_name["later"].seconds is not None
    assert by_name["first"].seconds <= by_name["later"].seconds
    assert not by_name["never"].reached and by_name["never"].seconds is None
    assert by_name["never"].seen == "still no"
    assert by_name["skipped"].skipped == "no domain" and not by_name["skipped"].reached
    assert by_name["unavailable"].skipped == "no TestDNSAnswer here"


def test_watch_with_no_time_reads_each_phase_once() -> None:
    clock = no_sleep_clock()
    results, _ = watch(
        [Goal("a", "a", _after(1)), Goal("b", "b", _after(2))],
        clock=clock,
        started_at=clock.now(),
        timeout=0,
    )
    assert [r.reached for r in results] == [True, False]


def test_a_phase_seen_only_by_a_reading_that_ended_past_the_limit_is_missed() -> None:
    """A slow reading (2 s against a 0.1 s limit) must not turn a timed-out drill into a pass."""
    clock = no_sleep_clock()
    said: list[str] = []

    def slow_then_seen() -> tuple[bool, str]:
        clock.sleep(2)
        return True, "unhealthy"

    results, _ = watch(
        [Goal("slow", "slow phase", slow_then_seen), Goal("quick", "quick phase", _after(1))],
        clock=clock,
        started_at=clock.now(),
        timeout=0.1,
        say=said.append,
    )
    slow = results[0]
    assert not slow.reached and slow.seconds is None and slow.seen == "unhealthy"
    assert any("slow phase: not within 0.1s" in line and "seen only after" in line for line in said)


# -- the drill ----------------------------------------------------------------------------


def test_drill_measures_both_halves_and_restores(deployed: None) -> None:
    observer = FollowingObserver()
    with context(make_config(domain=DOMAIN)) as (ctx, calls):
        report = drill(ctx, "us-east-1", timeout=60, observer=observer)
    assert report.complete and report.restored
    assert not force_failed("us-east-1")
    record = report.to_json()
    assert record["health_check"] == {
        "interval_s": 10,
        "failure_threshold": 2,
        "detection_seconds": 20,
    }
    assert [p["name"] for p in record["failover"]["phases"]] == [
        "health_unhealthy",
        "dns_moved",
        "request_moved",
    ]
    assert [p["name"] for p in record["failback"]["phases"]] == [
        "health_healthy",
        "dns_back",
        "request_back",
    ]
    assert all(p["reached"] for half in ("failover", "failback") for p in record[half]["phases"])
    assert set(record["totals"]) == {"failover_seconds", "failback_seconds", "total_seconds"}
    # Forced out, then restored, each through the other region's replica only.
    assert calls.mutating == [("dynamodb", "us-west-2", "UpdateItem")] * 2


def test_drill_of_a_secondary_expects_no_failback_through_dns(deployed: None) -> None:
    with context(make_config(domain=DOMAIN)) as (ctx, _):
        report = drill(ctx, "us-west-2", timeout=60, observer=FollowingObserver())
    assert report.failover is not None and report.failback is not None
    # us-west-2 never served (failover routing: the PRIMARY does), so nothing moves.
    assert [p.skipped is not None for p in report.failover.phases] == [False, True, True]
    assert [p.skipped is not None for p in report.failback.phases] == [False, True, True]
    assert "SECONDARY" in str(report.failback.phases[1].skipped)
    assert report.complete and not force_failed("us-west-2")


def test_drill_without_domain_measures_health_only(deployed: None) -> None:
    with context() as (ctx, _):
        report = drill(ctx, "us-east-1", observer=FollowingObserver(has_domain=False))
    assert report.failover is not None
    assert [p.name for p in report.failover.phases if p.skipped is None] == ["health_unhealthy"]
    assert report.to_json()["domain"] is None and report.complete


def test_drill_timeout_still_restores(deployed: None) -> None:
    class Stuck(FollowingObserver):
        def health(self, region: str) -> HealthReading:
            return HealthReading(region, "check", True, 3, 3)  # never notices anything

    with context() as (ctx, _):
        report = drill(ctx, "us-east-1", timeout=0, observer=Stuck(has_domain=False))
    assert not report.complete and report.restored
    assert report.failover is not None and [p.label for p in report.failover.missed] == [
        "health check of us-east-1 unhealthy"
    ]
    assert not force_failed("us-east-1")


def test_interrupt_during_a_phase_restores(deployed: None) -> None:
    def interrupt(kind: str, region: str) -> None:
        if kind == "health" and region == "us-east-1" and force_failed("us-east-1"):
            raise KeyboardInterrupt

    with context() as (ctx, _), pytest.raises(KeyboardInterrupt):
        drill(ctx, "us-east-1", observer=FollowingObserver(hook=interrupt))
    assert not force_failed("us-east-1")


def test_sigterm_during_a_phase_restores(deployed: None) -> None:
    def terminate(kind: str, region: str) -> None:
        if kind == "request" and force_failed("us-east-1"):
            os.kill(os.getpid(), signal.SIGTERM)  # handled in the main thread: an interrupt

    previous = signal.getsignal(signal.SIGTERM)
    with context(make_config(domain=DOMAIN)) as (ctx, _), pytest.raises(KeyboardInterrupt):
        drill(ctx, "us-east-1", observer=FollowingObserver(hook=terminate))
    assert not force_failed("us-east-1")
    assert signal.getsignal(signal.SIGTERM) is previous  # handlers are put back


def test_an_error_after_the_write_restores(deployed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        assert force_failed("us-east-1")
        raise RuntimeError("the watcher broke")

    monkeypatch.setattr(drill_module, "watch", broken)
    with context() as (ctx, _), pytest.raises(RuntimeError, match="the watcher broke"):
        drill(ctx, "us-east-1", observer=FollowingObserver())
    assert not force_failed("us-east-1")


def test_a_first_interrupt_during_the_restore_is_held_back(
    deployed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted_restore(ctx: Any, region: str, wanted: bool, *args: Any, **kwargs: Any) -> Any:
        if not wanted:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while restoring
        return write_switch(ctx, region, wanted, *args, **kwargs)

    monkeypatch.setattr(drill_module, "write_switch", interrupted_restore)
    with context() as (ctx, _), pytest.raises(KeyboardInterrupt):
        drill(ctx, "us-east-1", observer=FollowingObserver(has_domain=False))
    assert not force_failed("us-east-1")  # restored first, then the interrupt went on


def test_drill_refuses_a_failed_region_and_the_last_healthy_one(deployed: None) -> None:
    with context() as (ctx, calls):
        replicate(force_fail(ctx, "us-west-2").written_in or "")
        calls.calls.clear()
        with pytest.raises(BadInput, match="already forced out"):
            drill(ctx, "us-west-2", observer=FollowingObserver())
        with pytest.raises(BadInput, match="last healthy region") as refused:
            drill(ctx, "us-east-1", observer=FollowingObserver())
    assert "--allow-total-outage" not in (refused.value.hint or "")
    assert calls.mutating == []
    assert not force_failed("us-east-1") and force_failed("us-west-2")


def test_cli_drill_json_on_moto(deployed: None, tmp_path: Path) -> None:
    """No health checks and no domain on moto: every phase is skipped, and said so."""
    config = tmp_path / "failover.yaml"
    config.write_text("stack: hello\nregions: [us-east-1, us-west-2]\n", encoding="utf-8")
    run = failover(config, "drill", "--region", "us-east-1", "--json", "--timeout", "5s")
    assert run.exit_code == 0, run.stderr
    record = json.loads(run.stdout)
    assert record["restored"] is True and record["region"] == "us-east-1"
    assert all(p["skipped"] for p in record["failover"]["phases"] + record["failback"]["phases"])
    assert "Restored" in run.stderr and not force_failed("us-east-1")

    unknown = failover(config, "drill", "--region", "eu-west-1")
    assert unknown.exit_code == 2 and unknown.mutating == []


def test_drill_refuses_at_once_when_the_domain_does_not_resolve(
    deployed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request through the domain would fail with a DNS error: refuse, change nothing."""
    without_proxies(monkeypatch)
    monkeypatch.delenv("FAILOVER_RESOLVE", raising=False)
    config = tmp_path / "failover.yaml"
    config.write_text(
        "stack: hello\nregions: [us-east-1, us-west-2]\n"
        "domain: {name: hello.failover-test.invalid, hosted_zone: failover-test.invalid}\n",
        encoding="utf-8",
    )
    for args in (("drill",), ("force-fail", "--wait"), ("force-fail", "--restore", "--wait")):
        run = failover(config, *args, "--region", "us-east-1")
        assert run.exit_code == 2, run.stdout + run.stderr
        assert "hello.failover-test.invalid does not resolve" in run.stderr
        assert "FAILOVER_RESOLVE is not set" in run.stderr and "Nothing was changed" in run.stderr
        assert run.mutating == [] and not force_failed("us-east-1")


def test_a_time_scale_reports_emulated_seconds_labelled(
    deployed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FAILOVER_TIME_SCALE=10 (what `failover sandbox --time-scale 10` exports): every
    timing also in the system's seconds, ten times the wall figure, and said so."""
    config = tmp_path / "failover.yaml"
    config.write_text("stack: hello\nregions: [us-east-1, us-west-2]\n", encoding="utf-8")
    monkeypatch.setenv("FAILOVER_TIME_SCALE", "10")
    run = failover(config, "drill", "--region", "us-east-1", "--json", "--timeout", "5s")
    assert run.exit_code == 0, run.stderr
    record = json.loads(run.stdout)
    assert record["time_scale"] == 10
    totals = record["totals"]
    assert totals["emulated_total_seconds"] == round(totals["total_seconds"] * 10, 1)
    assert record["failover"]["emulated_total_seconds"] == round(
        record["failover"]["total_seconds"] * 10, 1
    )
    human = failover(config, "drill", "--region", "us-east-1", "--timeout", "5s")
    assert human.exit_code == 0, human.stderr
    assert "time scale 10: emulated = 10 x wall" in human.stdout
    assert "s emulated (" in human.stdout and "s wall)" in human.stdout

    monkeypatch.setenv("FAILOVER_TIME_SCALE", "fast")
    bad = failover(config, "drill", "--region", "us-east-1")
    assert bad.exit_code == 2 and "FAILOVER_TIME_SCALE" in bad.stderr and bad.mutating == []
