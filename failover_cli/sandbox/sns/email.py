"""SNS e-mail as AWS does it: pending until the link is clicked, then every message delivered.

moto confirms e-mail subscriptions at once and delivers nothing. Here:

- `Subscribe` with protocol email/email-json leaves the subscription pending
  and writes the confirmation e-mail (with a link to
  `/_sandbox/confirm/<token>`) to the outbox; the answer says "pending
  confirmation" unless ReturnSubscriptionArn is set. Subscribing a pending
  address again sends the link again.
- The link, or `ConfirmSubscription` with the token, confirms it.
- Lists show "PendingConfirmation" instead of a pending subscription's ARN,
  `GetSubscriptionAttributes` says PendingConfirmation "true", and
  `GetTopicAttributes` counts pending and confirmed subscriptions.
- Every message published to a topic (`Publish`, `PublishBatch`, alarm
  actions) is written to the outbox once per confirmed e-mail subscription,
  honouring filter policies, with an unsubscribe link
  (`/_sandbox/unsubscribe/<token>`).

Without an outbox (`context.outbox` None) none of this is installed: moto's
behaviour stays.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor, OperationInterceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response
from failover_cli.sandbox.sns import email_text as text
from failover_cli.sandbox.sns.outbox import SENDER, Outbox
from failover_cli.sandbox.sns.query_xml import (
    XMLNS,
    batch_results,
    html_response,
    members,
    sns_error,
    xml_response,
    xml_text,
)

log = logging.getLogger(__name__)

EMAIL_PROTOCOLS = frozenset({"email", "email-json"})
PENDING = "PendingConfirmation"  # the attribute, and what lists show instead of the ARN
PENDING_ANSWER = "pending confirmation"  # what Subscribe answers instead of the ARN
LINK = re.compile(r"^/_sandbox/(?P<kind>confirm|unsubscribe)/(?P<token>[A-Za-z0-9_-]+)/?$")


def install(context: SandboxContext) -> None:
    if context.outbox is None:
        return
    email = SnsEmail(context.endpoint, Outbox(context.outbox))
    context.layer.add(email)
    context.layer.add(SubscriptionLinks(email))


@dataclass(frozen=True)
class _Subscription:
    account_id: str
    region: str
    arn: str


class Tokens:
    """Confirmation and unsubscribe tokens: random, known only to this sandbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._confirm: dict[str, _Subscription] = {}
        self._unsubscribe: dict[str, _Subscription] = {}
        self._unsubscribe_of: dict[_Subscription, str] = {}

    def new_confirmation(self, subscription: _Subscription) -> str:
        token = secrets.token_hex(32)
        with self._lock:
            self._confirm[token] = subscription
        return token

    def confirmation(self, token: str) -> _Subscription | None:
        with self._lock:
            return self._confirm.get(token)

    def unsubscribe_token(self, subscription: _Subscription) -> str:
        with self._lock:
            token = self._unsubscribe_of.get(subscription)
            if token is None:
                token = secrets.token_urlsafe(24)
                self._unsubscribe_of[subscription] = token
                self._unsubscribe[token] = subscription
            return token

    def unsubscription(self, token: str) -> _Subscription | None:
        with self._lock:
            return self._unsubscribe.get(token)


class SnsEmail(OperationInterceptor):
    service = "sns"
    operations = frozenset(
        {
            "Subscribe",
            "ConfirmSubscription",
            "Publish",
            "PublishBatch",
            "ListSubscriptions",
            "ListSubscriptionsByTopic",
            "GetTopicAttributes",
        }
    )

    def __init__(self, endpoint: str, outbox: Outbox):
        self.endpoint = endpoint
        self.outbox = outbox
        self.tokens = Tokens()
        self._handlers: dict[str, Callable[[AwsRequest, Forward], Response]] = {
            "Subscribe": self._subscribe,
            "ConfirmSubscription": self._confirm_subscription,
            "Publish": self._publish,
            "PublishBatch": self._publish_batch,
            "ListSubscriptions": self._list,
            "ListSubscriptionsByTopic": self._list,
            "GetTopicAttributes": self._topic_attributes,
        }

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        return self._handlers[request.operation or ""](request, forward)

    # -- subscriptions -------------------------------------------------------

    def _subscribe(self, request: AwsRequest, forward: Forward) -> Response:
        form = request.form
        protocol = form.get("Protocol", "").lower()
        if protocol not in EMAIL_PROTOCOLS:
            return forward(request)
        backend = _backend(request.account_id, request.region)
        topic_arn, endpoint = form.get("TopicArn", ""), form.get("Endpoint", "")
        existed = any(
            s.topic_arn == topic_arn and s.endpoint == endpoint and s.protocol == protocol
            for s in list(backend.subscriptions.values())
        )
        response = forward(request)
        arn = xml_text(response.body, "SubscriptionArn") if response.ok else None
        subscription = backend.subscriptions.get(arn) if arn else None
        if subscription is None:
            return response
        if not existed:
            _set_pending(subscription, True)
        if not is_pending(subscription):
            return response  # already confirmed: AWS answers with the ARN
        self._send_confirmation(_Subscription(request.account_id, request.region, arn or ""))
        if form.get("ReturnSubscriptionArn", "").lower() == "true":
            return response
        return response.with_body(
            response.body.replace(f">{arn}<".encode(), f">{PENDING_ANSWER}<".encode(), 1)
        )

    def _send_confirmation(self, where: _Subscription) -> None:
        subscription = _backend(where.account_id, where.region).subscriptions.get(where.arn)
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

    def confirm(self, where: _Subscription, *, authenticated: bool) -> bool:
        """Confirm a pending subscription; False if it no longer exists."""
        subscription = _backend(where.account_id, where.region).subscriptions.get(where.arn)
        if subscription is None:
            return False
        if is_pending(subscription):
            _set_pending(subscription, False)
            subscription.attributes["ConfirmationWasAuthenticated"] = authenticated
        return True

    def unsubscribe(self, where: _Subscription) -> None:
        _backend(where.account_id, where.region).unsubscribe(where.arn)

    def _confirm_subscription(self, request: AwsRequest, forward: Forward) -> Response:
        where = self.tokens.confirmation(request.form.get("Token", ""))
        if where is None or where.account_id != request.account_id:
            return forward(request)  # not one of ours: moto's answer
        topic = request.form.get("TopicArn", "")
        known = _backend(where.account_id, where.region).subscriptions.get(where.arn)
        if known is None or known.topic_arn != topic or not self.confirm(where, authenticated=True):
            return sns_error("InvalidParameter", "Invalid parameter: Token", 400)
        body = (
            f'<ConfirmSubscriptionResponse xmlns="{XMLNS}"><ConfirmSubscriptionResult>'
            f"<SubscriptionArn>{escape(where.arn)}</SubscriptionArn></ConfirmSubscriptionResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</ConfirmSubscriptionResponse>"
        )
        return xml_response(200, body.encode())

    def _list(self, request: AwsRequest, forward: Forward) -> Response:
        response = forward(request)
        if not response.ok:
            return response
        body = response.body
        for subscription in _pending(_backend(request.account_id, request.region)):
            body = body.replace(
                f"<SubscriptionArn>{subscription.arn}</SubscriptionArn>".encode(),
                f"<SubscriptionArn>{PENDING}</SubscriptionArn>".encode(),
            )
        return response.with_body(body)

    def _topic_attributes(self, request: AwsRequest, forward: Forward) -> Response:
        response = forward(request)
        if not response.ok:
            return response
        topic_arn = request.form.get("TopicArn", "")
        subs = [
            s
            for s in list(_backend(request.account_id, request.region).subscriptions.values())
            if s.topic_arn == topic_arn
        ]
        pending = sum(1 for s in subs if is_pending(s))
        body = response.body
        for key, count in (
            ("SubscriptionsPending", pending),
            ("SubscriptionsConfirmed", len(subs) - pending),
        ):
            body = re.sub(
                rf"(<key>{key}</key>\s*<value>)\d+(</value>)".encode(),
                rf"\g<1>{count}\g<2>".encode(),
                body,
            )
        return response.with_body(body)

    # -- delivery ------------------------------------------------------------

    def _publish(self, request: AwsRequest, forward: Forward) -> Response:
        response = forward(request)
        form = request.form
        topic_arn = form.get("TopicArn") or form.get("TargetArn") or ""
        message_id = xml_text(response.body, "MessageId") if response.ok else None
        if message_id and ":sns:" in topic_arn:
            self.deliver(request, topic_arn, message_id, form.get("MessageStructure"))
        return response

    def _publish_batch(self, request: AwsRequest, forward: Forward) -> Response:
        response = forward(request)
        if not response.ok:
            return response
        form = request.form
        structure_of = {
            form.get(f"{prefix}.Id", ""): form.get(f"{prefix}.MessageStructure")
            for prefix in members(form, "PublishBatchRequestEntries.member")
        }
        for entry_id, message_id in batch_results(response.body):
            self.deliver(request, form.get("TopicArn", ""), message_id, structure_of.get(entry_id))
        return response

    def deliver(
        self, request: AwsRequest, topic_arn: str, message_id: str, structure: str | None
    ) -> None:
        """Write a published message for every confirmed e-mail subscription of the topic."""
        backend = _backend(request.account_id, request.region)
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
            where = _Subscription(request.account_id, request.region, subscription.arn)
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


class SubscriptionLinks(Interceptor):
    """The links in the e-mails: GET /_sandbox/confirm/<token>, /_sandbox/unsubscribe/<token>."""

    def __init__(self, email: SnsEmail):
        self.email = email

    def wants(self, request: AwsRequest) -> bool:
        return (
            request.method in ("GET", "HEAD")
            and "authorization" not in request.headers
            and LINK.match(request.path) is not None
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        found = LINK.match(request.path)
        assert found is not None
        token, tokens = found["token"], self.email.tokens
        if found["kind"] == "confirm":
            where = tokens.confirmation(token)
            if where is not None and self.email.confirm(where, authenticated=False):
                return html_response(200, text.confirmed_page(where.arn))
        else:
            where = tokens.unsubscription(token)
            if where is not None:
                self.email.unsubscribe(where)
                return html_response(200, text.unsubscribed_page(where.arn))
        return html_response(404, text.unknown_link_page())


def is_pending(subscription: Any) -> bool:
    value = subscription.attributes.get(PENDING, False)
    return value is True or str(value).lower() == "true"


def _set_pending(subscription: Any, pending: bool) -> None:
    subscription.attributes[PENDING] = pending
    subscription.confirmed = not pending
    if pending:
        subscription.attributes["ConfirmationWasAuthenticated"] = False


def _pending(backend: Any) -> Iterator[Any]:
    return (s for s in list(backend.subscriptions.values()) if is_pending(s))


def _backend(account_id: str, region: str) -> Any:
    from moto.sns.models import sns_backends

    return sns_backends[account_id][region]


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
