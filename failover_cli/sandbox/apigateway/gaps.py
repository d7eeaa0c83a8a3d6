"""API Gateway (REST) calls moto gets wrong, answered as AWS answers them.

- TagResource / UntagResource / GetTags on a REST API or custom domain ARN
  (`arn:aws:apigateway:<region>::/restapis/<id>`, `.../domainnames/<name>`):
  moto only tags stages. Tags live on moto's own objects, so GetRestApi and
  GetDomainName show them too. Stage ARNs still go to moto.
- DeleteRestApi of a missing API: moto raises KeyError (HTTP 500); AWS says
  NotFoundException.
- UpdateRestApi of a resource policy over API Gateway's 8 KB quota ("Amazon API
  Gateway quotas": resource policy size) or that is not a JSON object: moto stores
  it; AWS refuses it with BadRequestException.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_error, json_response

MAX_POLICY_BYTES = 8192

_TAGS = re.compile(r"^/tags/(?P<arn>.+)$")
_TAGGABLE = re.compile(
    r"^arn:[\w-]+:apigateway:(?P<region>[a-z0-9-]+)::/(?P<kind>restapis|domainnames)/(?P<id>[^/]+)$"
)
_REST_API = re.compile(r"^/restapis/(?P<id>[^/]+)/?$")
_NOT_FOUND = {
    "restapis": "Invalid Rest API Id specified",
    "domainnames": "Invalid domain name identifier specified",
}


def install(context: SandboxContext) -> None:
    context.layer.add(ApiGatewayGaps())


def _tagged_arn(request: AwsRequest) -> re.Match[str] | None:
    match = _TAGS.match(request.path)
    return _TAGGABLE.match(unquote(match.group("arn"))) if match else None


class ApiGatewayGaps(Interceptor):
    def wants(self, request: AwsRequest) -> bool:
        if request.service != "apigateway":
            return False
        if request.method in ("DELETE", "PATCH") and _REST_API.match(request.path):
            return True
        return request.method in ("GET", "PUT", "POST", "DELETE") and bool(_tagged_arn(request))

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        arn = _tagged_arn(request)
        if arn is None and request.method == "PATCH":
            return _policy_checked(request, forward)
        if arn is None:
            return self._delete_rest_api(request, forward)
        return self._tags(request, arn)

    def _delete_rest_api(self, request: AwsRequest, forward: Forward) -> Response:
        match = _REST_API.match(request.path)
        assert match is not None
        if _resource(request.account_id, request.region, "restapis", match.group("id")) is None:
            return _not_found(_NOT_FOUND["restapis"])
        return forward(request)

    def _tags(self, request: AwsRequest, arn: re.Match[str]) -> Response:
        kind, identifier = arn.group("kind"), unquote(arn.group("id"))
        resource = _resource(request.account_id, arn.group("region"), kind, identifier)
        if resource is None:
            return _not_found(_NOT_FOUND[kind])
        tags: dict[str, str] = dict(resource.tags or {})
        if request.method == "GET":
            return json_response({"tags": tags}, content_type="application/json")
        if request.method == "DELETE":
            for key in parse_qs(request.query).get("tagKeys", []):
                tags.pop(key, None)
        else:
            tags.update({str(k): str(v) for k, v in (request.json().get("tags") or {}).items()})
        resource.tags = tags
        return Response(204, (("x-amzn-RequestId", "sandbox"),), b"")


def _resource(account: str, region: str, kind: str, identifier: str) -> Any:
    from moto.apigateway.models import apigateway_backends

    backend = apigateway_backends[account][region]
    found = backend.apis if kind == "restapis" else backend.domain_names
    return found.get(identifier)


def _policy_checked(request: AwsRequest, forward: Forward) -> Response:
    """UpdateRestApi: a /policy value must be a JSON object within 8,192 bytes."""
    try:
        operations = json.loads(request.body or b"{}").get("patchOperations") or []
    except (ValueError, AttributeError):
        return forward(request)
    for op in operations:
        value = op.get("value") if str(op.get("path", "")).startswith("/policy") else None
        if not value:
            continue  # not the policy, or removing it
        size = len(str(value).encode())
        if size > MAX_POLICY_BYTES:
            return _bad_request(
                f"Resource policy size of {size} bytes exceeds the limit of {MAX_POLICY_BYTES}"
            )
        try:
            valid = isinstance(json.loads(str(value)), dict)
        except ValueError:
            valid = False
        if not valid:
            return _bad_request("Invalid policy document. Please check the policy syntax.")
    return forward(request)


def _bad_request(message: str) -> Response:
    error = json_error("BadRequestException", message, status=400)
    return Response(
        error.status, (*error.headers, ("x-amzn-ErrorType", "BadRequestException")), error.body
    )


def _not_found(message: str) -> Response:
    error = json_error("NotFoundException", message, status=404)
    return Response(
        error.status, (*error.headers, ("x-amzn-ErrorType", "NotFoundException")), error.body
    )
