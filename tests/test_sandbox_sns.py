"""SNS e-mail in the sandbox: pending until confirmed, then every message in the outbox.

Each test starts its own sandbox subprocess with its own `--outbox` folder,
so the files in it are that test's. Waits poll with a generous deadline.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import SandboxProcess
from tests.sandbox_api_helpers import http
from tests.sandbox_outbox_helpers import CONFIRMATION, Outbox, body, link

pytestmark = pytest.mark.sandbox

REGION = "us-east-1"


@pytest.fixture
def outbox(
    launch_sandbox: Callable[..., SandboxProcess],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Outbox]:
    folder = tmp_path / "outbox"
    process = launch_sandbox("--outbox", str(folder))
    process.wait_until_ready()
    monkeypatch.setenv("AWS_ENDPOINT_URL", process.endpoint)
    yield Outbox(folder)


def sns() -> Any:
    return boto3.client("sns", region_name=REGION)


def topic() -> str:
    arn: str = sns().create_topic(Name=f"topic-{uuid.uuid4().hex[:10]}")["TopicArn"]
    return arn


def address() -> str:
    return f"ops-{uuid.uuid4().hex[:8]}@example.com"


def listed(topic_arn: str) -> dict[str, str]:
    """Endpoint -> SubscriptionArn as ListSubscriptionsByTopic shows them."""
    subs = sns().list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    return {s["Endpoint"]: s["SubscriptionArn"] for s in subs}


def test_an_email_subscription_waits_for_its_link_and_then_gets_every_message(
    outbox: Outbox,
) -> None:
    topic_arn, to = topic(), address()
    answer = sns().subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=to)
    assert answer["SubscriptionArn"] == "pending confirmation"
    assert listed(topic_arn) == {to: "PendingConfirmation"}
    arn = sns().subscribe(
        TopicArn=topic_arn, Protocol="email", Endpoint=to, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    attributes = sns().get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "true"
    counts = sns().get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert (counts["SubscriptionsPending"], counts["SubscriptionsConfirmed"]) == ("1", "0")

    # Subscribing twice sent the link twice; a message before confirming goes nowhere.
    confirmation = outbox.wait_for(to, CONFIRMATION)
    assert len(outbox.to(to, CONFIRMATION)) == 2
    assert topic_arn in body(confirmation)
    sns().publish(TopicArn=topic_arn, Subject="too early", Message="not for you yet")

    page = http(link(confirmation, "confirm"))
    assert page.status == 200 and b"Subscription confirmed!" in page.body
    assert listed(topic_arn) == {to: arn}
    attributes = sns().get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    counts = sns().get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert (counts["SubscriptionsPending"], counts["SubscriptionsConfirmed"]) == ("0", "1")

    sns().publish(TopicArn=topic_arn, Subject="Deploy finished", Message="All regions green.")
    delivered = outbox.wait_for(to, "Deploy finished")
    assert body(delivered).startswith("All regions green.")
    assert delivered["X-Sns-Topic-Arn"] == topic_arn
    assert delivered["From"] == "AWS Notifications <no-reply@sns.amazonaws.com>"
    assert delivered["Date"]
    assert outbox.to(to, "too early") == []  # the early message was never delivered

    # A message without a subject gets SNS's default one.
    sns().publish(TopicArn=topic_arn, Message="no subject")
    assert body(outbox.wait_for(to, "AWS Notification Message")).startswith("no subject")


def test_confirm_subscription_with_the_token_and_email_json_documents(outbox: Outbox) -> None:
    topic_arn, to = topic(), address()
    sns().subscribe(TopicArn=topic_arn, Protocol="email-json", Endpoint=to)
    document = json.loads(body(outbox.wait_for(to, CONFIRMATION)))
    assert document["Type"] == "SubscriptionConfirmation"
    assert document["TopicArn"] == topic_arn
    assert "/_sandbox/confirm/" in document["SubscribeURL"]

    arn = sns().confirm_subscription(TopicArn=topic_arn, Token=document["Token"])["SubscriptionArn"]
    assert listed(topic_arn) == {to: arn}

    sns().publish(TopicArn=topic_arn, Subject="json", Message="hello")
    notification = json.loads(body(outbox.wait_for(to, "json")))
    assert notification["Type"] == "Notification"
    assert notification["Message"] == "hello" and notification["Subject"] == "json"
    assert "/_sandbox/unsubscribe/" in notification["UnsubscribeURL"]


def test_batches_structured_messages_and_filter_policies(outbox: Outbox) -> None:
    topic_arn, to, picky = topic(), address(), address()
    for endpoint in (to, picky):
        sns().subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=endpoint)
        http(link(outbox.wait_for(endpoint, CONFIRMATION), "confirm"))
    picky_arn = listed(topic_arn)[picky]
    sns().set_subscription_attributes(
        SubscriptionArn=picky_arn,
        AttributeName="FilterPolicy",
        AttributeValue=json.dumps({"level": ["critical"]}),
    )

    sns().publish_batch(
        TopicArn=topic_arn,
        PublishBatchRequestEntries=[
            {"Id": "one", "Subject": "first", "Message": "1"},
            {
                "Id": "two",
                "Subject": "second",
                "MessageStructure": "json",
                "Message": json.dumps({"default": "machines", "email": "people"}),
                "MessageAttributes": {"level": {"DataType": "String", "StringValue": "critical"}},
            },
        ],
    )
    assert body(outbox.wait_for(to, "first")).startswith("1")
    assert body(outbox.wait_for(to, "second")).startswith("people")
    assert body(outbox.wait_for(picky, "second")).startswith("people")
    assert outbox.to(picky, "first") == []  # filtered out: no "level" attribute


def test_the_unsubscribe_link_removes_the_subscription(outbox: Outbox) -> None:
    topic_arn, to = topic(), address()
    sns().subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=to)
    http(link(outbox.wait_for(to, CONFIRMATION), "confirm"))
    sns().publish(TopicArn=topic_arn, Subject="one", Message="x")

    page = http(link(outbox.wait_for(to, "one"), "unsubscribe"))
    assert page.status == 200 and b"Subscription removed" in page.body
    assert listed(topic_arn) == {}


def test_unknown_links_are_404(outbox: Outbox) -> None:
    assert http(f"{sns().meta.endpoint_url}/_sandbox/confirm/nosuchtoken").status == 404


def test_each_sandbox_has_its_own_default_outbox() -> None:
    from failover_cli.sandbox.sns.outbox import default_outbox

    first, second = default_outbox(), default_outbox()
    try:
        assert first != second and first.is_dir() and second.is_dir()
        assert first.name.startswith("sandbox-outbox-")
    finally:
        first.rmdir()
        second.rmdir()
