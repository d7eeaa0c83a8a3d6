"""Log group /aws/lambda/<function> per region, created before the function with short retention.

Creating it first (instead of letting Lambda create it on first run) is what
lets us own it: set retention, tag it, and delete it on `down`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from failover_cli.aws.tags import comparable_tags, is_owned
from failover_cli.config.schema import Config
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import FieldChange, Observed, Spec

KIND = "log_group"


@dataclass(frozen=True)
class LogGroupProps:
    retention_days: int
    tags: tuple[tuple[str, str], ...]


def desired(inputs: DesiredInputs) -> list[Spec]:
    return [spec_for(inputs.config, region) for region in inputs.config.regions]


def spec_for(config: Config, region: str) -> Spec:
    props = LogGroupProps(
        retention_days=config.logs.retention_days,
        tags=tuple(sorted(config.ownership_tags().items())),
    )
    return Spec(KIND, region, config.log_group_name, props)


def observe_group(ctx: Context, region: str) -> Observed:
    """The stack's log group in `region` as `up` sees it (raw["tags"] for whose it is)."""
    return HANDLER.observe(ctx, spec_for(ctx.config, region))


class LogGroupHandler(Handler):
    kind = KIND

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        logs = ctx.client("logs", spec.region)
        found = None
        # The prefix filter can match longer names; only the exact name counts.
        for page in logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=spec.name
        ):
            found = next((g for g in page["logGroups"] if g["logGroupName"] == spec.name), None)
            if found:
                break
        if found is None:
            return Observed.missing()
        arn = found["arn"].removesuffix(":*")
        tags = logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
        return Observed(
            exists=True,
            owned=is_owned(tags, ctx.config.stack),
            props={
                "retention_days": found.get("retentionInDays"),
                "tags": comparable_tags(tags, spec.props.tags),
            },
            raw={"arn": arn, "tags": tags},
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        props: LogGroupProps = spec.props
        logs = ctx.client("logs", spec.region)
        # A previous interrupted run may have created it; converge its settings below.
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=spec.name, tags=dict(props.tags))
        logs.put_retention_policy(logGroupName=spec.name, retentionInDays=props.retention_days)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        props: LogGroupProps = spec.props
        logs = ctx.client("logs", spec.region)
        changed = {c.field for c in changes}
        if "retention_days" in changed:
            logs.put_retention_policy(logGroupName=spec.name, retentionInDays=props.retention_days)
        if "tags" in changed:
            logs.tag_resource(resourceArn=observed.raw["arn"], tags=dict(props.tags))

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        logs = ctx.client("logs", spec.region)
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            logs.delete_log_group(logGroupName=spec.name)


HANDLER = LogGroupHandler()
