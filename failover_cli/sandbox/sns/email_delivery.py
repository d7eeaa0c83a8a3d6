"""Delivering SNS e-mail: confirmation e-mails and published messages, to the outbox.

Every message published to a topic (`Publish`, `PublishBatch`, alarm actions) is
written once per confirmed e-mail subscription, honouring filter policies, with an
unsubscribe link (`/_sandbox/unsubscribe/<token>`); a new subscription gets its
confirmation e-mail with the link `/_sandbox/confirm/<token>`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.sns import email_text as text
from failover_cli.sandbox.sns.outbox import SENDER, Outbox
from failover_cli.sandbox.sns.subscriptions import (
    EMAIL_PROTOCOLS,
    SubscriptionRef,
    Tokens,
    is_pending,
    sns_backend,
)

log = logging.getLogger(__name__)


class Delivery:
    """Writes the e-mails of one sandbox: its endpoint (for links), outbox and tokens."""

    def __init__(self, endpoint: str, outbox: Outbox, tokens: Tokens):
        self.endpoint = endpoint
        self.outbox = outbox
        self.tokens = tokens

    def send_confirmation(self, where: SubscriptionRef) -> None:
        subscription = sns_backend(where.account_id, where.region).subscriptions.get(where.arn)
        if subscription is None:
            return
        token = self.tokens.new_confirmation(where)
        now = datetime.now(UTC)
        subject, body = text.confirmation(
            subscription.protocol,
            subscription.topic_arn,
            token,
            f"{self.endpoint}/_sandbox/confirm/{token}",
            now,
        )
        self._write(subscription, subject, body, now, {"X-Sns-Topic-Arn": subscription.topic_arn})

    def deliver(
        self, request: AwsRequest, topic_arn: str, message_id: str, structure: str | None
    ) -> None:
        """Write a published message for every confirmed e-mail subscription of the topic."""
        backend = sns_backend(request.account_id, request.region)
        topic = backend.topics.get(topic_arn)
        sent = _sent(topic, message_id) if topic is not None else None
        if sent is None:
            return
        message, subject, attributes = sent
        for subscription in list(backend.subscriptions.values()):
            if (
                subscription.topic_arn != topic_arn
                or subscription.protocol not in EMAIL_PROTOCOLS
                or is_pending(subscription)  # AWS delivers to confirmed subscriptions only
                or not _passes_filter(subscription, attributes, message)
            ):
                continue
            body = _for_protocol(message, subscription.protocol) if structure == "json" else message
            where = SubscriptionRef(request.account_id, request.region, subscription.arn)
            link = f"{self.endpoint}/_sandbox/unsubscribe/{self.tokens.unsubscribe_token(where)}"
            now = datetime.now(UTC)
            shown_subject, text_body = text.notification(
                subscription.protocol,
                topic_arn=topic_arn,
                subscription_arn=subscription.arn,
                message_id=message_id,
                subject=subject,
                message=body,
                unsubscribe_link=link,
                sent_at=now,
            )
            headers = {
                "X-Sns-Topic-Arn": topic_arn,
                "X-Sns-Subscription-Arn": subscription.arn,
                "X-Sns-Message-Id": message_id,
            }
            self._write(subscription, shown_subject, text_body, now, headers)

    def _write(
        self, subscription: Any, subject: str, body: str, now: datetime, headers: dict[str, str]
    ) -> None:
        display = str(getattr(subscription.topic, "display_name", "") or "").strip()
        sender = f"{display} <no-reply@sns.amazonaws.com>" if display else SENDER
        try:
            path = self.outbox.write(
                subscription.endpoint, subject, body, headers=headers, sent_at=now, sender=sender
            )
        except OSError as error:  # a full or read-only disk must not fail the API call
            log.warning("could not write an e-mail to the outbox: %s", error)
            return
        log.info("e-mail to %s: %s (%s)", subscription.endpoint, subject, path)


def _sent(topic: Any, message_id: str) -> tuple[str, str | None, dict[str, Any]] | None:
    """(message, subject, attributes) of a message moto recorded as published to `topic`."""
    for sent_id, message, subject, attributes, _group in reversed(list(topic.sent_notifications)):
        if sent_id == message_id:
            return message, subject, attributes or {}
    return None


def _passes_filter(subscription: Any, attributes: dict[str, Any], message: str) -> bool:
    matcher = getattr(subscription, "_filter_policy_matcher", None)
    if matcher is None:
        return True
    try:
        return bool(matcher.matches(attributes, message))
    except Exception:  # moto's matcher on a message it cannot read: deliver, as without a filter
        return True


def _for_protocol(message: str, protocol: str) -> str:
    """The part of a MessageStructure=json message meant for `protocol` (moto validated it)."""
    import json

    try:
        parts = json.loads(message)
        return str(parts.get(protocol) or parts["default"])
    except (ValueError, KeyError, AttributeError):
        return message
