"""How an alarm judges its metric (cloudwatch/alarm_rules.py): plain samples, fixed clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from failover_cli.sandbox.cloudwatch.alarm_messages import (
    AlarmFacts,
    Transition,
    region_name,
    structured_message,
    subject,
)
from failover_cli.sandbox.cloudwatch.alarm_rules import (
    AlarmState,
    Rule,
    Sample,
    aggregate,
    evaluate,
    periods,
)

NOW = datetime(2026, 5, 1, 10, 0, 0, tzinfo=UTC)
MINUTE = timedelta(seconds=60)


def rule(**changes: object) -> Rule:
    """The tool's alarm: Minimum of HealthCheckStatus below 1 for one minute."""
    settings: dict[str, object] = {
        "statistic": "Minimum",
        "extended_statistic": None,
        "period": 60,
        "evaluation_periods": 1,
        "datapoints_to_alarm": None,
        "threshold": 1.0,
        "comparison": "LessThanThreshold",
        "treat_missing_data": "breaching",
    }
    settings.update(changes)
    return Rule(**settings)  # type: ignore[arg-type]


def samples(*values_seconds_ago: tuple[float, float]) -> list[Sample]:
    return [Sample.of(NOW - timedelta(seconds=ago), value) for value, ago in values_seconds_ago]


def judge(alarm: Rule, data: list[Sample], length: timedelta = MINUTE) -> AlarmState | None:
    return evaluate(alarm, periods(data, alarm, NOW, length), NOW).state


def test_one_unhealthy_sample_in_the_minute_raises_the_alarm() -> None:
    data = samples((1, 50), (0, 30), (1, 10))
    result = evaluate(rule(), periods(data, rule(), NOW, MINUTE), NOW)
    assert result.state is AlarmState.ALARM
    assert result.reason == (
        "Threshold Crossed: 1 datapoint [0.0 (01/05/26 09:59:00)] "
        "was less than the threshold (1.0)."
    )
    assert result.reason_data["statistic"] == "Minimum"
    assert result.reason_data["recentDatapoints"] == [0.0]
    assert result.reason_data["evaluatedDatapoints"][0]["sampleCount"] == 3


def test_a_healthy_minute_is_ok_and_says_so() -> None:
    result = evaluate(rule(), periods(samples((1, 30)), rule(), NOW, MINUTE), NOW)
    assert result.state is AlarmState.OK
    assert "was not less than the threshold (1.0)" in result.reason


def test_samples_older_than_the_evaluation_range_do_not_count() -> None:
    assert judge(rule(), samples((0, 90), (1, 20))) is AlarmState.OK


@pytest.mark.parametrize(
    ("treat", "expected"),
    [
        ("missing", AlarmState.INSUFFICIENT_DATA),
        ("breaching", AlarmState.ALARM),
        ("notBreaching", AlarmState.OK),
        ("ignore", None),
    ],
)
def test_treat_missing_data_decides_a_minute_without_data(
    treat: str, expected: AlarmState | None
) -> None:
    assert judge(rule(treat_missing_data=treat), []) is expected


def test_m_out_of_n_needs_enough_breaching_periods() -> None:
    alarm = rule(evaluation_periods=3, datapoints_to_alarm=2, treat_missing_data="missing")
    one_bad = samples((0, 150), (1, 90), (1, 30))
    two_bad = samples((0, 150), (1, 90), (0, 30))
    assert judge(alarm, one_bad) is AlarmState.OK
    assert judge(alarm, two_bad) is AlarmState.ALARM
    result = evaluate(alarm, periods(two_bad, alarm, NOW, MINUTE), NOW)
    assert result.reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints")


def test_missing_periods_count_as_breaching_when_told_so() -> None:
    alarm = rule(evaluation_periods=2, treat_missing_data="breaching")
    assert judge(alarm, samples((0, 30))) is AlarmState.ALARM
    assert judge(alarm, samples((1, 30))) is AlarmState.OK


def test_periods_are_in_real_time_when_the_clock_is_scaled() -> None:
    # Time scale 10: a 60 s period lasts 6 real seconds; a sample 8 s ago is outside it.
    assert judge(rule(), samples((0, 8), (1, 2)), timedelta(seconds=6)) is AlarmState.OK
    assert judge(rule(), samples((0, 4), (1, 2)), timedelta(seconds=6)) is AlarmState.ALARM


@pytest.mark.parametrize(
    ("statistic", "expected"),
    [("Minimum", 1.0), ("Maximum", 5.0), ("Sum", 9.0), ("SampleCount", 3.0), ("Average", 3.0)],
)
def test_statistics(statistic: str, expected: float) -> None:
    assert aggregate(samples((1, 1), (3, 2), (5, 3)), rule(statistic=statistic)) == expected


def test_percentiles_and_aggregated_samples() -> None:
    p50 = rule(statistic=None, extended_statistic="p50")
    assert aggregate(samples((1, 1), (3, 2), (5, 3), (7, 4)), p50) == 3.0
    aggregated = Sample(NOW, minimum=2.0, maximum=8.0, total=20.0, count=4.0)
    assert aggregate([aggregated], rule(statistic="Average")) == 5.0
    assert aggregate([aggregated], rule(statistic="Maximum")) == 8.0


def test_unsupported_rules_are_recognised() -> None:
    assert rule().supported
    assert not rule(comparison="LessThanLowerOrGreaterThanUpperThreshold").supported
    assert not rule(statistic=None, extended_statistic="tm99").supported


def test_the_notification_is_cloudwatchs_json_for_machines_and_text_for_e_mail() -> None:
    facts = AlarmFacts(
        name="hello-us-east-1-health",
        description=None,
        account_id="123456789012",
        region="us-east-1",
        arn="arn:aws:cloudwatch:us-east-1:123456789012:alarm:hello-us-east-1-health",
        configuration_updated=NOW,
        namespace="AWS/Route53",
        metric_name="HealthCheckStatus",
        dimensions=(("HealthCheckId", "abc"),),
        statistic="Minimum",
        extended_statistic=None,
        unit=None,
        period=60,
        evaluation_periods=1,
        datapoints_to_alarm=None,
        comparison="LessThanThreshold",
        threshold=1.0,
        treat_missing_data="breaching",
        ok_actions=("arn:aws:sns:us-east-1:123456789012:hello-alarms",),
        alarm_actions=("arn:aws:sns:us-east-1:123456789012:hello-alarms",),
        insufficient_data_actions=(),
    )
    change = Transition("OK", "ALARM", "Threshold Crossed: …", "{}", NOW)
    assert region_name("us-east-1") == "US East (N. Virginia)"
    assert subject(facts, change) == 'ALARM: "hello-us-east-1-health" in US East (N. Virginia)'
    parts = json.loads(structured_message(facts, change))
    document = json.loads(parts["default"])
    assert document["NewStateValue"] == "ALARM" and document["OldStateValue"] == "OK"
    assert document["Trigger"]["Dimensions"] == [{"value": "abc", "name": "HealthCheckId"}]
    assert document["Trigger"]["Statistic"] == "MINIMUM"
    assert document["StateChangeTime"] == "2026-05-01T10:00:00.000+0000"
    assert 'Alarm "hello-us-east-1-health"' in parts["email"]
    assert "- State Change:               OK -> ALARM" in parts["email"]


def test_old_health_check_datapoints_are_forgotten_from_the_head_only() -> None:
    from types import SimpleNamespace

    from failover_cli.sandbox.route53.metrics import METRIC, NAMESPACE, _forget_before

    base = datetime(2026, 5, 1, 10, 0, 0)  # moto's naive UTC

    def datum(minutes: int, namespace: str = NAMESPACE) -> SimpleNamespace:
        return SimpleNamespace(
            namespace=namespace, name=METRIC, timestamp=base + timedelta(minutes=minutes)
        )

    data = [datum(0), datum(1), datum(5), datum(2)]
    _forget_before(data, base + timedelta(minutes=3))
    assert [d.timestamp.minute for d in data] == [5, 2]  # stops at the first recent one

    mixed = [datum(0, "Custom/App"), datum(1)]
    _forget_before(mixed, base + timedelta(minutes=3))
    assert len(mixed) == 2  # someone else's datapoint at the head stops the pruning
