"""HealthCheckStatus and alarms in a sandbox at --time-scale 60 (one emulated minute a second).

The health check is CALCULATED (no children: HealthThreshold 1 is unhealthy,
0 healthy), so its status flips with one Route 53 call and nothing to probe.
Each test starts its own sandbox with its own outbox; waits poll with a
generous deadline and nothing asserts how long anything took.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import SandboxProcess
from tests.sandbox_api_helpers import eventually, http
from tests.sandbox_outbox_helpers import CONFIRMATION, Outbox, body, link

pytestmark = pytest.mark.sandbox

REGION = "us-east-1"  # Route 53 metrics, and so the alarms, live there


@pytest.fixture
def outbox(
    launch_sandbox: Callable[..., SandboxProcess],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Outbox]:
    folder = tmp_path / "outbox"
    process = launch_sandbox("--time-scale", "60", "--outbox", str(folder))
    process.wait_until_ready()
    monkeypatch.setenv("AWS_ENDPOINT_URL", process.endpoint)
    yield Outbox(folder)


def client(service: Any) -> Any:
    return boto3.client(service, region_name=REGION)


def calculated_check(healthy: bool) -> str:
    check_id: str = client("route53").create_health_check(
        CallerReference=uuid.uuid4().hex,
        HealthCheckConfig={
            "Type": "CALCULATED",
            "ChildHealthChecks": [],
            "HealthThreshold": 0 if healthy else 1,
        },
    )["HealthCheck"]["Id"]
    return check_id


def set_healthy(check_id: str, healthy: bool) -> None:
    client("route53").update_health_check(
        HealthCheckId=check_id, HealthThreshold=0 if healthy else 1
    )


def put_alarm(
    name: str,
    check_id: str,
    topic_arn: str | None = None,
    treat_missing: str = "missing",
    evaluation_periods: int = 1,
) -> None:
    """The alarm `failover up` makes: Minimum HealthCheckStatus below 1 for one minute (or, with
    `evaluation_periods`, in any one of that many minutes)."""
    actions = [topic_arn] if topic_arn else []
    client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/Route53",
        MetricName="HealthCheckStatus",
        Dimensions=[{"Name": "HealthCheckId", "Value": check_id}],
        Statistic="Minimum",
        Period=60,
        EvaluationPeriods=evaluation_periods,
        DatapointsToAlarm=1,
        Threshold=1.0,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData=treat_missing,
        AlarmActions=actions,
        OKActions=actions,
    )


def alarm(name: str) -> dict[str, Any]:
    found: dict[str, Any] = client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][
        0
    ]
    return found


def state_becomes(name: str, state: str) -> dict[str, Any]:
    return eventually(
        lambda: (found := alarm(name))["StateValue"] == state and found,
        f"alarm {name} to be {state}",
    )


def confirmed_email_topic(outbox: Outbox, to: str) -> str:
    sns = client("sns")
    topic_arn: str = sns.create_topic(Name=f"alarms-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=to)
    assert http(link(outbox.wait_for(to, CONFIRMATION), "confirm")).status == 200
    return topic_arn


def minimum(check_id: str) -> float | None:
    """The check's HealthCheckStatus Minimum over the last hour (None: no datapoint yet)."""
    now = datetime.now(UTC)
    points = client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Route53",
        MetricName="HealthCheckStatus",
        Dimensions=[{"Name": "HealthCheckId", "Value": check_id}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=3600,
        Statistics=["Minimum"],
    )["Datapoints"]
    return points[0]["Minimum"] if points else None


def test_the_health_check_status_metric_is_published_in_us_east_1(outbox: Outbox) -> None:
    healthy, unhealthy = calculated_check(True), calculated_check(False)
    eventually(lambda: minimum(healthy) is not None, "a datapoint for the healthy check")
    eventually(lambda: minimum(unhealthy) is not None, "a datapoint for the unhealthy check")
    assert minimum(healthy) == 1.0
    assert minimum(unhealthy) == 0.0


def test_an_alarm_starts_without_data_and_keeps_its_state_when_updated(outbox: Outbox) -> None:
    name = f"alarm-{uuid.uuid4().hex[:8]}"
    check_id = calculated_check(False)
    put_alarm(name, check_id)
    fresh = alarm(name)
    assert fresh["StateValue"] == "INSUFFICIENT_DATA"
    assert fresh["StateReason"] == "Unchecked: Initial alarm creation"

    raised = state_becomes(name, "ALARM")
    put_alarm(name, check_id)  # the same settings again, as a second `up` could
    again = alarm(name)
    assert again["StateValue"] == "ALARM"
    assert again["StateUpdatedTimestamp"] == raised["StateUpdatedTimestamp"]


def test_an_unhealthy_check_raises_the_alarm_and_mails_then_recovers(outbox: Outbox) -> None:
    to = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    topic_arn = confirmed_email_topic(outbox, to)
    name = f"hello-{uuid.uuid4().hex[:6]}-us-east-1-health"
    check_id = calculated_check(True)
    put_alarm(name, check_id, topic_arn)
    state_becomes(name, "OK")

    set_healthy(check_id, False)
    raised = state_becomes(name, "ALARM")
    assert raised["StateReason"].startswith("Threshold Crossed: 1 datapoint [0.0")
    assert "was less than the threshold (1.0)" in raised["StateReason"]
    mail = outbox.wait_for(to, f'ALARM: "{name}" in US East (N. Virginia)')
    text = body(mail)
    assert f'Amazon CloudWatch Alarm "{name}"' in text
    assert "- State Change:               OK -> ALARM" in text
    assert f"HealthCheckId = {check_id}" in text

    set_healthy(check_id, True)
    state_becomes(name, "OK")
    assert "OK -> ALARM" not in body(outbox.wait_for(to, f'OK: "{name}" in US East (N. Virginia)'))
    assert len(outbox.to(to, f'ALARM: "{name}" in US East (N. Virginia)')) == 1


def test_alarm_json_goes_to_email_json_subscribers(outbox: Outbox) -> None:
    to = f"machine-{uuid.uuid4().hex[:8]}@example.com"
    sns = client("sns")
    topic_arn: str = sns.create_topic(Name=f"alarms-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email-json", Endpoint=to)
    token = json.loads(body(outbox.wait_for(to, CONFIRMATION)))["Token"]
    sns.confirm_subscription(TopicArn=topic_arn, Token=token)
    name = f"json-{uuid.uuid4().hex[:8]}"
    check_id = calculated_check(False)
    put_alarm(name, check_id, topic_arn)

    notification = json.loads(
        body(outbox.wait_for(to, f'ALARM: "{name}" in US East (N. Virginia)'))
    )
    document = json.loads(notification["Message"])
    assert document["AlarmName"] == name and document["NewStateValue"] == "ALARM"
    assert document["OldStateValue"] == "INSUFFICIENT_DATA"
    assert document["Region"] == "US East (N. Virginia)"
    assert document["Trigger"]["Dimensions"] == [{"value": check_id, "name": "HealthCheckId"}]


ALARM_SUBJECT = 'ALARM: "{}" in US East (N. Virginia)'
OK_SUBJECT = 'OK: "{}" in US East (N. Virginia)'


def test_a_breaching_alarm_on_a_brand_new_check_mails_a_false_alarm(outbox: Outbox) -> None:
    """As on AWS: Route 53 publishes a new check's first datapoint a minute after it
    exists, and an alarm that treats that silence as breaching pages for nothing."""
    to = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    topic_arn = confirmed_email_topic(outbox, to)
    name = f"noisy-{uuid.uuid4().hex[:6]}"
    # Any one of three minutes: the silent first minute stays in the alarm's window for three
    # evaluations, not one (at x60 a minute is a second, which a busy host's evaluator can
    # miss: CI saw the data arrive before any evaluation and no false alarm at all).
    put_alarm(
        name, calculated_check(True), topic_arn, treat_missing="breaching", evaluation_periods=3
    )
    outbox.wait_for(to, ALARM_SUBJECT.format(name))
    outbox.wait_for(to, OK_SUBJECT.format(name))  # then the data arrives: all was well


def test_the_tools_alarm_stays_quiet_on_new_and_replaced_checks_but_not_on_failure(
    outbox: Outbox,
) -> None:
    """TreatMissingData=missing (what `up` sets): no ALARM e-mail for a new check, nor for
    the replacement an interval change makes; a real failure still mails ALARM."""
    to = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    topic_arn = confirmed_email_topic(outbox, to)
    name = f"quiet-{uuid.uuid4().hex[:6]}"
    put_alarm(name, calculated_check(True), topic_arn)
    state_becomes(name, "OK")
    replacement = calculated_check(True)  # an interval change replaces the check
    put_alarm(name, replacement, topic_arn)
    # Well past the new check's silent first minute, with a datapoint from it.
    eventually(
        lambda: alarm(name)["StateValue"] == "OK" and minimum(replacement) is not None,
        "the replacement check's first datapoint",
    )
    assert alarm(name)["StateValue"] == "OK"
    assert outbox.to(to, ALARM_SUBJECT.format(name)) == []

    set_healthy(replacement, False)
    state_becomes(name, "ALARM")
    outbox.wait_for(to, ALARM_SUBJECT.format(name))
