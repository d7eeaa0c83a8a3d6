"""What an incoming AWS API request is: service, operation, region, account, body.

Parsed once from the WSGI environ so every interceptor reads the same facts.
The body is read eagerly (AWS API bodies are small) and replayed to moto.
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wsgi import get_input_stream

DEFAULT_REGION = "us-east-1"
# Who signs: the sandbox's own calls (health checkers, alarms, running functions) and
# the account's administrator are never held to `--enforce-policy` (see access.py).
INTERNAL_ACCESS_KEY = "sandbox-internal"
ADMIN_ACCESS_KEY = "sandbox-admin"

# "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, ..."
_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
# dynamodb.us-west-2.amazonaws.com, abc.execute-api.eu-west-1.localhost:4566
_REGIONAL_HOST = re.compile(r"(?:^|\.)([a-z0-9-]+)\.([a-z]{2}(?:-[a-z]+)+-\d+)\.")


@dataclass(frozen=True)
class AwsRequest:
    """One HTTP request to the sandbox, with the AWS facts derived from it."""

    method: str
    host: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    environ: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> AwsRequest:
        body = get_input_stream(environ).read()
        # Replay the bytes we consumed: whoever runs next reads them again.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        return cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            host=headers.get("host") or environ.get("SERVER_NAME", ""),
            path=environ.get("PATH_INFO", "") or "/",
            query=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=body,
            environ=environ,
        )

    def to_environ(self) -> dict[str, Any]:
        """A fresh WSGI environ carrying this request's body, to hand on to moto."""
        environ = dict(self.environ)
        environ["wsgi.input"] = io.BytesIO(self.body)
        environ["CONTENT_LENGTH"] = str(len(self.body))
        return environ

    @cached_property
    def _scope(self) -> tuple[str, str, str] | None:
        """(access key, region, service) from the SigV4 credential scope."""
        text = self.headers.get("authorization", "")
        if not text:
            text = " ".join(parse_qs(self.query).get("X-Amz-Credential", []))
            text = f"Credential={text}" if text else ""
        match = _CREDENTIAL_SCOPE.search(text)
        return (match.group(1), match.group(2), match.group(3)) if match else None

    @property
    def signed(self) -> bool:
        """Whether this is a SigV4-signed AWS API call (not a page, a link or execute-api)."""
        return self._scope is not None

    @cached_property
    def access_key(self) -> str | None:
        """The access key id the request is signed with; None for unsigned requests."""
        return self._scope[0] if self._scope else None

    @cached_property
    def hostname(self) -> str:
        """The Host header without its port, lower-case."""
        return self.host.rsplit(":", 1)[0].lower() if ":" in self.host else self.host.lower()

    @cached_property
    def service(self) -> str | None:
        """The signing name (dynamodb, lambda, iam, ...) or, unsigned, the host's service label."""
        if self._scope:
            return self._scope[2].lower()
        match = _REGIONAL_HOST.search(self.hostname + ".")
        return match.group(1) if match else None

    @cached_property
    def region(self) -> str:
        if self._scope:
            return self._scope[1]
        match = _REGIONAL_HOST.search(self.hostname + ".")
        return match.group(2) if match else DEFAULT_REGION

    @cached_property
    def target(self) -> str | None:
        """X-Amz-Target of JSON-protocol APIs, e.g. DynamoDB_20120810.UpdateTable."""
        return self.headers.get("x-amz-target")

    @cached_property
    def operation(self) -> str | None:
        """The API operation for JSON and query protocols; None for REST APIs (route on path)."""
        if self.target:
            return self.target.rsplit(".", 1)[-1]
        action = self.form.get("Action")
        return action or None

    @cached_property
    def form(self) -> dict[str, str]:
        """Query-protocol parameters (IAM, SNS, STS, CloudWatch): body and query string."""
        pairs = parse_qs(self.query, keep_blank_values=True)
        if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            for key, values in parse_qs(self.body.decode("utf-8", "replace"), True).items():
                pairs.setdefault(key, []).extend(values)
        return {key: values[0] for key, values in pairs.items()}

    def json(self) -> dict[str, Any]:
        """The JSON body of a JSON-protocol request ({} when there is none)."""
        if not self.body:
            return {}
        parsed = json.loads(self.body)
        return parsed if isinstance(parsed, dict) else {}

    @cached_property
    def account_id(self) -> str:
        """The account moto files this request under (same rules as moto's own)."""
        if "MOTO_ACCOUNT_ID" in os.environ:
            return os.environ["MOTO_ACCOUNT_ID"]
        if "x-moto-account-id" in self.headers:
            return self.headers["x-moto-account-id"]
        from moto.iam.models import get_account_id_from

        access_key = self._scope[0] if self._scope else "AKIAEXAMPLE"
        return str(get_account_id_from(access_key))
