"""`rotate-secret` on plain data (state detection, edits, the checkers' rules) and on moto.

moto holds the functions and checks (its GetHealthCheckStatus always says Success,
stamped "now", so each poll is a new report); the sandbox tests watch real checkers.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.engine.secret import NEXT_SECRET_VARIABLE as NEXT
from failover_cli.engine.secret import SECRET_VARIABLE as CURRENT
from failover_cli.engine.secret import fingerprint
from failover_cli.ops.rotate_secret import (
    accepting,
    choose_secret,
    path_with_secret,
    promoting,
    rotate_secret,
    secret_in_path,
)
from failover_cli.ops.rotate_watch import CheckerWatch, Report, reports_of, server_time
from tests.engine_helpers import context, make_config

EAST, WEST = "us-east-1", "us-west-2"
REGIONS = [EAST, WEST]
OLD, NEW, OTHER = "a" * 48, "b" * 48, "c" * 48
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _never() -> str:
    raise AssertionError("a new secret was made while one was pending")


# --- state detection and edits -------------------------------------------------------


def test_a_fresh_rotation_makes_one_new_secret() -> None:
    variables = {EAST: {CURRENT: OLD}, WEST: {CURRENT: OLD}}
    assert choose_secret(variables, REGIONS, {OLD}, lambda: NEW) == (NEW, False)


def test_a_pending_next_is_resumed_never_a_third_secret() -> None:
    only_west = {EAST: {CURRENT: OLD}, WEST: {CURRENT: OLD, NEXT: NEW}}
    assert choose_secret(only_west, REGIONS, {OLD}, _never) == (NEW, True)
    # Half-promoted: east already has the new one only, west still both.
    half = {EAST: {CURRENT: NEW}, WEST: {CURRENT: OLD, NEXT: NEW}}
    assert choose_secret(half, REGIONS, {NEW}, _never) == (NEW, True)
    # Two different pending values (by hand?): the one the checks use wins, else the primary's.
    both = {EAST: {CURRENT: OLD, NEXT: OTHER}, WEST: {CURRENT: OLD, NEXT: NEW}}
    assert choose_secret(both, REGIONS, {NEW}, _never) == (NEW, True)
    assert choose_secret(both, REGIONS, {OLD}, _never) == (OTHER, True)


def test_accepting_adds_next_and_keeps_everything_else() -> None:
    edit = accepting(NEW)
    before = {CURRENT: OLD, "FORCE_FAIL": "true", "OPERATOR_NOTE": "by hand"}
    assert edit(before) == {**before, NEXT: NEW}
    assert edit({CURRENT: OLD, NEXT: NEW}) is None  # already accepts it
    assert edit({CURRENT: NEW}) is None  # already promoted (an interrupted step 4)


def test_promoting_drops_next_and_keeps_everything_else() -> None:
    edit = promoting(NEW)
    before = {CURRENT: OLD, NEXT: NEW, "FORCE_FAIL": "false", "OPERATOR_NOTE": "by hand"}
    assert edit(before) == {CURRENT: NEW, "FORCE_FAIL": "false", "OPERATOR_NOTE": "by hand"}
    assert edit({CURRENT: NEW, "X": "1"}) is None


def test_only_the_secret_of_the_path_changes() -> None:
    path = f"/prod/health?healthCheckerId={OLD}&deep=false"
    assert secret_in_path(path) == OLD
    assert path_with_secret(path, NEW, "prod") == f"/prod/health?healthCheckerId={NEW}&deep=false"
    assert path_with_secret("/prod/health", NEW, "prod") == f"/prod/health?healthCheckerId={NEW}"
    assert secret_in_path("/prod/health") is None


# --- the checkers' rules (step 3) ------------------------------------------------------


def _watch(before: set[str] | None = None, threshold: int = 2) -> CheckerWatch:
    return CheckerWatch(
        "hc", EAST, T0, interval_s=10, threshold=threshold, succeeding_before=before
    )


def _at(seconds: float, ok: bool = True, checker: str = "us-east-1 1.2.3.4") -> Report:
    return Report(checker, T0 + timedelta(seconds=seconds), ok)


def test_a_checker_is_done_after_threshold_plus_one_reports_since_the_switch() -> None:
    watch = _watch()
    assert not watch.done and watch.waiting_for() == ["(no observations yet)"]
    watch.add([_at(-1)])  # before the switch: does not count
    assert not watch.done
    watch.add([_at(0.5)])
    watch.add([_at(0.5)])  # the same report polled twice counts once
    watch.add([_at(1.0)])
    assert not watch.done
    watch.add([_at(1.5)])  # third report since the switch (threshold 2)
    assert watch.done


def test_or_once_its_newest_report_is_interval_times_threshold_after_the_switch() -> None:
    watch = _watch()
    watch.add([_at(5)])
    assert not watch.done
    watch.add([_at(20)])  # 10 s x 2: polls slower than the checkers still finish
    assert watch.done


def test_a_failure_since_the_switch_keeps_it_waiting_unless_it_was_failing_before() -> None:
    failing = _watch(before={"us-east-1 1.2.3.4"})
    for t in (1, 2, 3):
        failing.add([_at(t, ok=False)])
    assert not failing.done  # it succeeded before: the new path must succeed too
    failing.add([_at(4, ok=True)])
    assert failing.done

    down_already = _watch(before=set())  # e.g. FORCE_FAIL on: nothing gets worse
    for t in (1, 2, 3):
        down_already.add([_at(t, ok=False)])
    assert down_already.done


def test_every_checker_in_the_answer_must_be_done() -> None:
    watch = _watch()
    a, b = "us-east-1 1.1.1.1", "us-west-2 2.2.2.2"
    for t in (1, 2, 3):
        watch.add([_at(t, checker=a), _at(-5, checker=b)])
    assert watch.waiting_for() == [b]


def test_reports_and_server_time_read_route53_answers() -> None:
    answer = {
        "HealthCheckObservations": [
            {
                "Region": EAST,
                "IPAddress": "1.2.3.4",
                "StatusReport": {"Status": "Failure: HTTP 403", "CheckedTime": T0},
            }
        ],
        "ResponseMetadata": {"HTTPHeaders": {"date": "Wed, 01 Jan 2025 00:00:00 GMT"}},
    }
    assert reports_of(answer) == [Report("us-east-1 1.2.3.4", T0, False)]
    # The Date header has whole seconds: one more, so an earlier report never looks newer.
    assert server_time(answer, lambda: T0) == T0 + timedelta(seconds=1)
    assert server_time({}, lambda: T0) == T0 + timedelta(seconds=1)


# --- against moto --------------------------------------------------------------------


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def _deploy(*, checks: bool = True, extra: dict[str, str] | None = None) -> None:
    """The stack's functions (and health checks) as `up` leaves them, made by hand."""
    role = boto3.client("iam", EAST).create_role(
        RoleName="hello-function", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    r53 = boto3.client("route53", EAST)
    for region in REGIONS:
        boto3.client("lambda", region).create_function(
            FunctionName="thelambda",
            Runtime="python3.13",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _zip()},
            Environment={"Variables": {CURRENT: OLD, "FORCE_FAIL": "false", **(extra or {})}},
            Tags={"failover:stack": "hello", "failover:managed-by": "failover"},  # as `up` does
        )
        if not checks:
            continue
        check_id = r53.create_health_check(
            CallerReference=f"ref-{region}",
            HealthCheckConfig={
                "Type": "HTTPS_STR_MATCH",
                "FullyQualifiedDomainName": f"api.execute-api.{region}.amazonaws.com",
                "Port": 443,
                "ResourcePath": f"/prod/health?healthCheckerId={OLD}",
                "SearchString": "hello from",
                "RequestInterval": 10,
                "FailureThreshold": 2,
                "Regions": ["us-east-1", "us-west-1", "us-west-2"],
                "EnableSNI": True,
            },
        )["HealthCheck"]["Id"]
        r53.change_tags_for_resource(
            ResourceType="healthcheck",
            ResourceId=check_id,
            AddTags=[
                {"Key": "Name", "Value": f"hello-{region}"},
                {"Key": "failover:stack", "Value": "hello"},
                {"Key": "failover:managed-by", "Value": "failover"},
            ],
        )


def _variables(region: str) -> dict[str, str]:
    answer = boto3.client("lambda", region).get_function_configuration(FunctionName="thelambda")
    variables: dict[str, str] = answer["Environment"]["Variables"]
    return variables


def _check_configs() -> list[dict[str, Any]]:
    r53 = boto3.client("route53", EAST)
    return [c["HealthCheckConfig"] for c in r53.list_health_checks()["HealthChecks"]]


def test_rotation_moves_functions_and_checks_in_order(aws: None) -> None:
    _deploy(extra={"OPERATOR_NOTE": "by hand"})
    said: list[str] = []
    with context(make_config()) as (ctx, calls):
        report = rotate_secret(ctx, make_secret=lambda: NEW, say=said.append)
    for region in REGIONS:
        assert _variables(region) == {
            CURRENT: NEW,
            "FORCE_FAIL": "false",
            "OPERATOR_NOTE": "by hand",
        }
    for config in _check_configs():
        assert config["ResourcePath"] == f"/prod/health?healthCheckerId={NEW}"
        assert config["Regions"] == ["us-east-1", "us-west-1", "us-west-2"]  # resent, kept
        assert config["SearchString"] == "hello from" and config["EnableSNI"] is True
    writes = [op for _s, _r, op in calls.mutating]
    assert (
        writes
        == ["UpdateFunctionConfiguration"] * 2
        + ["UpdateHealthCheck"] * 2
        + ["UpdateFunctionConfiguration"] * 2
    )
    assert report.old == "****(48)" and report.new == "****(48)" and not report.resumed
    # A short one-way fingerprint of each shows that the secret changed.
    assert report.old_fingerprint == fingerprint(OLD) and report.new_fingerprint == fingerprint(NEW)
    assert re.fullmatch(r"sha256:[0-9a-f]{8}", report.new_fingerprint)
    assert report.old_fingerprint != report.new_fingerprint
    assert report.observed_seconds is not None
    data = report.to_json()
    assert all(f["accepted_both"] and f["promoted"] for f in data["functions"])
    assert all(c["switched"] for c in data["health_checks"])
    text = repr(report) + repr(data) + "\n".join(said)
    assert OLD not in text and NEW not in text


def test_resume_after_step_two_finishes_with_the_pending_secret(aws: None) -> None:
    _deploy()
    lam = boto3.client("lambda", WEST)  # as an interrupted run leaves it: west accepts both,
    lam.update_function_configuration(  # east not yet; the checks already probe the new one
        FunctionName="thelambda",
        Environment={"Variables": {CURRENT: OLD, NEXT: NEW, "FORCE_FAIL": "false"}},
    )
    r53 = boto3.client("route53", EAST)
    for check in r53.list_health_checks()["HealthChecks"]:
        r53.update_health_check(
            HealthCheckId=check["Id"],
            ResourcePath=f"/prod/health?healthCheckerId={NEW}",
            Regions=check["HealthCheckConfig"]["Regions"],
        )
    with context(make_config()) as (ctx, calls):
        report = rotate_secret(ctx, make_secret=_never)
    assert report.resumed and report.new == "****(48)"
    assert {r: _variables(r)[CURRENT] for r in REGIONS} == {EAST: NEW, WEST: NEW}
    assert all(NEXT not in _variables(r) for r in REGIONS)
    assert [op for _s, _r, op in calls.mutating].count("UpdateHealthCheck") == 0
    assert not any(c["switched"] for c in report.to_json()["health_checks"])


def test_without_health_checks_steps_two_and_three_are_skipped(aws: None) -> None:
    _deploy(checks=False)
    said: list[str] = []
    with context(make_config()) as (ctx, _calls):
        report = rotate_secret(ctx, make_secret=lambda: NEW, say=said.append)
    assert report.checks == () and report.observed_seconds is None
    assert any("No health checks found" in line for line in said)
    assert {r: _variables(r) for r in REGIONS} == {
        r: {CURRENT: NEW, "FORCE_FAIL": "false"} for r in REGIONS
    }


def test_a_missing_function_stops_before_any_change(aws: None) -> None:
    _deploy()
    boto3.client("lambda", WEST).delete_function(FunctionName="thelambda")
    from failover_cli.errors import FailoverError

    with context(make_config()) as (ctx, calls), pytest.raises(FailoverError) as raised:
        rotate_secret(ctx, make_secret=lambda: NEW)
    assert "does not exist" in raised.value.message and raised.value.region == WEST
    assert calls.mutating == []


def test_step_three_gives_up_naming_the_checkers_with_a_resume_hint(aws: None) -> None:
    from failover_cli.errors import TimeoutExpired
    from failover_cli.ops.rotate_secret import RESUME_HINT
    from failover_cli.ops.rotate_watch import await_new_path

    _deploy()
    check_id = boto3.client("route53", EAST).list_health_checks()["HealthChecks"][0]["Id"]
    # Switched "tomorrow": no report can ever count, so the wait runs out.
    watch = CheckerWatch(check_id, EAST, datetime.now(UTC) + timedelta(days=1), 10, 2)
    with context(make_config()) as (ctx, _calls), pytest.raises(TimeoutExpired) as raised:
        await_new_path(ctx, [watch], timeout=30, hint=RESUME_HINT)
    text = raised.value.render()
    assert "Timed out after 30s" in text and "us-east-1: us-east-1 127.0.13.37" in text
    assert "re-run `failover rotate-secret` to resume" in text
