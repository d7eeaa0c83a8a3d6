"""Reading a sandbox's `--outbox` folder: the e-mails SNS delivered, as parsed messages."""

from __future__ import annotations

import email.parser
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import cast

from tests.sandbox_api_helpers import eventually

CONFIRMATION = "AWS Notification - Subscription Confirmation"


@dataclass
class Outbox:
    folder: Path

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.eml"))

    def messages(self) -> list[EmailMessage]:
        parse = email.parser.BytesParser(policy=email.policy.default)
        return [cast(EmailMessage, parse.parsebytes(p.read_bytes())) for p in self.files()]

    def to(self, address: str, subject: str | None = None) -> list[EmailMessage]:
        return [
            m
            for m in self.messages()
            if m["To"] == address and (subject is None or m["Subject"] == subject)
        ]

    def wait_for(self, address: str, subject: str) -> EmailMessage:
        """The latest e-mail to `address` with `subject`, once there is one."""
        return eventually(lambda: self.to(address, subject), f"{subject!r} to {address}")[-1]


def body(message: EmailMessage) -> str:
    return str(message.get_content())


def link(message: EmailMessage, kind: str) -> str:
    """The sandbox link of `kind` (confirm, unsubscribe) in an e-mail."""
    found = re.search(rf"http://\S+/_sandbox/{kind}/[A-Za-z0-9_-]+", body(message))
    assert found, body(message)
    return found.group(0)
