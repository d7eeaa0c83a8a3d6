"""The state of SNS subscriptions as AWS keeps it, over moto's: pending or confirmed.

moto confirms every subscription at once; the sandbox marks an e-mail subscription
pending (`PendingConfirmation`) until it is confirmed, and hands out the random
tokens of its confirmation and unsubscribe links.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

EMAIL_PROTOCOLS = frozenset({"email", "email-json"})
PENDING = "PendingConfirmation"  # the attribute, and what lists show instead of the ARN


@dataclass(frozen=True)
class SubscriptionRef:
    """Where a subscription lives: enough to find it in moto again."""

    account_id: str
    region: str
    arn: str


class Tokens:
    """Confirmation and unsubscribe tokens: random, known only to this sandbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._confirm: dict[str, SubscriptionRef] = {}
        self._unsubscribe: dict[str, SubscriptionRef] = {}
        self._unsubscribe_of: dict[SubscriptionRef, str] = {}

    def new_confirmation(self, subscription: SubscriptionRef) -> str:
        token = secrets.token_hex(32)
        with self._lock:
            self._confirm[token] = subscription
        return token

    def confirmation(self, token: str) -> SubscriptionRef | None:
        with self._lock:
            return self._confirm.get(token)

    def unsubscribe_token(self, subscription: SubscriptionRef) -> str:
        with self._lock:
            token = self._unsubscribe_of.get(subscription)
            if token is None:
                token = secrets.token_urlsafe(24)
                self._unsubscribe_of[subscription] = token
                self._unsubscribe[token] = subscription
            return token

    def unsubscription(self, token: str) -> SubscriptionRef | None:
        with self._lock:
            return self._unsubscribe.get(token)


def is_pending(subscription: Any) -> bool:
    value = subscription.attributes.get(PENDING, False)
    return value is True or str(value).lower() == "true"


def set_pending(subscription: Any, pending: bool) -> None:
    subscription.attributes[PENDING] = pending
    subscription.confirmed = not pending
    if pending:
        subscription.attributes["ConfirmationWasAuthenticated"] = False


def pending_in(backend: Any) -> Iterator[Any]:
    return (s for s in list(backend.subscriptions.values()) if is_pending(s))


def sns_backend(account_id: str, region: str) -> Any:
    from moto.sns.models import sns_backends

    return sns_backends[account_id][region]
