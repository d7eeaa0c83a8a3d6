"""What SNS e-mails say: subscription confirmations and notifications, as AWS words them.

`email` subscribers get plain text (the message, then an unsubscribe
footer); `email-json` subscribers get SNS's JSON document. Links point at
the sandbox (`/_sandbox/confirm/<token>`, `/_sandbox/unsubscribe/<token>`).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

CONFIRMATION_SUBJECT = "AWS Notification - Subscription Confirmation"
DEFAULT_SUBJECT = "AWS Notification Message"  # SNS's subject when Publish gives none
JSON_PROTOCOL = "email-json"


def confirmation(
    protocol: str, topic_arn: str, token: str, link: str, sent_at: datetime
) -> tuple[str, str]:
    """(subject, body) of the e-mail asking to confirm a subscription."""
    if protocol == JSON_PROTOCOL:
        document = {
            "Type": "SubscriptionConfirmation",
            "MessageId": str(uuid.uuid4()),
            "Token": token,
            "TopicArn": topic_arn,
            "Message": (
                f"You have chosen to subscribe to the topic {topic_arn}.\n"
                "To confirm the subscription, visit the SubscribeURL included in this message."
            ),
            "SubscribeURL": link,
            "Timestamp": _timestamp(sent_at),
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.amazonaws.com/SimpleNotificationService-EXAMPLE.pem",
        }
        return CONFIRMATION_SUBJECT, json.dumps(document, indent=2)
    body = (
        "You have chosen to subscribe to the topic:\n"
        f"{topic_arn}\n\n"
        "To confirm this subscription, click or visit the link below "
        "(If this was in error no action is necessary):\n"
        f"Confirm subscription: {link}\n\n"
        "Please do not reply directly to this email. (Sent by the failover sandbox: "
        "no e-mail left this machine.)\n"
    )
    return CONFIRMATION_SUBJECT, body


def notification(
    protocol: str,
    *,
    topic_arn: str,
    subscription_arn: str,
    message_id: str,
    subject: str | None,
    message: str,
    unsubscribe_link: str,
    sent_at: datetime,
) -> tuple[str, str]:
    """(subject, body) of one delivered message."""
    shown_subject = subject or DEFAULT_SUBJECT
    if protocol == JSON_PROTOCOL:
        document = {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": _timestamp(sent_at),
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.amazonaws.com/SimpleNotificationService-EXAMPLE.pem",
            "UnsubscribeURL": unsubscribe_link,
        }
        return shown_subject, json.dumps(document, indent=2)
    body = (
        f"{message}\n\n"
        "--\n"
        "If you wish to stop receiving notifications from this topic, please click or visit "
        "the link below to unsubscribe:\n"
        f"{unsubscribe_link}\n\n"
        "Please do not reply directly to this email. (Sent by the failover sandbox: "
        f"subscription {subscription_arn}.)\n"
    )
    return shown_subject, body


def confirmed_page(subscription_arn: str) -> str:
    return _page(
        "Subscription confirmed!",
        "You have successfully subscribed.",
        f"Your subscription's id is: {subscription_arn}",
    )


def unsubscribed_page(subscription_arn: str) -> str:
    return _page(
        "Subscription removed!",
        "Your subscription to the topic has been removed.",
        f"The subscription was: {subscription_arn}",
    )


def unknown_link_page() -> str:
    return _page(
        "Link not valid",
        "This confirmation or unsubscribe link is unknown to this sandbox.",
        "Links last as long as the sandbox that sent them; subscribe again for a new one.",
    )


def _page(title: str, *lines: str) -> str:
    from html import escape

    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head>"
        f"<body><h1>{escape(title)}</h1>{paragraphs}</body></html>"
    )


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
