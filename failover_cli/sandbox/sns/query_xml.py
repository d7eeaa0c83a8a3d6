"""The XML and HTML bits of SNS's query protocol the e-mail emulation reads and writes."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape

from failover_cli.sandbox.responses import Response

XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"


def members(form: dict[str, str], prefix: str) -> list[str]:
    numbers = sorted(
        {int(m.group(1)) for key in form if (m := re.match(rf"{re.escape(prefix)}\.(\d+)\.", key))}
    )
    return [f"{prefix}.{n}" for n in numbers]


def batch_results(body: bytes) -> list[tuple[str, str]]:
    """(entry id, message id) of each successful PublishBatch entry."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return []
    found = []
    for element in root.iter():
        if local_name(element.tag) == "Successful":
            for member in element:
                values = {local_name(child.tag): (child.text or "") for child in member}
                if values.get("Id") and values.get("MessageId"):
                    found.append((values["Id"], values["MessageId"]))
    return found


def xml_text(body: bytes, tag: str) -> str | None:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    for element in root.iter():
        if local_name(element.tag) == tag:
            return (element.text or "").strip()
    return None


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sns_error(code: str, message: str, status: int) -> Response:
    body = (
        f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return xml_response(status, body.encode())


def xml_response(status: int, body: bytes) -> Response:
    headers = (("Content-Type", "text/xml"), ("Content-Length", str(len(body))))
    return Response(status=status, headers=headers, body=body)


def html_response(status: int, page: str) -> Response:
    body = page.encode()
    headers = (
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
    )
    return Response(status=status, headers=headers, body=body)
