"""SNS topic `<stack>-alarms` in us-east-1, whatever the stack's regions.

Route 53 publishes health-check metrics only in us-east-1, so the alarms live
there, and an alarm can only notify a topic in its own region. Topic names are
unique per account and region: the ARN is deterministic, and the topic is ours
only when it carries the ownership tags.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from failover_cli.aws.tags import comparable_tags, is_owned, tag_dict, tag_list
from failover_cli.config.schema import Config
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import ConflictError
from failover_cli.resources.role import ACCOUNT

KIND = "topic"
ALARM_REGION = "us-east-1"  # where Route 53's HealthCheckStatus metric exists


@dataclass(frozen=True)
class TopicProps:
    tags: tuple[tuple[str, str], ...]


def topic_arn(name: str, account: str = ACCOUNT) -> str:
    """The topic's ARN (with the `<account>` placeholder unless an account is given)."""
    return f"arn:aws:sns:{ALARM_REGION}:{account}:{name}"


def topic_key(config: Config) -> str:
    """The spec key of the stack's topic (the subscription and alarms depend on it)."""
    return f"{KIND}:{ALARM_REGION}:{config.topic_name}"


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    props = TopicProps(tags=tuple(sorted(config.ownership_tags().items())))
    return [Spec(KIND, ALARM_REGION, config.topic_name, props)]


def read_topic(ctx: Context, name: str) -> tuple[str, dict[str, str]] | None:
    """(ARN, tags) of the topic called `name` in us-east-1, or None when it does not exist."""
    sns = ctx.client("sns", ALARM_REGION)
    arn = topic_arn(name, ctx.account_id)
    try:
        sns.get_topic_attributes(TopicArn=arn)
    except sns.exceptions.NotFoundException:
        return None
    return arn, tag_dict(sns.list_tags_for_resource(ResourceArn=arn).get("Tags"))


def owned_topic_arn(ctx: Context) -> str | None:
    """The ARN of the stack's topic when it exists and is owned (subscriptions hang on it)."""
    found = read_topic(ctx, ctx.config.topic_name)
    if found is None or not is_owned(found[1], ctx.config.stack):
        return None
    return found[0]


class TopicHandler(Handler):
    kind = KIND

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: TopicProps = spec.props
        found = read_topic(ctx, spec.name)
        if found is None:
            return Observed.missing()
        arn, tags = found
        return Observed(
            exists=True,
            owned=is_owned(tags, ctx.config.stack),
            props={"tags": comparable_tags(tags, props.tags)},
            raw={"arn": arn},
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        props: TopicProps = spec.props
        sns = ctx.client("sns", spec.region)
        found = read_topic(ctx, spec.name)
        if found is None:
            sns.create_topic(Name=spec.name, Tags=tag_list(dict(props.tags)))
            return
        # It appeared since the plan (or an earlier run made it): converge only if ours.
        if not is_owned(found[1], ctx.config.stack):
            raise ConflictError(
                f"SNS topic {spec.name} exists without the ownership tags of stack "
                f"{ctx.config.stack}; `up` will not take it over",
                hint="Delete or tag it, or rename the stack.",
                region=spec.region,
            )
        sns.tag_resource(ResourceArn=found[0], Tags=tag_list(dict(props.tags)))

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        props: TopicProps = spec.props
        sns = ctx.client("sns", spec.region)
        sns.tag_resource(ResourceArn=observed.raw["arn"], Tags=tag_list(dict(props.tags)))

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        sns = ctx.client("sns", spec.region)
        # Deleting a topic also removes its subscriptions (pending ones included).
        with contextlib.suppress(sns.exceptions.NotFoundException):
            sns.delete_topic(TopicArn=observed.raw["arn"])


HANDLER = TopicHandler()
