"""A buffered HTTP response that interceptors can read, rewrite or build from scratch."""

from __future__ import annotations

import json
import uuid
import zlib
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

AMZ_JSON = "application/x-amz-json-1.0"


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def status_line(self) -> str:
        try:
            return f"{self.status} {HTTPStatus(self.status).phrase}"
        except ValueError:
            return str(self.status)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def json(self) -> dict[str, Any]:
        parsed = json.loads(self.body) if self.body else {}
        return parsed if isinstance(parsed, dict) else {}

    def with_body(self, body: bytes) -> Response:
        """Same status and headers, new body; length and DynamoDB's CRC32 follow it."""
        headers = []
        for key, value in self.headers:
            lowered = key.lower()
            if lowered == "content-length":
                value = str(len(body))
            elif lowered == "x-amz-crc32":
                # botocore verifies this checksum on every DynamoDB answer.
                value = str(zlib.crc32(body) & 0xFFFFFFFF)
            headers.append((key, value))
        return replace(self, headers=tuple(headers), body=body)

    def with_json(self, payload: dict[str, Any]) -> Response:
        return self.with_body(json.dumps(payload).encode())


def json_response(
    payload: dict[str, Any], status: int = 200, content_type: str = AMZ_JSON
) -> Response:
    """A JSON-protocol answer (DynamoDB, Lambda, ACM, Logs ...), shaped like AWS's."""
    body = json.dumps(payload).encode()
    headers = (
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", uuid.uuid4().hex),
        ("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF)),
    )
    return Response(status=status, headers=headers, body=body)


def json_error(code: str, message: str, status: int = 400, prefix: str = "") -> Response:
    """A JSON-protocol error: botocore reads the code after '#' in __type."""
    return json_response({"__type": f"{prefix}{code}", "message": message}, status=status)
