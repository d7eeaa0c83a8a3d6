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
behaviour stays. Here: the SNS calls and the links; the pending state and the link
tokens are in subscriptions.py, writing the e-mails in email_delivery.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from xml.sax.saxutils import escape

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor, OperationInterceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response
from failover_cli.sandbox.sns import email_text as text
from failover_cli.sandbox.sns.email_delivery import Delivery
from failover_cli.sandbox.sns.outbox import Outbox
from failover_cli.sandbox.sns.query_xml import (
    XMLNS,
    batch_results,
    html_response,
    members,
    sns_error,
    xml_response,
    xml_text,
)
from failover_cli.sandbox.sns.subscriptions import (
    EMAIL_PROTOCOLS,
    PENDING,
    SubscriptionRef,
    Tokens,
    is_pending,
    pending_in,
    set_pending,
    sns_backend,
)

PENDING_ANSWER = "pending confirmation"  # what Subscribe answers instead of the ARN
LINK = re.compile(r"^/_sandbox/(?P<kind>confirm|unsubscribe)/(?P<token>[A-Za-z0-9_-]+)/?$")


def install(context: SandboxContext) -> None:
    if context.outbox is None:
        return
    email = SnsEmail(context.endpoint, Outbox(context.outbox))
    context.layer.add(email)
    context.layer.add(SubscriptionLinks(email))


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
        self.tokens = Tokens()
        self.delivery = Delivery(endpoint, outbox, self.tokens)
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
        backend = sns_backend(request.account_id, request.region)
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
            set_pending(subscription, True)
        if not is_pending(subscription):
            return response  # already confirmed: AWS answers with the ARN
        where = SubscriptionRef(request.account_id, request.region, arn or "")
        self.delivery.send_confirmation(where)
        if form.get("ReturnSubscriptionArn", "").lower() == "true":
            return response
        return response.with_body(
            response.body.replace(f">{arn}<".encode(), f">{PENDING_ANSWER}<".encode(), 1)
        )

    def confirm(self, where: SubscriptionRef, *, authenticated: bool) -> bool:
        """Confirm a pending subscription; False if it no longer exists."""
        subscription = sns_backend(where.account_id, where.region).subscriptions.get(where.arn)
        if subscription is None:
            return False
        if is_pending(subscription):
            set_pending(subscription, False)
            subscription.attributes["ConfirmationWasAuthenticated"] = authenticated
        return True

    def unsubscribe(self, where: SubscriptionRef) -> None:
        sns_backend(where.account_id, where.region).unsubscribe(where.arn)

    def _confirm_subscription(self, request: AwsRequest, forward: Forward) -> Response:
        where = self.tokens.confirmation(request.form.get("Token", ""))
        if where is None or where.account_id != request.account_id:
            return forward(request)  # not one of ours: moto's answer
        topic = request.form.get("TopicArn", "")
        known = sns_backend(where.account_id, where.region).subscriptions.get(where.arn)
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
        for subscription in pending_in(sns_backend(request.account_id, request.region)):
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
            for s in list(sns_backend(request.account_id, request.region).subscriptions.values())
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
            self.delivery.deliver(request, topic_arn, message_id, form.get("MessageStructure"))
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
            structure = structure_of.get(entry_id)
            self.delivery.deliver(request, form.get("TopicArn", ""), message_id, structure)
        return response


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
