"""Requests to a custom domain: `http://<domain>.localhost:<port>/…` or `Host: <domain>`.

The region that answers is the one Route 53 would send a client to right now
(`route53.records.resolve`: routing policy, current health, the sandbox's
client region). That region's API Gateway custom domain and its base path
mappings pick the API and stage, and `execute_api.dispatch_execute_api`
answers, so the function's own `X-Failover-Region` header tells which region
served. Nothing is added to the answer.

Where a real client would fail before reaching API Gateway, the sandbox
answers 502 with a JSON message saying why (a browser would only say "server
not found"):

- no public hosted zone holds an A record for the name (NXDOMAIN);
- the name resolves to something that is not an API Gateway regional domain,
  or that region has no such custom domain (any more).

A path matching no base path mapping gets API Gateway's own 403 Forbidden.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from failover_cli.sandbox.apigateway.execute_api import dispatch_execute_api, gateway_error
from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.outage_regions import Mode, Unanswered
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response
from failover_cli.sandbox.route53.records import resolve, zones_for

LOCALHOST_SUFFIX = ".localhost"
NO_MAPPING = "(none)"  # moto's key for the empty base path


def install(context: SandboxContext) -> None:
    context.layer.add(CustomDomains(context))


class CustomDomains(Interceptor):
    def __init__(self, context: SandboxContext):
        self.context = context

    def wants(self, request: AwsRequest) -> bool:
        if _signed(request):
            return False  # an AWS API call, whatever its host
        name = domain_of(request.hostname)
        if name is None:
            return False
        if request.hostname.endswith(LOCALHOST_SUFFIX):
            return True  # <anything>.localhost that is no AWS host is a domain to us
        # A bare Host header: only names Route 53 knows, so moto keeps the rest.
        return bool(zones_for(request.account_id, name))

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        name = domain_of(request.hostname)
        assert name is not None
        account = request.account_id
        resolution = resolve(self.context, name, "A", account_id=account)
        if resolution is None:
            return no_route(
                f"No DNS answer for {name}: no public hosted zone in the sandbox holds an A "
                "record for it (NXDOMAIN)."
            )
        target = (resolution.target or "").lower().rstrip(".")
        region = resolution.region
        domain = _custom_domain(account, region, name) if region else None
        if domain is None or str(domain.regional_domain_name).lower() != target:
            return no_route(
                f"{name} resolves to {target or 'nothing'}"
                + (f" in {region}" if region else "")
                + ", which is not the regional domain name of an API Gateway custom domain "
                f"{name} in the sandbox."
            )
        assert region is not None
        if self.context.outages.data_plane_down(region):
            raise Unanswered(Mode.HANG, region)  # the outage switch: that region's data plane
        return self._dispatch(request, name, region, account)

    def _dispatch(self, request: AwsRequest, name: str, region: str, account: str) -> Response:
        from moto.apigateway.models import apigateway_backends

        backend = dict.get(apigateway_backends.get(account) or {}, region)
        mappings: dict[str, Any] = (
            dict(backend.base_path_mappings.get(name) or {}) if backend else {}
        )
        # WSGI hands the path over as latin-1 text: get the client's UTF-8 back.
        path = request.path.encode("latin-1", "replace").decode("utf-8", "replace")
        first, _, rest = path.lstrip("/").partition("/")
        if first and first in mappings:
            mapping, base_path, remaining = mappings[first], first, "/" + rest
        elif NO_MAPPING in mappings:
            mapping, base_path, remaining = mappings[NO_MAPPING], "", "/" + path.lstrip("/")
        else:
            return gateway_error(403, "Forbidden")
        stage = mapping.stage
        if not stage:  # a mapping to the whole API: the stage is the next path segment
            stage, _, rest = remaining.lstrip("/").partition("/")
            remaining = "/" + rest
            if not stage:
                return gateway_error(403, "Forbidden")
        headers = {**request.headers, "host": name}  # API Gateway saw the domain, not .localhost
        return dispatch_execute_api(
            self.context,
            str(mapping.rest_api_id),
            region,
            str(stage),
            remaining,
            request.method,
            request.query,
            headers,
            request.body,
            domain_name=name,
            base_path=base_path,
        )


def domain_of(hostname: str) -> str | None:
    """The custom domain a request's host names, or None for the sandbox's own and AWS hosts."""
    name = hostname.lower().rstrip(".")
    if name.endswith(LOCALHOST_SUFFIX):
        name = name[: -len(LOCALHOST_SUFFIX)]
    if "." not in name or name.endswith(".amazonaws.com") or ".execute-api." in name:
        return None
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        return name


def no_route(message: str) -> Response:
    body = json.dumps({"message": message}).encode()
    headers = (("Content-Type", "application/json"), ("Content-Length", str(len(body))))
    return Response(status=502, headers=headers, body=body)


def _custom_domain(account: str, region: str, name: str) -> Any:
    from moto.apigateway.models import apigateway_backends

    backend = dict.get(apigateway_backends.get(account) or {}, region)
    return backend.domain_names.get(name) if backend is not None else None


def _signed(request: AwsRequest) -> bool:
    return "authorization" in request.headers or "X-Amz-Credential" in request.query
