"""`status` rules on plain data: Route 53's 18% rule, region and stack health, the JSON shape."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from rich.console import Console

from failover_cli.cli.status_view import render_status
from failover_cli.ops.status_model import (
    MISSING,
    AlarmView,
    ApiView,
    CheckerReport,
    DnsView,
    FunctionView,
    HealthCheckView,
    ProbeView,
    RegionStatus,
    ServingView,
    StackStatus,
    Subscription,
    SwitchView,
    TableView,
    missing_check,
    summarise_check,
)

OK = "Success: HTTP Status Code 200, OK"
FAIL = "Failure: HTTP Status Code 503, Service Unavailable"


def _reports(successes: int, failures: int) -> list[CheckerReport]:
    good = [CheckerReport(f"good-{i}", OK) for i in range(successes)]
    return good + [CheckerReport(f"bad-{i}", FAIL) for i in range(failures)]


@pytest.mark.parametrize(
    ("successes", "failures", "status"),
    [
        (3, 0, "healthy"),
        (0, 3, "unhealthy"),
        (1, 2, "healthy"),  # 33% > 18%
        (1, 5, "unhealthy"),  # 16.7% is not above 18%
        (2, 8, "healthy"),  # 20%
        (0, 0, "unknown"),  # no checker has reported yet
    ],
)
def test_route53_counts_a_check_healthy_above_18_percent(
    successes: int, failures: int, status: str
) -> None:
    view = summarise_check("hc-1", _reports(successes, failures))
    assert (view.status, view.healthy_checkers, view.checkers) == (
        status,
        successes,
        successes + failures,
    )


def test_disabled_counts_healthy_and_inverted_flips_each_report() -> None:
    assert summarise_check("hc", _reports(0, 3), disabled=True).status == "healthy"
    inverted = summarise_check("hc", _reports(0, 3), inverted=True)
    assert (inverted.status, inverted.healthy_checkers) == ("healthy", 3)


def test_the_last_failure_is_the_newest_failing_observation() -> None:
    older = CheckerReport("us-east-1", "Failure: old", datetime(2025, 1, 1, 12, 0, tzinfo=UTC))
    newer = CheckerReport("us-west-1", "Failure: new", datetime(2025, 1, 1, 12, 5, tzinfo=UTC))
    view = summarise_check("hc", [older, newer, CheckerReport("us-west-2", OK)])
    assert view.last_failure == "Failure: new"
    assert summarise_check("hc", _reports(3, 0)).last_failure is None


def _region(name: str = "us-east-1", **changes: object) -> RegionStatus:
    base = RegionStatus(
        region=name,
        primary=name == "us-east-1",
        table=TableView("t", "ACTIVE"),
        function=FunctionView("fn", "Active", "Successful", False),
        api=ApiView("abc", f"https://abc.execute-api.{name}.amazonaws.com/prod"),
        health_check=HealthCheckView("hc", "healthy", 3, 3),
        alarm=AlarmView(f"s-{name}-health", "OK"),
        probes=(
            ProbeView("shallow", "https://…?healthCheckerId=abcd…", 200, 12.0),
            ProbeView("deep", "https://…&deep=true", 200, 30.0),
        ),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_region_with_everything_working_is_healthy() -> None:
    region = _region()
    assert region.healthy and region.problems == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"function": FunctionView("fn", "Active", None, True)}, "FORCE_FAIL is on"),
        ({"function": FunctionView("fn", "Pending")}, "function Pending"),
        ({"function": FunctionView("fn", MISSING)}, "function missing"),
        ({"health_check": HealthCheckView("hc", "unhealthy", 0, 3)}, "health check unhealthy"),
        ({"api": ApiView(), "probes": ()}, "API missing"),
        ({"probes": (ProbeView("shallow", "u", 503, 5.0),)}, "shallow probe: HTTP 503"),
        ({"probes": (ProbeView("deep", "u", 0, 5.0, "timed out"),)}, "deep probe: no answer"),
    ],
)
def test_what_makes_a_region_unhealthy(changes: dict[str, object], problem: str) -> None:
    region = _region(**changes)
    assert not region.healthy
    assert any(p.startswith(problem) for p in region.problems), region.problems


def test_a_missing_or_silent_health_check_alone_does_not_fail_a_region() -> None:
    # "health check healthy (if one exists)"; Route 53 treats an unreported check as healthy.
    assert _region(health_check=missing_check()).healthy
    assert _region(health_check=HealthCheckView("hc", "unknown")).healthy
    # Alarm state and table status are shown but do not decide health.
    assert _region(alarm=AlarmView("a", "ALARM")).healthy


def _stack(*regions: RegionStatus, **kw: object) -> StackStatus:
    return StackStatus("hello", regions, **kw)  # type: ignore[arg-type]


def test_stack_health_and_exit_codes() -> None:
    healthy = _stack(_region(), _region("us-west-2"))
    assert healthy.healthy and healthy.exit_code == 0
    degraded = _stack(
        _region(function=FunctionView("fn", "Active", None, True)), _region("us-west-2")
    )
    assert not degraded.healthy and degraded.exit_code == 3


def test_a_stack_with_nothing_at_all_is_not_deployed_and_exits_3() -> None:
    nothing = _region(
        table=TableView("t", MISSING),
        function=FunctionView("fn", MISSING),
        api=ApiView(),
        health_check=missing_check(),
        alarm=AlarmView("a", MISSING),
        probes=(),
    )
    status = _stack(nothing, replace(nothing, region="us-west-2", primary=False))
    assert not status.deployed and not status.healthy and status.exit_code == 3
    assert status.to_json()["deployed"] is False
    # Only the topic left (a half-finished `down`) still counts as deployed.
    assert _stack(nothing, topic_arn="arn:aws:sns:us-east-1:1:hello-alarms").deployed


def test_json_has_the_spec_shape_and_the_extras() -> None:
    serving = ServingView("https://hello.example.com/v1/hello?…", 200, 20.0, "us-west-2")
    dns = DnsView("hello.example.com", "Z1", "A", ("1.2.3.4",), "NOERROR")
    status = _stack(
        _region(),
        _region("us-west-2", table=TableView("t", "ACTIVE", "ACTIVE")),
        dns=dns,
        serving=serving,
        topic_arn="arn",
        subscriptions=(Subscription("ops@example.com", True),),
    )
    data = json.loads(json.dumps(status.to_json()))
    assert (data["stack"], data["healthy"], data["serving_region"]) == ("hello", True, "us-west-2")
    first = data["regions"][0]
    assert set(first) >= {"region", "healthy", "force_fail", "table", "function", "api"}
    assert first["table"]["status"] == "ACTIVE" and first["function"]["state"] == "Active"
    assert first["api"] == {
        "id": "abc",
        "url": "https://abc.execute-api.us-east-1.amazonaws.com/prod",
    }
    assert first["health_check"] == {
        "id": "hc",
        "status": "healthy",
        "healthy_checkers": 3,
        "checkers": 3,
        "last_failure": None,
        "override": False,
        "note": None,
    }
    assert first["reachable"] is True and first["error"] is None and first["unread"] == []
    assert "overrides" not in first and first["switch"] is None  # the switch replaces them
    assert first["alarm"]["state"] == "OK" and first["probe"]["shallow"]["ok"] is True
    assert data["regions"][1]["table"]["replica_status"] == "ACTIVE"
    assert data["dns"]["record_data"] == ["1.2.3.4"]
    assert data["alarms"]["subscriptions"] == [{"endpoint": "ops@example.com", "pending": True}]


def test_without_a_domain_there_is_no_serving_region() -> None:
    data = _stack(_region()).to_json()
    assert data["serving_region"] is None and data["dns"] is None and data["serving"] is None


def _rendered(status: StackStatus) -> str:
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(render_status(status))
    return out.getvalue()


def test_human_view_names_regions_problems_and_the_serving_region() -> None:
    status = _stack(
        _region(function=FunctionView("fn", "Active", None, True)),
        _region("us-west-2"),
        dns=DnsView("hello.example.com", "Z1", "A", ("1.2.3.4",), "NOERROR"),
        serving=ServingView("https://hello.example.com/v1/hello?…", 200, 20.0, "us-west-2"),
        topic_arn="arn",
        subscriptions=(Subscription("ops@example.com", True),),
    )
    text = _rendered(status)
    assert "degraded" in text and "FORCE_FAIL is on" in text
    assert "1.2.3.4" in text and "Serving region" in text and "us-west-2" in text
    assert "pending: click the link" in text


def test_human_view_of_a_stack_that_does_not_exist() -> None:
    nothing = _region(
        table=TableView("t", MISSING),
        function=FunctionView("fn", MISSING),
        api=ApiView(),
        health_check=missing_check(),
        alarm=AlarmView("a", MISSING),
        probes=(),
    )
    assert "not deployed" in _rendered(_stack(nothing))


def _realistic(region: str) -> RegionStatus:
    api = f"https://w19lezhxbs.execute-api.{region}.amazonaws.com/prod"
    return _region(
        region,
        function=replace(
            FunctionView("hello-function", "Active", "Successful"),
            live_version="12",
            live_code="GMPFpQ/jjVKwAerE0X+R+U+5RKlKYpHL4n1HeKRM88Q=",
            live_since="2026-12-07T00:03:36.033387000Z",
        ),
        api=ApiView("w19lezhxbs", api),
        health_check=HealthCheckView("04343ba9-4510-43fc-8d4f-a70d48ad73c7", "healthy", 3, 3),
        probes=(
            ProbeView("shallow", f"{api}/health?healthCheckerId=****(48)", 200, 48.0, "Hi"),
            ProbeView("deep", f"{api}/health?healthCheckerId=****(48)&deep=true", 200, 92.0),
        ),
    )


def _realistic_stack() -> StackStatus:
    target = "d-w47p6lfgsk.execute-api.us-east-1.amazonaws.com"
    return _stack(
        _realistic("us-east-1"),
        _realistic("us-west-2"),
        dns=DnsView("hello.example.com", "1J7FI2WJWBTLMS6HD0Y20N", "A", ("192.0.2.1", target)),
        serving=ServingView(
            "https://hello.example.com/v1/hello?healthCheckerId=****(48)", 200, 65.0, "us-east-1"
        ),
        topic_arn="arn",
        subscriptions=(Subscription("ops@example.com", True),),
    )


def test_on_an_80_column_terminal_no_status_row_folds() -> None:
    out = io.StringIO()
    Console(file=out, width=80, color_system=None, force_terminal=True).print(
        render_status(_realistic_stack())
    )
    lines = out.getvalue().splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    # Every row starts with its label or continues one: a folded value would leave a row
    # whose text starts in the value column without the label's continuation marks.
    values = [line.strip() for line in lines if line.startswith(" " * 18) and line.strip()]
    assert values and all(v.startswith(("…/health", "https://")) for v in values), values
    text = out.getvalue()
    for whole in (  # each on one line: copy-paste works
        "https://w19lezhxbs.execute-api.us-east-1.amazonaws.com/prod",
        "https://w19lezhxbs.execute-api.us-west-2.amazonaws.com/prod",
        "…/health?healthCheckerId=****(48)&deep=true",
        "https://hello.example.com/v1/hello?healthCheckerId=****(48)",
        "healthy 3/3 checkers (04343ba9-4510-43fc-8d4f-a70d48ad73c7)",
    ):
        assert whole in text, whole
    assert "us-east-1's API" in text and "d-w47p6lfgsk" not in text
    assert "since 2026-12-07 00:03:36 UTC" in text


def test_status_to_a_pipe_ends_each_line_with_its_text(capsys: pytest.CaptureFixture[str]) -> None:
    from failover_cli.cli.render import print_result, result_console

    print_result(result_console(), render_status(_realistic_stack()))
    printed = capsys.readouterr().out
    assert printed.strip() and all(line == line.rstrip() for line in printed.splitlines())
    assert "https://w19lezhxbs.execute-api.us-east-1.amazonaws.com/prod\n" in printed


def test_the_switch_rows_name_a_replica_that_disagrees() -> None:
    switch = SwitchView(
        "us-east-1",
        {"us-east-1": False, "us-west-2": True, "eu-west-1": None},
        {"at": "2026-12-07T00:00:00Z", "by": "ops", "why": "drill"},
        {"us-west-2": "unhealthy", "eu-west-1": "healthy"},
        "unhealthy",
    )
    text = _rendered(_stack(_region(switch=switch), _region("us-west-2")))
    assert "forced out since 2026-12-07T00:00:00Z by ops: drill" in text
    assert "us-east-1 says in" in text and "not read in eu-west-1" in text
    assert "unhealthy · readers: us-west-2 unhealthy, eu-west-1 healthy" in text
    assert "forced out by the switch" in text  # the region's verdict says why


def _serving(name: str, version: str, code: str, release: str) -> RegionStatus:
    function = FunctionView(
        "fn", "Active", "Successful", live_version=version, live_code=code, live_release=release
    )
    return _region(name, function=function)


def test_regions_on_different_releases_are_named_even_when_only_settings_differ() -> None:
    same = _stack(
        _serving("us-east-1", "4", "c0de", "r1"), _serving("us-west-2", "7", "c0de", "r1")
    )
    assert "different releases" not in _rendered(same)
    # A settings-only release (memory, an environment variable) stopped part way.
    split = _stack(
        _serving("us-east-1", "4", "c0de", "r1"), _serving("us-west-2", "8", "c0de", "r2")
    )
    said = " ".join(_rendered(split).split())
    assert "Regions serve different releases: us-east-1 version 4 (code c0de, release r1)" in said
    assert "us-west-2 version 8 (code c0de, release r2)" in said
