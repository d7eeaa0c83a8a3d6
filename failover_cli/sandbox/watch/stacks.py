"""The watch page's view of the deployed stacks: found through the sandbox's public APIs.

A stack is found by its tagged Route 53 health checks (`failover:stack`), then its
routing records, custom domain, base path mapping and functions, read over loopback
exactly as a user's script would (so it depends on no other feature's internals).
Nothing here holds a secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from failover_cli.sandbox.execute_api_hosts import execute_api_host

STACK_TAG = "failover:stack"
ROUTE53_REGION = "us-east-1"  # Route 53 is global; its API answers in us-east-1
_REGION_NAME = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+")
_TAG_BATCH = 10  # ListTagsForResources takes at most 10 ids
Client = Callable[[str, str], Any]  # (service, region) -> a boto3 client of the sandbox


@dataclass(frozen=True)
class HealthCheckRef:
    region: str
    check_id: str
    inverted: bool
    disabled: bool


@dataclass(frozen=True)
class StackView:
    """What the page needs to know about one deployed stack (no secret in here)."""

    name: str
    regions: tuple[str, ...]  # the failover primary first, when there is one
    checks: tuple[HealthCheckRef, ...]
    routing: str | None = None  # "failover" | "latency" once records exist
    primary: str | None = None
    domain: str | None = None
    base_path: str | None = None  # "" for a mapping at the domain's root
    functions: dict[str, str] = field(default_factory=dict)  # region -> function name

    def public(self, port: int) -> dict[str, Any]:
        url = None
        if self.domain is not None and self.base_path is not None:
            url = f"http://{self.domain}.localhost:{port}{hello_path(self.base_path)}"
        return {
            "name": self.name,
            "regions": list(self.regions),
            "primary": self.primary,
            "routing": self.routing,
            "domain": self.domain,
            "base_path": self.base_path,
            "hello_url": url,
        }


def hello_path(base_path: str) -> str:
    return f"/{base_path}/hello" if base_path else "/hello"


def find_stacks(client: Client) -> list[StackView]:
    """Stacks found by their tagged Route 53 health checks, with domain and mapping."""
    route53 = client("route53", ROUTE53_REGION)
    checks: list[dict[str, Any]] = []
    for page in route53.get_paginator("list_health_checks").paginate():
        checks.extend(page.get("HealthChecks", []))
    tags = _health_check_tags(client, [c["Id"] for c in checks])
    by_stack: dict[str, list[HealthCheckRef]] = {}
    for check in checks:
        stack = tags.get(check["Id"], {}).get(STACK_TAG)
        config = check.get("HealthCheckConfig", {})
        region = _check_region(config, tags.get(check["Id"], {}), stack)
        if stack and region:
            ref = HealthCheckRef(
                region=region,
                check_id=check["Id"],
                inverted=bool(config.get("Inverted")),
                disabled=bool(config.get("Disabled")),
            )
            by_stack.setdefault(stack, []).append(ref)
    records = _alias_records(client)
    return [_describe(client, stack, refs, records) for stack, refs in sorted(by_stack.items())]


def _health_check_tags(client: Client, ids: list[str]) -> dict[str, dict[str, str]]:
    route53 = client("route53", ROUTE53_REGION)
    tags: dict[str, dict[str, str]] = {}
    for start in range(0, len(ids), _TAG_BATCH):
        answer = route53.list_tags_for_resources(
            ResourceType="healthcheck", ResourceIds=ids[start : start + _TAG_BATCH]
        )
        for entry in answer.get("ResourceTagSets", []):
            tags[entry["ResourceId"]] = {t["Key"]: t["Value"] for t in entry.get("Tags", [])}
    return tags


def _alias_records(client: Client) -> list[dict[str, Any]]:
    """Every record set with a SetIdentifier in every hosted zone (routing records)."""
    route53 = client("route53", ROUTE53_REGION)
    records: list[dict[str, Any]] = []
    for page in route53.get_paginator("list_hosted_zones").paginate():
        for zone in page.get("HostedZones", []):
            pages = route53.get_paginator("list_resource_record_sets").paginate(
                HostedZoneId=zone["Id"]
            )
            for record_page in pages:
                records.extend(
                    r for r in record_page.get("ResourceRecordSets", []) if "SetIdentifier" in r
                )
    return records


def _describe(
    client: Client, stack: str, refs: list[HealthCheckRef], records: list[dict[str, Any]]
) -> StackView:
    check_ids = {ref.check_id for ref in refs}
    mine = [
        r
        for r in records
        if r.get("HealthCheckId") in check_ids
        or str(r.get("SetIdentifier", "")).startswith(f"{stack}-")
    ]
    domain = mine[0]["Name"].rstrip(".").lower() if mine else None
    routing = primary = None
    if mine:
        routing = "failover" if any("Failover" in r for r in mine) else "latency"
    for record in mine:
        if record.get("Failover") == "PRIMARY":
            primary = _record_region(record, stack, refs)
    regions = sorted({ref.region for ref in refs})
    if primary in regions:
        regions.remove(primary)
        regions.insert(0, primary)
    refs = sorted(refs, key=lambda ref: regions.index(ref.region))
    base_path = _base_path(client, domain, regions) if domain else None
    return StackView(
        name=stack,
        regions=tuple(regions),
        checks=tuple(refs),
        routing=routing,
        primary=primary,
        domain=domain,
        base_path=base_path,
        functions=_functions(client, stack, regions),
    )


def _base_path(client: Client, domain: str, regions: list[str]) -> str | None:
    for region in regions:
        apigateway = client("apigateway", region)
        try:
            items = apigateway.get_base_path_mappings(domainName=domain).get("items", [])
        except apigateway.exceptions.NotFoundException:
            continue
        for item in items:
            path = str(item.get("basePath", ""))
            return "" if path == "(none)" else path.strip("/")
    return None


def _functions(client: Client, stack: str, regions: list[str]) -> dict[str, str]:
    """The stack's function in each region, found by its ownership tag."""
    found: dict[str, str] = {}
    for region in regions:
        lam = client("lambda", region)
        for page in lam.get_paginator("list_functions").paginate():
            for function in page.get("Functions", []):
                tags = lam.list_tags(Resource=function["FunctionArn"]).get("Tags", {})
                if tags.get(STACK_TAG) == stack:
                    found[region] = function["FunctionName"]
    return found


def _check_region(config: dict[str, Any], tags: dict[str, str], stack: str | None) -> str | None:
    """The region a probe watches: its `<stack>-<R>` name, else its target host.

    The stack's other checks (`<stack>-<R>-switched`, `<stack>-<R>-read-in-<Q>`) are not a
    region's probe: None, so the page never takes `us-east-1-switched` for a region.
    """
    name = tags.get("Name", "")
    if stack and name.startswith(f"{stack}-") and len(name) > len(stack) + 1:
        suffix = name[len(stack) + 1 :]
        return suffix if _REGION_NAME.fullmatch(suffix) else None
    host = execute_api_host(str(config.get("FullyQualifiedDomainName", "")).rstrip(".").lower())
    return host.region if host else None


def _record_region(record: dict[str, Any], stack: str, refs: list[HealthCheckRef]) -> str | None:
    for ref in refs:
        if ref.check_id == record.get("HealthCheckId"):
            return ref.region
    identifier = str(record.get("SetIdentifier", ""))
    return identifier[len(stack) + 1 :] if identifier.startswith(f"{stack}-") else None
