"""The alarm e-mail subscription on the stack's topic (only when `alarms.email` is set).

Subscriptions carry no tags: the e-mail subscriptions on the stack's owned topic
are the stack's. `up` keeps exactly the configured address there (other
protocols are left alone): a new address is subscribed first, then the old one
unsubscribed, so alerts never stop. A subscription waiting for its confirmation
link exists but has no ARN yet: it cannot be unsubscribed (AWS drops it after
three days), and `up` reminds the user to click the link.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.tags import is_owned
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Former, Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import FailoverError
from failover_cli.resources.topic import ALARM_REGION, read_topic, topic_key

KIND = "subscription"
PROTOCOL = "email"
PENDING = "PendingConfirmation"  # what SNS lists instead of an ARN until confirmed
PENDING_OUTPUT = "pending_subscription"  # ctx.outputs key: the address still to confirm


@dataclass(frozen=True)
class SubscriptionProps:
    emails: tuple[str, ...]  # the configured address (a tuple: observed may hold several)


@dataclass(frozen=True)
class EmailSubscription:
    endpoint: str
    arn: str | None  # None while the subscription waits for confirmation

    @property
    def pending(self) -> bool:
        return self.arn is None


def subscription_name(topic_name: str) -> str:
    return f"{topic_name}-{PROTOCOL}"


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    if not config.alarms.email:
        return []
    return [
        Spec(
            KIND,
            ALARM_REGION,
            subscription_name(config.topic_name),
            SubscriptionProps(emails=(config.alarms.email,)),
            depends_on=(topic_key(config),),
        )
    ]


def email_subscriptions(ctx: Context, topic_arn: str) -> list[EmailSubscription]:
    """The e-mail subscriptions on a topic, pending ones included (for `up` and `status`)."""
    sns = ctx.client("sns", ALARM_REGION)
    found = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for sub in page.get("Subscriptions", []):
            if sub.get("Protocol") == PROTOCOL:
                arn = sub.get("SubscriptionArn")
                found.append(EmailSubscription(sub["Endpoint"], None if arn == PENDING else arn))
    return found


class SubscriptionHandler(Handler):
    kind = KIND

    def leftovers(self, ctx: Context) -> Former:
        return Former(email=_unwanted_email(ctx))

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: SubscriptionProps = spec.props
        topic = read_topic(ctx, ctx.config.topic_name)
        if topic is None:
            return Observed.missing()
        arn, tags = topic
        if not is_owned(tags, ctx.config.stack):
            return Observed(exists=True, owned=False, raw={"topic": arn})
        subs = email_subscriptions(ctx, arn)
        if not subs:
            return Observed.missing()
        for sub in subs:
            if sub.pending and sub.endpoint in props.emails:
                ctx.outputs[PENDING_OUTPUT] = sub.endpoint
        # A pending address that is no longer wanted cannot be removed: not a difference.
        shown = {s.endpoint for s in subs if not s.pending or s.endpoint in props.emails}
        return Observed(exists=True, props={"emails": tuple(sorted(shown))}, raw=_raw(arn, subs))

    def create(self, ctx: Context, spec: Spec) -> None:
        topic = read_topic(ctx, ctx.config.topic_name)
        if topic is None or not is_owned(topic[1], ctx.config.stack):
            raise FailoverError(
                f"The stack's SNS topic {ctx.config.topic_name} is missing or not owned, so "
                "the alarm e-mail cannot be subscribed",
                hint="Re-run `failover up`.",
                region=spec.region,
            )
        self._converge(ctx, spec, _raw(topic[0], email_subscriptions(ctx, topic[0])))

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        self._converge(ctx, spec, observed.raw)

    def _converge(self, ctx: Context, spec: Spec, raw: dict[str, Any]) -> None:
        props: SubscriptionProps = spec.props
        sns = ctx.client("sns", spec.region)
        confirmed: dict[str, str] = raw["confirmed"]
        for email in props.emails:
            if email in confirmed:
                continue
            if email in raw["pending"]:  # subscribing again would only resend the link
                _remind(ctx, email)
                continue
            arn = sns.subscribe(
                TopicArn=raw["topic"],
                Protocol=PROTOCOL,
                Endpoint=email,
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
            if arn == PENDING or is_pending(ctx, arn):
                _remind(ctx, email)
        # The new address first, then the old one goes: alerts never stop.
        for email, arn in confirmed.items():
            if email not in props.emails:
                _unsubscribe(ctx, arn)

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        for arn in observed.raw["confirmed"].values():
            _unsubscribe(ctx, arn)

    def deletes_separately(self, observed: Observed) -> bool:
        """Only confirmed subscriptions can be removed; pending ones go with the topic."""
        return bool((observed.raw or {}).get("confirmed"))


def _raw(topic_arn: str, subs: list[EmailSubscription]) -> dict[str, Any]:
    return {
        "topic": topic_arn,
        "confirmed": {s.endpoint: s.arn for s in subs if s.arn is not None},
        "pending": [s.endpoint for s in subs if s.pending],
    }


def is_pending(ctx: Context, arn: str) -> bool:
    sns = ctx.client("sns", ALARM_REGION)
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    return str(attributes.get(PENDING, "false")).lower() == "true"


def _remind(ctx: Context, email: str) -> None:
    ctx.outputs[PENDING_OUTPUT] = email
    ctx.progress(
        ALARM_REGION,
        f"confirm the alarm subscription: AWS sent a link to {email} (no e-mail until clicked)",
    )


def _unsubscribe(ctx: Context, arn: str) -> None:
    sns = ctx.client("sns", ALARM_REGION)
    with contextlib.suppress(sns.exceptions.NotFoundException):
        sns.unsubscribe(SubscriptionArn=arn)


def _unwanted_email(ctx: Context) -> str | None:
    """A confirmed e-mail subscription on the stack's topic when `alarms.email` is unset."""
    if ctx.config.alarms.email:
        return None
    topic = read_topic(ctx, ctx.config.topic_name)
    if topic is None or not is_owned(topic[1], ctx.config.stack):
        return None
    confirmed = [s.endpoint for s in email_subscriptions(ctx, topic[0]) if not s.pending]
    return confirmed[0] if confirmed else None


HANDLER = SubscriptionHandler()
