"""How a CloudWatch metric alarm judges its metric, as pure logic.

For one single-metric alarm: cut the recent samples into its evaluation
periods, reduce each to the alarm's statistic, compare with the threshold,
and decide the state ("M out of N" with DatapointsToAlarm, TreatMissingData
for periods without data), with StateReason and StateReasonData worded as
CloudWatch words them. No moto and no clock here: samples and `now` come in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


class AlarmState(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


# ComparisonOperator -> (test, how CloudWatch says it). The anomaly-band
# operators need a second metric (ThresholdMetricId): not evaluated.
COMPARISONS = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}
STATISTICS = frozenset({"SampleCount", "Average", "Sum", "Minimum", "Maximum"})


@dataclass(frozen=True)
class Sample:
    """One stored datapoint: a single value, or the statistics of several."""

    timestamp: datetime  # aware, UTC
    minimum: float
    maximum: float
    total: float
    count: float
    values: tuple[float, ...] = ()  # the raw values when known (percentiles need them)

    @classmethod
    def of(cls, timestamp: datetime, value: float) -> Sample:
        value = float(value)  # reasons print 0.0 as CloudWatch does, never 0
        return cls(timestamp, value, value, value, 1.0, (value,))


@dataclass(frozen=True)
class Rule:
    statistic: str | None  # SampleCount | Average | Sum | Minimum | Maximum
    extended_statistic: str | None  # pNN / pNN.N
    period: int  # seconds, as configured (emulated time)
    evaluation_periods: int
    datapoints_to_alarm: int | None
    threshold: float
    comparison: str
    treat_missing_data: str = "missing"  # missing | notBreaching | breaching | ignore

    @property
    def supported(self) -> bool:
        known_stat = (
            self.statistic in STATISTICS or _percentile(self.extended_statistic) is not None
        )
        return self.comparison in COMPARISONS and known_stat and self.evaluation_periods > 0

    @property
    def statistic_name(self) -> str:
        return self.statistic or self.extended_statistic or ""


@dataclass(frozen=True)
class PeriodValue:
    start: datetime
    value: float | None  # None: no data in the period
    count: float = 0.0


@dataclass(frozen=True)
class Evaluation:
    state: AlarmState | None  # None: leave the state as it is (TreatMissingData=ignore)
    reason: str
    reason_data: dict[str, Any]


def periods(
    samples: Sequence[Sample], rule: Rule, now: datetime, period_length: timedelta
) -> list[PeriodValue]:
    """The alarm's evaluation periods ending at `now`, oldest first.

    `period_length` is the period in real time (the sandbox divides emulated
    seconds by its time scale); each is (start, start + length].
    """
    found = []
    for back in range(rule.evaluation_periods, 0, -1):
        start, end = now - period_length * back, now - period_length * (back - 1)
        inside = [s for s in samples if start < s.timestamp <= end]
        found.append(PeriodValue(start, aggregate(inside, rule), sum(s.count for s in inside)))
    return found


def aggregate(samples: Sequence[Sample], rule: Rule) -> float | None:
    """The rule's statistic over `samples`; None when there is nothing to reduce."""
    count = sum(s.count for s in samples)
    if not samples or count <= 0:
        return None
    statistic = rule.statistic
    if statistic == "Minimum":
        return min(s.minimum for s in samples)
    if statistic == "Maximum":
        return max(s.maximum for s in samples)
    if statistic == "Sum":
        return sum(s.total for s in samples)
    if statistic == "SampleCount":
        return count
    if statistic == "Average":
        return sum(s.total for s in samples) / count
    share = _percentile(rule.extended_statistic)
    values = sorted(v for s in samples for v in s.values)
    if share is None or not values:
        return None
    rank = max(1, math.ceil(share / 100 * len(values)))  # nearest rank
    return values[rank - 1]


def evaluate(rule: Rule, evaluated: Sequence[PeriodValue], now: datetime) -> Evaluation:
    """The state the alarm should be in, given its periods (oldest first)."""
    test, phrase = COMPARISONS[rule.comparison]
    needed = rule.datapoints_to_alarm or rule.evaluation_periods
    present = [p for p in evaluated if p.value is not None]
    missing = len(evaluated) - len(present)
    treat = rule.treat_missing_data or "missing"
    data = _reason_data(rule, evaluated, now)
    if not present:
        n = _count(missing, "datapoint")
        if treat == "breaching":
            return Evaluation(
                AlarmState.ALARM,
                f"Threshold Crossed: no datapoints were received for {_count(missing, 'period')} "
                f"and {n} {_was(missing)} treated as [Breaching].",
                data,
            )
        if treat == "notBreaching":
            return Evaluation(
                AlarmState.OK,
                f"Threshold Crossed: no datapoints were received for {_count(missing, 'period')} "
                f"and {n} {_was(missing)} treated as [NonBreaching].",
                data,
            )
        if treat == "ignore":
            return Evaluation(None, "", data)
        return Evaluation(
            AlarmState.INSUFFICIENT_DATA, f"Insufficient Data: {n} {_was(missing)} unknown.", data
        )
    crossing = [p for p in present if p.value is not None and test(p.value, rule.threshold)]
    breaching = len(crossing) + (missing if treat == "breaching" else 0)
    shown = ", ".join(_point(p) for p in reversed(present))
    if breaching >= needed:
        state = AlarmState.ALARM
        if len(evaluated) == 1:
            why = f"1 datapoint [{shown}] was {phrase}"
        else:
            listed = ", ".join(_point(p) for p in reversed(crossing))
            why = (
                f"{breaching} out of the last {len(evaluated)} datapoints [{listed}] were {phrase}"
            )
        return Evaluation(
            state, f"Threshold Crossed: {why} the threshold ({rule.threshold}).", data
        )
    if len(present) == 1:
        why = f"1 datapoint [{shown}] was not {phrase}"
    else:
        why = f"{len(present)} datapoints [{shown}] were not {phrase}"
    return Evaluation(
        AlarmState.OK, f"Threshold Crossed: {why} the threshold ({rule.threshold}).", data
    )


def _reason_data(rule: Rule, evaluated: Sequence[PeriodValue], now: datetime) -> dict[str, Any]:
    """StateReasonData as CloudWatch writes it (a JSON document, newest point first)."""
    present = [p for p in evaluated if p.value is not None]
    data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": iso(now),
        "startDate": iso(evaluated[0].start) if evaluated else iso(now),
        "statistic": rule.statistic_name,
        "period": rule.period,
        "recentDatapoints": [p.value for p in present],
        "threshold": rule.threshold,
        "evaluatedDatapoints": [
            {"timestamp": iso(p.start), "sampleCount": p.count, "value": p.value}
            if p.value is not None
            else {"timestamp": iso(p.start)}
            for p in reversed(evaluated)
        ],
    }
    return data


def iso(moment: datetime) -> str:
    """CloudWatch's timestamp format: 2024-05-01T10:01:00.123+0000."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _point(period: PeriodValue) -> str:
    return f"{period.value} ({period.start.astimezone(UTC).strftime('%d/%m/%y %H:%M:%S')})"


def _percentile(extended: str | None) -> float | None:
    if not extended or not extended.startswith("p"):
        return None
    try:
        share = float(extended[1:])
    except ValueError:
        return None
    return share if 0 < share <= 100 else None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _was(n: int) -> str:
    return "was" if n == 1 else "were"
