"""API Gateway custom domain names as AWS treats them, where moto 5.2.5 does not.

- CreateDomainName refuses a name that already exists in the region (moto
  silently replaces it, losing its mappings and target) and a regional
  certificate that is not ISSUED (moto accepts anything);
- UpdateDomainName (not in moto) replaces the regional certificate, the
  security policy or the endpoint type in place, keeping the target;
- base path mapping calls on a domain name that never had a mapping answer
  like any other (moto fails with a KeyError, i.e. HTTP 500);
- a domain name holds its certificate in ACM (`InUseBy`, so ACM refuses to delete
  it) and lets go only `certificate_release` after the domain is deleted
  (acm.in_use; a deliberate coupling, like the certificate status check).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from failover_cli.sandbox.acm import in_use
from failover_cli.sandbox.acm.validation import issue_validated
from failover_cli.sandbox.aws_rules import AwsRules
from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_error, json_response
from failover_cli.sandbox.scheduler import Scheduler

_DOMAINS = re.compile(r"^/domainnames/?$")
_DOMAIN = re.compile(r"^/domainnames/(?P<domain>[^/]+)/?$")
_MAPPINGS = re.compile(r"^/domainnames/(?P<domain>[^/]+)/basepathmappings(?:/[^/]*)?/?$")


def install(context: SandboxContext) -> None:
    context.layer.add(DomainNamesInterceptor(context.scheduler, context.rules))


class DomainNamesInterceptor(Interceptor):
    def __init__(self, scheduler: Scheduler, rules: AwsRules):
        self.scheduler = scheduler
        self.rules = rules

    def wants(self, request: AwsRequest) -> bool:
        if request.service != "apigateway":
            return False
        return bool(
            (request.method == "POST" and _DOMAINS.match(request.path))
            or (request.method in ("PATCH", "DELETE") and _DOMAIN.match(request.path))
            or _MAPPINGS.match(request.path)
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        backend = _backend(request)
        mappings = _MAPPINGS.match(request.path)
        if mappings:
            prepare_mappings(backend, unquote(mappings.group("domain")))
            return forward(request)
        named = _DOMAIN.match(request.path)
        if named and request.method == "DELETE":
            return self._delete(request, forward, backend, unquote(named.group("domain")))
        if named:
            before = _certificate_of(backend.domain_names.get(unquote(named.group("domain"))))
            response = _update(request, backend, unquote(named.group("domain")))
            if response.ok:
                self._moved(request, unquote(named.group("domain")), before, backend)
            return response
        body = request.json()
        name = str(body.get("domainName", ""))
        if name in backend.domain_names:
            return json_error(
                "ConflictException", f"The domain name you provided already exists: {name}", 409
            )
        arn = body.get("regionalCertificateArn")
        if arn and certificate_status(request.account_id, request.region, str(arn)) != "ISSUED":
            return json_error(
                "BadRequestException",
                f"Certificate {arn} in account {request.account_id} is not yet issued",
            )
        response = forward(request)
        if response.ok and arn:
            in_use.hold(request.account_id, request.region, str(arn), _arn(request, name))
        return response

    def _delete(self, request: AwsRequest, forward: Forward, backend: Any, name: str) -> Response:
        """The domain goes; API Gateway lets go of its certificate only later."""
        arn = _certificate_of(backend.domain_names.get(name))
        response = forward(request)
        if response.ok and arn:
            in_use.release(
                self.scheduler,
                self.rules,
                request.account_id,
                request.region,
                arn,
                _arn(request, name),
            )
        return response

    def _moved(self, request: AwsRequest, name: str, before: str | None, backend: Any) -> None:
        """UpdateDomainName to another certificate: the new one is held, the old let go."""
        after = _certificate_of(backend.domain_names.get(name))
        if after == before:
            return
        user = _arn(request, name)
        if after:
            in_use.hold(request.account_id, request.region, after, user)
        if before:
            in_use.release(
                self.scheduler, self.rules, request.account_id, request.region, before, user
            )


def _certificate_of(domain: Any) -> str | None:
    if domain is None:
        return None
    arn = getattr(domain, "regional_certificate_arn", None) or getattr(
        domain, "certificate_arn", None
    )
    return str(arn) if arn else None


def _arn(request: AwsRequest, name: str) -> str:
    """How ACM's InUseBy names a custom domain name."""
    return f"arn:aws:apigateway:{request.region}::/domainnames/{name}"


def _update(request: AwsRequest, backend: Any, name: str) -> Response:
    domain = backend.domain_names.get(name)
    if domain is None:
        return json_error("NotFoundException", "Invalid domain name identifier specified", 404)
    changes: dict[str, Any] = {}
    for operation in request.json().get("patchOperations", []):
        path, value = str(operation.get("path", "")), operation.get("value")
        if operation.get("op") != "replace":
            return json_error("BadRequestException", f"Unsupported operation on {path}")
        if path == "/regionalCertificateArn":
            status = certificate_status(request.account_id, request.region, str(value))
            if status != "ISSUED":
                return json_error(
                    "BadRequestException",
                    f"Certificate {value} in account {request.account_id} is not yet issued",
                )
            changes["regional_certificate_arn"] = value
        elif path == "/securityPolicy":
            changes["security_policy"] = value
        elif path.startswith("/endpointConfiguration/types/"):
            changes["endpoint_configuration"] = {"types": [value]}
        else:
            return json_error("BadRequestException", f"Invalid patch path {path}")
    for attribute, value in changes.items():  # all or nothing, as AWS applies a patch
        setattr(domain, attribute, value)
    return json_response(domain.to_json(), content_type="application/json")


def prepare_mappings(backend: Any, domain: str) -> None:
    """Give an existing domain name moto's (empty) mapping table, which moto only makes on
    the first CreateBasePathMapping."""
    if domain in backend.domain_names:
        backend.base_path_mappings.setdefault(domain, {})


def certificate_status(account_id: str, region: str, arn: str) -> str | None:
    from moto.acm.models import acm_backends

    issue_validated(account_id, region)  # what ACM would say right now
    certificate = acm_backends[account_id][region]._certificates.get(arn)
    return None if certificate is None else str(certificate.status)


def _backend(request: AwsRequest) -> Any:
    from moto.apigateway.models import apigateway_backends

    return apigateway_backends[request.account_id][request.region]
