"""The outbox: SNS e-mail deliveries written as files the user can read.

One `.eml` file per message and recipient (plain RFC 5322 text: any mail
client opens it, `cat` shows it), named so that `ls` lists them in the order
they were sent. Files appear whole: each is written under a temporary name
and renamed.
"""

from __future__ import annotations

import re
import tempfile
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

SENDER = "AWS Notifications <no-reply@sns.amazonaws.com>"
DEFAULT_FOLDER_NAME = "sandbox-outbox"
_SLUG = re.compile(r"[^A-Za-z0-9]+")


def default_outbox() -> Path:
    """A fresh folder per sandbox (two sandboxes never mix their e-mail), named in the
    banner; it stays after the sandbox stops, for reading."""
    return Path(tempfile.mkdtemp(prefix=f"{DEFAULT_FOLDER_NAME}-"))


class Outbox:
    def __init__(self, folder: Path):
        self.folder = folder
        self._lock = threading.Lock()
        self._sequence = 0

    def write(
        self,
        recipient: str,
        subject: str,
        body: str,
        *,
        headers: Mapping[str, str] | None = None,
        sent_at: datetime | None = None,
        sender: str = SENDER,
    ) -> Path:
        """Write one e-mail to `recipient`; returns the file's path."""
        sent_at = sent_at or datetime.now(UTC)
        message = EmailMessage()
        message["From"] = sender
        message["To"] = recipient
        message["Date"] = format_datetime(sent_at)
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain="sns.amazonaws.com")
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(body, cte="8bit")  # readable with cat: no quoted-printable
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
        stamp = sent_at.strftime("%Y%m%dT%H%M%S.%fZ")
        slug = _SLUG.sub("-", subject).strip("-")[:60] or "message"
        # The uuid keeps sandboxes sharing the default folder from overwriting each other.
        name = f"{stamp}-{sequence:05d}-{slug}-{uuid.uuid4().hex[:8]}.eml"
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / name
        partial = self.folder / f".{name}.partial"
        partial.write_bytes(bytes(message))
        partial.replace(final)
        return final
