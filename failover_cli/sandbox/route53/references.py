"""CreateHealthCheck is idempotent on its CallerReference, as on Route 53.

Route 53 answers a CreateHealthCheck whose CallerReference an existing check
was created with by returning that check, so a request resent after a lost
answer never makes a second one; the reference of a deleted check is refused
(HealthCheckAlreadyExists). moto makes a new check per request: here the
duplicate it just made is removed again and the answer names the first one.
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any
from xml.etree import ElementTree

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response

XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/"
_CREATE_PATH = re.compile(r"^/2013-04-01/healthcheck/?$")
_ID = re.compile(r"<Id>([^<]+)</Id>")


def install(context: SandboxContext) -> None:
    context.layer.add(CallerReferences())


class CallerReferences(Interceptor):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: set[tuple[str, str]] = set()  # (account, reference) ever created

    def wants(self, request: AwsRequest) -> bool:
        return (
            request.service == "route53"
            and request.method == "POST"
            and _CREATE_PATH.match(request.path) is not None
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        reference = _reference(request.body)
        key = (request.account_id, reference)
        with self._lock:  # one create per reference at a time
            first = next(
                (c for c in _checks(request.account_id) if c.caller_reference == reference), None
            )
            if first is None and key in self._used:
                return _already_exists(reference)
            response = forward(request)
            made = _ID.search(response.body.decode("utf-8", "replace"))
            if not response.ok or made is None:
                return response
            self._used.add(key)
            if first is None:
                return response
            _backend(request.account_id).delete_health_check(made.group(1))
        duplicate = made.group(1)
        headers = tuple((k, v.replace(duplicate, first.id)) for k, v in response.headers)
        body = response.body.decode("utf-8").replace(duplicate, first.id).encode()
        return Response(response.status, headers, response.body).with_body(body)


def _reference(body: bytes) -> str:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return ""
    found = root.find(f"{{{XMLNS}}}CallerReference")
    if found is None:
        found = root.find("CallerReference")
    return (found.text or "") if found is not None else ""


def _backend(account: str) -> Any:
    from moto.route53.models import route53_backends

    return route53_backends[account]["aws"]


def _checks(account: str) -> list[Any]:
    return list(_backend(account).list_health_checks())


def _already_exists(reference: str) -> Response:
    body = (
        f'<?xml version="1.0"?><ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type>'
        "<Code>HealthCheckAlreadyExists</Code><Message>A health check with the caller "
        f"reference {reference} was created before and has been deleted</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()
    return Response(409, (("Content-Type", "text/xml"), ("Content-Length", str(len(body)))), body)
