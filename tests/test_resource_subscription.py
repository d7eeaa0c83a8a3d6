"""E-mail subscription handler against moto: subscribe, pending reminder, address change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sns.models import SNSBackend

from failover_cli.bundle import CodeBundle
from failover_cli.config.schema import AlarmsConfig, Config
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.resources import subscription, topic
from failover_cli.resources.subscription import HANDLER, PENDING_OUTPUT
from tests.engine_helpers import context, make_config

TOPIC = "arn:aws:sns:us-east-1:123456789012:hello-alarms"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def owned_topic(aws: None) -> None:
    (spec,) = topic.desired(_inputs(_config("ops@example.com")))
    with context() as (ctx, _):
        topic.HANDLER.create(ctx, spec)


@pytest.fixture
def pending(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto behave like SNS: e-mail subscriptions wait for their confirmation link."""
    original = SNSBackend.subscribe

    def subscribe(self: SNSBackend, topic_arn: str, endpoint: str, protocol: str) -> Any:
        made = original(self, topic_arn, endpoint, protocol)
        if protocol == "email":
            made.arn = "PendingConfirmation"  # what ListSubscriptionsByTopic shows
            made.attributes["PendingConfirmation"] = "true"
        return made

    monkeypatch.setattr(SNSBackend, "subscribe", subscribe)


def _config(email: str | None) -> Config:
    return make_config(alarms=AlarmsConfig(email=email))


def _inputs(config: Config) -> DesiredInputs:
    return DesiredInputs(config, "s", CodeBundle(b"", ""))


def _spec(email: str) -> Spec:
    (spec,) = subscription.desired(_inputs(_config(email)))
    return spec


def _listed() -> list[tuple[str, str]]:
    subs = boto3.client("sns", "us-east-1").list_subscriptions_by_topic(TopicArn=TOPIC)
    return sorted((s["Endpoint"], s["SubscriptionArn"]) for s in subs["Subscriptions"])


def test_only_with_an_address_and_after_the_topic() -> None:
    assert subscription.desired(_inputs(_config(None))) == []
    spec = _spec("ops@example.com")
    assert (spec.key, spec.depends_on) == (
        "subscription:us-east-1:hello-alarms-email",
        ("topic:us-east-1:hello-alarms",),
    )


def test_create_then_observe_shows_no_diff(owned_topic: None) -> None:
    spec = _spec("ops@example.com")
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
        assert PENDING_OUTPUT not in ctx.outputs  # moto confirms at once
    with context() as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
        assert seen.exists and seen.owned and HANDLER.diff(spec, seen) == []
        assert recorder.mutating == []
    assert [e for e, _ in _listed()] == ["ops@example.com"]


def test_a_pending_subscription_exists_and_up_asks_for_the_confirmation(
    owned_topic: None, pending: None
) -> None:
    spec = _spec("ops@example.com")
    messages: list[str] = []
    with context() as (ctx, _):
        ctx.progress = lambda _region, message: messages.append(message)
        HANDLER.create(ctx, spec)
        assert ctx.outputs[PENDING_OUTPUT] == "ops@example.com"
    assert any("ops@example.com" in m and "confirm" in m for m in messages)
    with context() as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
        assert seen.exists and HANDLER.diff(spec, seen) == []  # no second subscribe
        assert ctx.outputs[PENDING_OUTPUT] == "ops@example.com"  # still reminded at the end
        assert not HANDLER.deletes_separately(seen)  # it goes with the topic
        assert recorder.mutating == []


def test_a_new_address_is_subscribed_before_the_old_one_goes(owned_topic: None) -> None:
    with context() as (ctx, _):
        HANDLER.create(ctx, _spec("old@example.com"))
    spec = _spec("new@example.com")
    with context() as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert [c.describe() for c in changes] == [
            "emails: ('old@example.com',) -> ('new@example.com',)"
        ]
        HANDLER.update(ctx, spec, seen, changes)
        assert [c[2] for c in recorder.mutating] == ["Subscribe", "Unsubscribe"]
    assert [e for e, _ in _listed()] == ["new@example.com"]


def test_other_protocols_on_the_topic_are_left_alone(owned_topic: None) -> None:
    sqs = boto3.client("sqs", "us-east-1")
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns = boto3.client("sns", "us-east-1")
    sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    spec = _spec("ops@example.com")
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
        HANDLER.delete(ctx, spec, HANDLER.observe(ctx, spec))
    assert [e.rsplit(":", 1)[-1] for e, _ in _listed()] == ["q"]


def test_not_on_an_unowned_topic(aws: None) -> None:
    boto3.client("sns", "us-east-1").create_topic(Name="hello-alarms")
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, _spec("ops@example.com"))
    assert seen.exists and not seen.owned


def test_delete_twice_is_fine(owned_topic: None) -> None:
    spec = _spec("ops@example.com")
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
        seen = HANDLER.observe(ctx, spec)
        assert HANDLER.deletes_separately(seen)
        HANDLER.delete(ctx, spec, seen)
        HANDLER.delete(ctx, spec, seen)
        assert not HANDLER.observe(ctx, spec).exists
