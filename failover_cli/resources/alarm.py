"""CloudWatch alarm `<stack>-<R>-health` per stack region, in us-east-1.

It watches `AWS/Route53 HealthCheckStatus` of that region's health check (the
metric exists only in us-east-1) and notifies the stack's topic on ALARM and OK.

The health check id is not known offline and changes when the check is
replaced: the desired props hold the `<health-check-id>` placeholder, observe
writes the current check's id back as the placeholder, and apply resolves it
through `find_health_check`. A replacement repoints the alarm at once
(`follow_health_check`), so alerting never watches a deleted check.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.tags import comparable_tags, is_owned, tag_dict, tag_list
from failover_cli.config.schema import Config
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import ConflictError, FailoverError
from failover_cli.resources.role import with_account, without_account
from failover_cli.resources.topic import ALARM_REGION, topic_arn, topic_key
from failover_cli.services.health_checks import routed_check_id

KIND = "alarm"
HEALTH_CHECK_ID = "<health-check-id>"  # placeholder for the check's id in desired props
DIMENSION = "HealthCheckId"


@dataclass(frozen=True)
class AlarmProps:
    stack_region: str  # whose health check it watches (not compared)
    description: str
    namespace: str
    metric: str
    health_check_id: str  # the <health-check-id> placeholder
    statistic: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    treat_missing_data: str
    actions_enabled: bool
    alarm_actions: tuple[str, ...]  # ARNs with the <account> placeholder
    ok_actions: tuple[str, ...]
    tags: tuple[tuple[str, str], ...]


def alarm_props(config: Config, region: str) -> AlarmProps:
    topic = topic_arn(config.topic_name)
    return AlarmProps(
        stack_region=region,
        description=f"failover stack {config.stack}: Route 53 health check of {region} failing",
        namespace="AWS/Route53",
        metric="HealthCheckStatus",  # 1 healthy, 0 unhealthy, once a minute
        health_check_id=HEALTH_CHECK_ID,
        statistic="Minimum",  # any unhealthy datapoint in the minute counts
        period=60,
        evaluation_periods=1,
        threshold=1.0,
        comparison="LessThanThreshold",
        # Missing, not breaching: Route 53 publishes a new (or replaced) check's first
        # datapoint a minute or more after it exists, and "breaching" turned that silence
        # into an ALARM e-mail (then OK) after every first `up` and interval change. With
        # "missing" the alarm waits in INSUFFICIENT_DATA until data arrives; a real failure
        # publishes 0 and still alarms. A check deleted by hand shows in `status` and `up`
        # recreates it (CloudWatch "Configuring how alarms treat missing data").
        treat_missing_data="missing",
        actions_enabled=True,
        alarm_actions=(topic,),
        ok_actions=(topic,),
        tags=tuple(sorted(config.ownership_tags().items())),
    )


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    return [
        Spec(
            KIND,
            ALARM_REGION,
            config.alarm_name(region),
            alarm_props(config, region),
            depends_on=(
                topic_key(config),
                f"region_check:{region}:{config.region_check_name(region)}",
            ),
        )
        for region in config.regions
    ]


def read_alarm(ctx: Context, name: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """(DescribeAlarms item, tags) of the metric alarm called `name`, or None."""
    cw = ctx.client("cloudwatch", ALARM_REGION)
    found = cw.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"])["MetricAlarms"]
    if not found:
        return None
    alarm = found[0]
    tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags")
    return alarm, tag_dict(tags)


def follow_health_check(ctx: Context, region: str, old_ids: list[str], new_id: str) -> None:
    """Point the region's owned alarm at a replacement health check (if it watched an old one)."""
    name = ctx.config.alarm_name(region)
    found = read_alarm(ctx, name)
    if found is None or not is_owned(found[1], ctx.config.stack):
        return
    if _dimension(found[0]) in old_ids:
        _put(ctx, name, alarm_props(ctx.config, region), new_id, tags=None)


class AlarmHandler(Handler):
    kind = KIND
    compared_fields = (
        "description",
        "namespace",
        "metric",
        "health_check_id",
        "statistic",
        "period",
        "evaluation_periods",
        "threshold",
        "comparison",
        "treat_missing_data",
        "actions_enabled",
        "alarm_actions",
        "ok_actions",
        "tags",
    )

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: AlarmProps = spec.props
        found = read_alarm(ctx, spec.name)
        if found is None:
            return Observed.missing()
        alarm, tags = found
        if not is_owned(tags, ctx.config.stack):
            return Observed(exists=True, owned=False)
        account = ctx.account_id
        watched = _dimension(alarm)
        check = routed_check_id(ctx, props.stack_region)
        return Observed(
            exists=True,
            props={
                "description": alarm.get("AlarmDescription", ""),
                "namespace": alarm.get("Namespace"),
                "metric": alarm.get("MetricName"),
                "health_check_id": HEALTH_CHECK_ID
                if check is not None and watched == check
                else watched,
                "statistic": alarm.get("Statistic"),
                "period": alarm.get("Period"),
                "evaluation_periods": alarm.get("EvaluationPeriods"),
                "threshold": alarm.get("Threshold"),
                "comparison": alarm.get("ComparisonOperator"),
                "treat_missing_data": alarm.get("TreatMissingData", "missing"),
                "actions_enabled": alarm.get("ActionsEnabled"),
                "alarm_actions": _arns(alarm.get("AlarmActions"), account),
                "ok_actions": _arns(alarm.get("OKActions"), account),
                "tags": comparable_tags(tags, props.tags),
            },
            raw={"arn": alarm["AlarmArn"]},
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        found = read_alarm(ctx, spec.name)
        # PutMetricAlarm overwrites any alarm of that name: never someone else's.
        if found is not None and not is_owned(found[1], ctx.config.stack):
            raise ConflictError(
                f"CloudWatch alarm {spec.name} exists without the ownership tags of stack "
                f"{ctx.config.stack}; `up` will not overwrite it",
                hint="Delete or rename it, or tag it to let this stack manage it.",
                region=spec.region,
            )
        props: AlarmProps = spec.props
        _put(ctx, spec.name, props, _check_id(ctx, props), tags=props.tags)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        props: AlarmProps = spec.props
        cw = ctx.client("cloudwatch", spec.region)
        if {c.field for c in changes} - {"tags"}:
            _put(ctx, spec.name, props, _check_id(ctx, props), tags=None)
        if any(c.field == "tags" for c in changes):  # PutMetricAlarm ignores tags on update
            cw.tag_resource(ResourceARN=observed.raw["arn"], Tags=tag_list(dict(props.tags)))

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        cw = ctx.client("cloudwatch", spec.region)
        with contextlib.suppress(cw.exceptions.ResourceNotFound):
            cw.delete_alarms(AlarmNames=[spec.name])


def _put(
    ctx: Context,
    name: str,
    props: AlarmProps,
    check_id: str,
    *,
    tags: tuple[tuple[str, str], ...] | None,
) -> None:
    """PutMetricAlarm replaces the whole definition: every field is sent each time."""
    account = ctx.account_id
    extra: dict[str, Any] = {"Tags": tag_list(dict(tags))} if tags else {}
    ctx.client("cloudwatch", ALARM_REGION).put_metric_alarm(
        AlarmName=name,
        AlarmDescription=props.description,
        Namespace=props.namespace,
        MetricName=props.metric,
        Dimensions=[{"Name": DIMENSION, "Value": check_id}],
        Statistic=props.statistic,
        Period=props.period,
        EvaluationPeriods=props.evaluation_periods,
        Threshold=props.threshold,
        ComparisonOperator=props.comparison,
        TreatMissingData=props.treat_missing_data,
        ActionsEnabled=props.actions_enabled,
        AlarmActions=[with_account(a, account) for a in props.alarm_actions],
        OKActions=[with_account(a, account) for a in props.ok_actions],
        **extra,
    )


def _check_id(ctx: Context, props: AlarmProps) -> str:
    """The current health check of the alarm's region, resolved at apply time."""
    check = routed_check_id(ctx, props.stack_region, fresh=True)  # the CALCULATED check
    if check is None:
        raise FailoverError(
            f"The health check of stack {ctx.config.stack} does not exist, so its alarm has "
            "nothing to watch",
            hint="Re-run `failover up`: it creates the health check before the alarm.",
            region=props.stack_region,
        )
    return check


def _dimension(alarm: dict[str, Any]) -> str | None:
    for dimension in alarm.get("Dimensions") or []:
        if dimension.get("Name") == DIMENSION:
            return str(dimension.get("Value"))
    return None


def _arns(arns: list[str] | None, account: str) -> tuple[str, ...]:
    return tuple(sorted(without_account(a, account) for a in arns or []))


HANDLER = AlarmHandler()
