"""Condition keys a request carries beyond the region: read from its body or from the state.

- `iam:PermissionsBoundary`: the boundary a role is created or set with, or, for a write
  into an existing role, the boundary it carries (absent: none). IAM User Guide,
  "Permissions boundaries for IAM entities" (delegating responsibility), and the
  Service Authorization Reference's IAM page (the actions taking the key).
- `route53:ChangeResourceRecordSetsNormalizedRecordNames`, `…RecordTypes` and
  `…Actions`: multivalued, one value per change of the batch; names in lower case,
  without the final dot, escapes such as `\\052` decoded. Route 53 Developer Guide,
  "Using IAM policy conditions for fine-grained access control".
- `aws:ResourceTag/<key>` of an ACM certificate for `DeleteCertificate` (ACM User
  Guide, "Tag-based access control" / the Service Authorization Reference's ACM page).
- `aws:ResourceTag/<key>` of a scalable target for Application Auto Scaling's writes on
  it, and `aws:RequestTag/<key>` of RegisterScalableTarget's `Tags`.
- API Gateway (`apigateway:<verb>` on a path): `aws:RequestTag/<key>` of a REST API or
  custom domain name being created (its `tags`), and `aws:ResourceTag/<key>` of the REST
  API or domain name a path is under, which its children (resources, methods,
  deployments, stages, base path mappings) inherit for access control; a stage's own
  tags win over its API's; for `/tags/<arn>`, those of the resource the ARN names. API
  Gateway Developer Guide, "API Gateway resources that can be tagged" (tag inheritance)
  and "Using tags to control access to API Gateway REST API resources".
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from typing import Any
from urllib.parse import unquote

ContextPairs = tuple[tuple[str, str | tuple[str, ...]], ...]  # a tuple: multivalued

_BOUNDARY_REQUESTED = {"iam:CreateRole", "iam:PutRolePermissionsBoundary"}
_BOUNDED_ROLE_ACTIONS = _BOUNDARY_REQUESTED | {
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePermissionsBoundary",
}
_RECORD_KEYS = "route53:ChangeResourceRecordSets"
_ESCAPE = re.compile(r"\\(\d{3})")
_CREATED_WITH_TAGS = ("/restapis", "/domainnames")
# Application Auto Scaling's writes on one scalable target (named by namespace, resource
# id and dimension): its tags are the target's (Application Auto Scaling User Guide,
# "ABAC with Application Auto Scaling").
_SCALING_TARGET_ACTIONS = {
    "application-autoscaling:RegisterScalableTarget",
    "application-autoscaling:PutScalingPolicy",
    "application-autoscaling:DeleteScalingPolicy",
    "application-autoscaling:DeregisterScalableTarget",
}
_UNDER_API = re.compile(r"^/restapis/(?P<api>[^/]+)(?:/stages/(?P<stage>[^/]+))?")
_UNDER_DOMAIN = re.compile(r"^/domainnames/(?P<domain>[^/]+)")


def extra_context(
    action: str, params: dict[str, Any], body: bytes, account: str, region: str
) -> ContextPairs:
    """The condition keys `action` carries beyond `aws:RequestedRegion`."""
    if action in _BOUNDED_ROLE_ACTIONS:
        return _boundary(action, params, account)
    if action == "route53:ChangeResourceRecordSets":
        return _record_changes(body)
    if action == "acm:DeleteCertificate":
        return _certificate_tags(str(params.get("CertificateArn") or ""), account, region)
    if action in _SCALING_TARGET_ACTIONS:
        return _scaling_tags(action, params, account, region)
    return ()


def _scaling_tags(action: str, params: dict[str, Any], account: str, region: str) -> ContextPairs:
    """A scalable target's tags (aws:ResourceTag), and those it is registered with."""
    target = scalable_target(account, region, params)
    tags = dict(getattr(target, "sandbox_tags", None) or {})  # kept by autoscaling.gaps
    found = [(f"aws:ResourceTag/{k}", str(v)) for k, v in tags.items()]
    requested = params.get("Tags") if action.endswith("RegisterScalableTarget") else None
    if isinstance(requested, dict):
        found += [(f"aws:RequestTag/{k}", str(v)) for k, v in requested.items()]
    return tuple(found)


def _boundary(action: str, params: dict[str, Any], account: str) -> ContextPairs:
    if action in _BOUNDARY_REQUESTED:
        boundary = str(params.get("PermissionsBoundary") or "")
    else:
        boundary = _role_boundary(account, str(params.get("RoleName") or ""))
    return (("iam:PermissionsBoundary", boundary),) if boundary else ()


def _role_boundary(account: str, name: str) -> str:
    """The boundary moto's IAM holds for the role ("" when none, or no such role)."""
    from moto.iam.models import iam_backends

    try:
        role = iam_backends[account]["global"].get_role(name)
    except Exception:  # no such role: the call itself answers NoSuchEntity
        return ""
    return str(role.permissions_boundary_arn or "")


def _record_changes(body: bytes) -> ContextPairs:
    try:
        root = ElementTree.fromstring(body or b"<x/>")
    except ElementTree.ParseError:
        return ()
    names: list[str] = []
    types: list[str] = []
    actions: list[str] = []
    for change in root.iter():
        if _local(change.tag) != "Change":
            continue
        fields = {_local(e.tag): (e.text or "") for e in change.iter()}
        actions.append(fields.get("Action", ""))
        names.append(normalized_record_name(fields.get("Name", "")))
        types.append(fields.get("Type", ""))
    return (
        (f"{_RECORD_KEYS}NormalizedRecordNames", tuple(names)),
        (f"{_RECORD_KEYS}RecordTypes", tuple(types)),
        (f"{_RECORD_KEYS}Actions", tuple(actions)),
    )


def normalized_record_name(name: str) -> str:
    """As Route 53 normalizes it for the condition key: lower case, escapes decoded, no
    final dot."""
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name)
    return decoded.lower().removesuffix(".")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _certificate_tags(arn: str, account: str, region: str) -> ContextPairs:
    from moto.acm.models import acm_backends

    try:
        tags = acm_backends[account][region].get_certificate(arn).tags
    except Exception:  # no such certificate: the call itself answers
        return ()
    return tuple((f"aws:ResourceTag/{k}", str(v or "")) for k, v in dict(tags).items())


def api_gateway_context(
    method: str, path: str, body: bytes, account: str, region: str
) -> ContextPairs:
    """The tag keys of an API Gateway request on `path` (the request path, still quoted)."""
    plain = unquote(path).rstrip("/")
    found: list[tuple[str, str | tuple[str, ...]]] = []
    tagging = plain in _CREATED_WITH_TAGS or plain.startswith("/tags/")
    if method in ("POST", "PUT") and tagging:
        try:
            requested = json.loads(body or b"{}").get("tags") or {}
        except (ValueError, AttributeError):
            requested = {}
        if isinstance(requested, dict):
            found += [(f"aws:RequestTag/{k}", str(v)) for k, v in requested.items()]
    if plain.startswith("/tags/"):  # TagResource, UntagResource, GetTags: the ARN's resource
        plain = plain.removeprefix("/tags/").partition("::")[2]
    found += [(f"aws:ResourceTag/{k}", v) for k, v in _api_gateway_tags(plain, account, region)]
    return tuple(found)


def _api_gateway_tags(path: str, account: str, region: str) -> list[tuple[str, str]]:
    """The tags a path's REST API or domain name carries, as moto holds them."""
    from moto.apigateway.models import apigateway_backends

    try:
        backend = apigateway_backends[account][region]
    except Exception:  # no backend for that region: nothing there carries tags
        return []
    tags: dict[str, Any] = {}
    under_api = _UNDER_API.match(path)
    under_domain = _UNDER_DOMAIN.match(path)
    if under_api and under_api["api"] in backend.apis:
        api = backend.apis[under_api["api"]]
        tags = dict(api.tags or {})
        stage = api.stages.get(under_api["stage"]) if under_api["stage"] else None
        tags.update((stage.tags or {}) if stage is not None else {})
    elif under_domain and under_domain["domain"] in backend.domain_names:
        tags = dict(backend.domain_names[under_domain["domain"]].tags or {})
    return [(str(k), str(v)) for k, v in tags.items()]


def scalable_target(account: str, region: str, params: dict[str, Any]) -> Any:
    """moto's scalable target that `params` (ScalableDimension, ResourceId) names, or None."""
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    try:
        backend = applicationautoscaling_backends[account][region]
    except Exception:  # no backend for that region: no target either
        return None
    dimension = str(params.get("ScalableDimension", ""))
    return backend.targets.get(dimension, {}).get(str(params.get("ResourceId", "")))
