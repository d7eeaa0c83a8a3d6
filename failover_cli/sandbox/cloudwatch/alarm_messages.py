"""What CloudWatch publishes to SNS when an alarm changes state.

CloudWatch publishes with MessageStructure=json: the `default` part is the
alarm JSON document (what SQS, Lambda, HTTP and email-json subscribers get),
the `email` part the human-readable text e-mail subscribers read. The subject
reads `ALARM: "<name>" in US East (N. Virginia)`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from failover_cli.sandbox.cloudwatch.alarm_rules import iso

SUBJECT_LIMIT = 100  # SNS refuses longer subjects


@dataclass(frozen=True)
class AlarmFacts:
    """An alarm's configuration as the notification shows it."""

    name: str
    description: str | None
    account_id: str
    region: str
    arn: str
    configuration_updated: datetime
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str | None
    extended_statistic: str | None
    unit: str | None
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int | None
    comparison: str
    threshold: float
    treat_missing_data: str
    ok_actions: tuple[str, ...]
    alarm_actions: tuple[str, ...]
    insufficient_data_actions: tuple[str, ...]


@dataclass(frozen=True)
class Transition:
    old: str
    new: str
    reason: str
    reason_data: str  # the JSON document, as stored
    at: datetime


def subject(facts: AlarmFacts, transition: Transition) -> str:
    text = f'{transition.new}: "{facts.name}" in {region_name(facts.region)}'
    return text if len(text) <= SUBJECT_LIMIT else text[: SUBJECT_LIMIT - 1] + "…"


def structured_message(facts: AlarmFacts, transition: Transition) -> str:
    """The Publish message (MessageStructure=json): JSON by default, text for e-mail."""
    return json.dumps(
        {
            "default": alarm_json(facts, transition),
            "email": email_text(facts, transition),
        }
    )


def alarm_json(facts: AlarmFacts, transition: Transition) -> str:
    trigger: dict[str, object] = {
        "MetricName": facts.metric_name,
        "Namespace": facts.namespace,
        "StatisticType": "Statistic" if facts.statistic else "ExtendedStatistic",
        "Statistic": (facts.statistic or facts.extended_statistic or "").upper(),
        "Unit": facts.unit,
        "Dimensions": [{"value": value, "name": name} for name, value in facts.dimensions],
        "Period": facts.period,
        "EvaluationPeriods": facts.evaluation_periods,
        "ComparisonOperator": facts.comparison,
        "Threshold": facts.threshold,
        "TreatMissingData": facts.treat_missing_data,
        "EvaluateLowSampleCountPercentile": "",
    }
    if facts.datapoints_to_alarm is not None:
        trigger["DatapointsToAlarm"] = facts.datapoints_to_alarm
    return json.dumps(
        {
            "AlarmName": facts.name,
            "AlarmDescription": facts.description,
            "AWSAccountId": facts.account_id,
            "AlarmConfigurationUpdatedTimestamp": iso(facts.configuration_updated),
            "NewStateValue": transition.new,
            "NewStateReason": transition.reason,
            "StateChangeTime": iso(transition.at),
            "Region": region_name(facts.region),
            "AlarmArn": facts.arn,
            "OldStateValue": transition.old,
            "OKActions": list(facts.ok_actions),
            "AlarmActions": list(facts.alarm_actions),
            "InsufficientDataActions": list(facts.insufficient_data_actions),
            "Trigger": trigger,
        }
    )


def email_text(facts: AlarmFacts, transition: Transition) -> str:
    when = transition.at.astimezone(UTC).strftime("%A %d %B, %Y %H:%M:%S UTC")
    region = region_name(facts.region)
    dimensions = ", ".join(f"{name} = {value}" for name, value in facts.dimensions)
    needed = facts.datapoints_to_alarm or facts.evaluation_periods
    return "\n".join(
        [
            f'You are receiving this email because your Amazon CloudWatch Alarm "{facts.name}" '
            f"in the {region} region has entered the {transition.new} state, because "
            f'"{transition.reason}" at "{when}".',
            "",
            "Alarm Details:",
            f"- Name:                       {facts.name}",
            f"- Description:                {facts.description or ''}",
            f"- State Change:               {transition.old} -> {transition.new}",
            f"- Reason for State Change:    {transition.reason}",
            f"- Timestamp:                  {when}",
            f"- AWS Account:                {facts.account_id}",
            f"- Alarm Arn:                  {facts.arn}",
            "",
            "Threshold:",
            f"- The alarm is in the ALARM state when the metric is {facts.comparison} "
            f"{facts.threshold} for at least {needed} of the last {facts.evaluation_periods} "
            f"period(s) of {facts.period} seconds.",
            "",
            "Monitored Metric:",
            f"- MetricNamespace:                     {facts.namespace}",
            f"- MetricName:                          {facts.metric_name}",
            f"- Dimensions:                          [{dimensions}]",
            f"- Period:                              {facts.period} seconds",
            f"- Statistic:                           "
            f"{facts.statistic or facts.extended_statistic or ''}",
            f"- Unit:                                {facts.unit or 'not specified'}",
            f"- TreatMissingData:                    {facts.treat_missing_data}",
            "",
            "State Change Actions:",
            f"- OK: [{', '.join(facts.ok_actions)}]",
            f"- ALARM: [{', '.join(facts.alarm_actions)}]",
            f"- INSUFFICIENT_DATA: [{', '.join(facts.insufficient_data_actions)}]",
        ]
    )


@cache
def region_name(region: str) -> str:
    """AWS's long name of a region (US East (N. Virginia)), from botocore's endpoint data."""
    try:
        import botocore.session

        data = botocore.session.get_session().get_data("endpoints")
        for partition in data.get("partitions", []):
            found = partition.get("regions", {}).get(region)
            if found and found.get("description"):
                return str(found["description"])
    except Exception:  # botocore's data files are optional to this: fall back to the code
        pass
    return region
