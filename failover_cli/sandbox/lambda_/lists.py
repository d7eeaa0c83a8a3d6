"""ListVersionsByFunction and ListAliases in pages, as Lambda answers them.

moto answers every version and every alias in one page and ignores
`FunctionVersion` on ListAliases. Lambda pages both (`MaxItems`, `Marker`,
`NextMarker`); ListVersionsByFunction answers at most 50 versions a page "even
if you set the number higher" (API Reference, ListVersionsByFunction), so a
caller that reads one page and stops misses versions here as it would there.
ListAliases with `FunctionVersion` lists only the aliases of that version (API
Reference, ListAliases). Markers are opaque; here they are positions.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

from failover_cli.sandbox.lambda_.functions import LambdaApiError
from failover_cli.sandbox.lambda_.invoke import lambda_error
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response

_LIST = re.compile(r"^/2015-03-31/functions/[^/]+/(?P<what>versions|aliases)/?$")
VERSIONS_PER_PAGE = 50
_KEYS = {"versions": "Versions", "aliases": "Aliases"}


class Pages(Interceptor):
    def wants(self, request: AwsRequest) -> bool:
        return (
            request.service == "lambda"
            and request.method == "GET"
            and _LIST.match(request.path) is not None
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        found = _LIST.match(request.path)
        assert found is not None
        query = {k: v[0] for k, v in parse_qs(request.query).items()}
        try:
            start, size = _page(query, found["what"])
        except LambdaApiError as error:
            return lambda_error(error)
        response = forward(request)
        if not response.ok:
            return response
        body = response.json()
        key = _KEYS[found["what"]]
        items: list[Any] = list(body.get(key) or [])
        if key == "Aliases" and query.get("FunctionVersion"):
            items = [a for a in items if str(a.get("FunctionVersion")) == query["FunctionVersion"]]
        page = items[start : start + size] if size else items[start:]
        body[key] = page
        following = start + len(page)
        body.pop("NextMarker", None)
        if following < len(items):
            body["NextMarker"] = str(following)
        return response.with_json(body)


def _page(query: dict[str, str], what: str) -> tuple[int, int]:
    """(first position, page size; 0: unbounded) from Marker and MaxItems."""
    marker, wanted = query.get("Marker") or "0", query.get("MaxItems")
    if not marker.isdigit():
        raise LambdaApiError("InvalidParameterValueException", f"Invalid marker: {marker}")
    if wanted is not None and (not wanted.isdigit() or not 1 <= int(wanted) <= 10000):
        raise LambdaApiError(
            "ValidationException",
            f"1 validation error detected: Value '{wanted}' at 'maxItems' failed to satisfy "
            "constraint: Member must have value between 1 and 10000",
        )
    size = int(wanted) if wanted else 0
    if what == "versions":
        size = min(size or VERSIONS_PER_PAGE, VERSIONS_PER_PAGE)
    return int(marker), size
