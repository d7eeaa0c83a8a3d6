"""CloudWatch metric alarms that evaluate, change state and act (moto never evaluates).

Every EVALUATE_EVERY emulated seconds each single-metric alarm of every
account and region is judged on its metric (alarm_rules: statistic, period,
evaluation periods, DatapointsToAlarm, threshold, TreatMissingData; periods
are emulated seconds, so divided by the time scale). On a change of state
its StateValue, StateReason, StateReasonData and StateUpdatedTimestamp are
set and, with ActionsEnabled, its actions for the new state run: SNS topic
ARNs get CloudWatch's notification through the sandbox's own public
`Publish` (so e-mail subscribers get it in the outbox). Other actions
(Auto Scaling, EC2, Systems Manager) are not emulated. Metric-math, anomaly
band and composite alarms are left alone.

As on AWS, a new alarm starts in INSUFFICIENT_DATA, and PutMetricAlarm on an
existing alarm keeps its state (moto resets both to OK).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from failover_cli.sandbox import loopback
from failover_cli.sandbox.cloudwatch.alarm_messages import (
    AlarmFacts,
    Transition,
    structured_message,
    subject,
)
from failover_cli.sandbox.cloudwatch.alarm_rules import AlarmState, Rule, Sample, evaluate, periods
from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response

log = logging.getLogger(__name__)

EVALUATE_EVERY = 60.0  # emulated seconds: CloudWatch evaluates standard alarms each minute
INITIAL_REASON = "Unchecked: Initial alarm creation"
_CBOR_OPERATION = "/operation/"  # smithy-rpc-v2-cbor: /service/<Service>/operation/<Name>


def install(context: SandboxContext) -> None:
    context.layer.add(AlarmStateKept())
    evaluator = AlarmEvaluator(context)
    context.scheduler.call_every(EVALUATE_EVERY, evaluator.evaluate_all)


class AlarmStateKept(Interceptor):
    """PutMetricAlarm: a new alarm is INSUFFICIENT_DATA, an updated one keeps its state."""

    def wants(self, request: AwsRequest) -> bool:
        return request.service == "monitoring" and _operation(request) == "PutMetricAlarm"

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        from moto.cloudwatch.models import cloudwatch_backends
        from moto.core.utils import utcnow

        backend = cloudwatch_backends[request.account_id][request.region]
        before = {
            name: (
                alarm,
                alarm.state_value,
                alarm.state_reason,
                alarm.state_reason_data,
                alarm.state_updated_timestamp,
            )
            for name, alarm in list(backend.alarms.items())
        }
        response = forward(request)
        if not response.ok:
            return response
        for name, alarm in list(backend.alarms.items()):
            previous = before.get(name)
            if previous is not None and previous[0] is alarm:
                continue  # untouched by this call
            if previous is not None:  # replaced by moto: carry the state over
                _, value, reason, data, updated = previous
            else:
                value, reason, data, updated = "INSUFFICIENT_DATA", INITIAL_REASON, "{}", utcnow()
            alarm.state_value, alarm.state_reason = value, reason
            alarm.state_reason_data, alarm.state_updated_timestamp = data, updated
        return response


class AlarmEvaluator:
    def __init__(self, context: SandboxContext):
        self.context = context

    def evaluate_all(self) -> None:
        now = datetime.now(UTC)
        for account, region, backend in _backends():
            for alarm in list(backend.alarms.values()):
                try:
                    self.evaluate(account, region, backend, alarm, now)
                except Exception:  # one odd alarm must not stop the others
                    log.exception("evaluating alarm %s in %s failed", alarm.name, region)

    def evaluate(
        self, account: str, region: str, backend: Any, alarm: Any, now: datetime
    ) -> AlarmState | None:
        """Judge one alarm now; returns its new state if it changed."""
        rule = _rule(alarm)
        if rule is None or not rule.supported:
            return None
        length = timedelta(seconds=rule.period / self.context.time_scale)
        result = evaluate(rule, periods(_samples(backend, alarm), rule, now, length), now)
        if result.state is None or result.state.value == alarm.state_value:
            return None  # no change: CloudWatch leaves reason and timestamp alone
        old = str(alarm.state_value)
        data = json.dumps(result.reason_data)
        alarm.update_state(result.reason, data, result.state.value)
        log.info("alarm %s: %s -> %s (%s)", alarm.name, old, result.state, result.reason)
        if alarm.actions_enabled:
            transition = Transition(old, result.state.value, result.reason, data, now)
            self._act(account, region, alarm, transition)
        return result.state

    def _act(self, account: str, region: str, alarm: Any, transition: Transition) -> None:
        actions = {
            "ALARM": alarm.alarm_actions,
            "OK": alarm.ok_actions,
            "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
        }[transition.new]
        facts = _facts(account, region, alarm)
        for action in actions or ():
            parts = str(action).split(":")
            if len(parts) < 6 or parts[2] != "sns":
                log.info("alarm %s: action %s is not emulated", alarm.name, action)
                continue
            sns = loopback.client(self.context.endpoint, "sns", parts[3], account_id=parts[4])
            try:
                sns.publish(
                    TopicArn=action,
                    Subject=subject(facts, transition),
                    Message=structured_message(facts, transition),
                    MessageStructure="json",
                )
            except Exception as error:  # a deleted topic: CloudWatch just fails the action
                log.warning("alarm %s: publishing to %s failed: %s", alarm.name, action, error)


def _operation(request: AwsRequest) -> str | None:
    if request.operation:
        return request.operation
    if _CBOR_OPERATION in request.path:
        return request.path.rsplit("/", 1)[-1]
    return None


def _backends() -> Iterator[tuple[str, str, Any]]:
    from moto.cloudwatch.models import cloudwatch_backends

    for account, regions in list(cloudwatch_backends.items()):
        for region, backend in list(regions.items()):
            yield account, region, backend


def _rule(alarm: Any) -> Rule | None:
    if alarm.metric_data_queries or alarm.rule or alarm.threshold_metric_id:
        return None  # metric math, composite or anomaly band
    if not alarm.metric_name or not alarm.period or not alarm.evaluation_periods:
        return None
    return Rule(
        statistic=alarm.statistic or None,
        extended_statistic=alarm.extended_statistic or None,
        period=int(alarm.period),
        evaluation_periods=int(alarm.evaluation_periods),
        datapoints_to_alarm=int(alarm.datapoints_to_alarm) if alarm.datapoints_to_alarm else None,
        threshold=float(alarm.threshold),
        comparison=str(alarm.comparison_operator),
        treat_missing_data=str(alarm.treat_missing_data or "missing"),
    )


def _samples(backend: Any, alarm: Any) -> list[Sample]:
    """The alarm's metric's datapoints (same namespace, name, dimensions and unit)."""
    wanted = {(d.name, d.value) for d in alarm.dimensions}
    found = []
    for datum in list(backend.metric_data):
        if datum.namespace != alarm.namespace or datum.name != alarm.metric_name:
            continue
        if {(d.name, d.value) for d in datum.dimensions} != wanted:
            continue
        if alarm.unit and datum.unit and datum.unit != alarm.unit:
            continue
        stamp = _aware(datum.timestamp)
        if hasattr(datum, "value"):
            found.append(Sample.of(stamp, float(datum.value)))
        else:  # StatisticValues
            found.append(
                Sample(
                    stamp,
                    float(datum.min),
                    float(datum.max),
                    float(datum.sum),
                    float(datum.sample_count),
                )
            )
    return found


def _facts(account: str, region: str, alarm: Any) -> AlarmFacts:
    return AlarmFacts(
        name=str(alarm.name),
        description=alarm.description or None,
        account_id=account,
        region=region,
        arn=str(alarm.alarm_arn),
        configuration_updated=_aware(alarm.configuration_updated_timestamp),
        namespace=str(alarm.namespace),
        metric_name=str(alarm.metric_name),
        dimensions=tuple((str(d.name), str(d.value)) for d in alarm.dimensions),
        statistic=alarm.statistic or None,
        extended_statistic=alarm.extended_statistic or None,
        unit=alarm.unit or None,
        period=int(alarm.period),
        evaluation_periods=int(alarm.evaluation_periods),
        datapoints_to_alarm=int(alarm.datapoints_to_alarm) if alarm.datapoints_to_alarm else None,
        comparison=str(alarm.comparison_operator),
        threshold=float(alarm.threshold),
        treat_missing_data=str(alarm.treat_missing_data or "missing"),
        ok_actions=tuple(alarm.ok_actions or ()),
        alarm_actions=tuple(alarm.alarm_actions or ()),
        insufficient_data_actions=tuple(alarm.insufficient_data_actions or ()),
    )


def _aware(moment: Any) -> datetime:
    """moto mixes naive-UTC and aware datetimes (and strings from some parsers)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if not isinstance(moment, datetime):
        return datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
