"""What of a stack exists, read with plain boto3 (not the tool): for the fault and recovery tests.

`inventory()` lists, per kind, every resource of the stack that names or tags
identify, plus what only a fingerprint can find: a health check that was created
but never tagged (an interrupted create) is recognised by the stack's API ids in
its host or the stack's secret in its path, gathered with `fingerprints()` while
the stack still has its API and functions.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tests import e2e_helpers

REGIONS = ("us-east-1", "us-west-2")
ROUTE53_REGION = "us-east-1"
STACK_TAG = "failover:stack"


@dataclass
class Fingerprints:
    api_ids: set[str] = field(default_factory=set)
    secrets: set[str] = field(default_factory=set)

    def add(self, other: Fingerprints) -> None:
        self.api_ids |= other.api_ids
        self.secrets |= other.secrets

    def knows(self, check: dict[str, Any]) -> bool:
        cfg = check.get("HealthCheckConfig", {})
        host = str(cfg.get("FullyQualifiedDomainName", ""))
        path = str(cfg.get("ResourcePath", ""))
        return host.split(".", 1)[0] in self.api_ids or any(s in path for s in self.secrets)


@functools.cache
def client(service: str, region: str, endpoint: str) -> Any:
    """One client per (service, region, endpoint) and process: inventories run by the dozen."""
    return e2e_helpers.client(service, region, endpoint)


# A forked worker must not share the parent's pooled connections.
os.register_at_fork(after_in_child=client.cache_clear)


def _apis(endpoint: str, region: str, stack: str) -> list[dict[str, Any]]:
    pages = client("apigateway", region, endpoint).get_paginator("get_rest_apis").paginate()
    return [a for page in pages for a in page.get("items", []) if a.get("name") == stack]


def fingerprints(endpoint: str, stack: str, function: str) -> Fingerprints:
    """The stack's API ids and health-checker secret(s), read while they exist."""
    found = Fingerprints()
    for region in REGIONS:
        found.api_ids |= {a["id"] for a in _apis(endpoint, region, stack)}
        lam = client("lambda", region, endpoint)
        with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
            env = lam.get_function_configuration(FunctionName=function)["Environment"]
            found.secrets |= {
                v for k, v in env.get("Variables", {}).items() if k.startswith("HEALTH_CHECKER_ID")
            }
    return found


def _exists(call: Any, *missing: str) -> bool:
    try:
        call()
    except ClientError as error:
        if error.response["Error"]["Code"] in missing:
            return False
        raise
    return True


def inventory(
    endpoint: str,
    stack: str,
    *,
    table: str,
    function: str,
    seen: Fingerprints | None = None,
    domain: str | None = None,
    zone_id: str | None = None,
    regions: Iterable[str] = REGIONS,
) -> dict[str, list[str]]:
    """kind -> identifiers of what exists of the stack (duplicates show as repeats).

    With `domain` (unique to the stack) and its `zone_id`: every certificate for
    the domain, tagged or not, its regional domain names, and every record of the
    zone but NS and SOA (the validation CNAME and the alias records).
    """
    seen = seen or Fingerprints()
    regions = tuple(regions)
    found: dict[str, list[str]] = {}

    def note(kind: str, names: Iterable[str]) -> None:
        found.setdefault(kind, []).extend(names)

    iam = client("iam", ROUTE53_REGION, endpoint)
    role = f"{stack}-function"
    if _exists(lambda: iam.get_role(RoleName=role), "NoSuchEntity"):
        note("role", [role])
    for region in regions:
        ddb = client("dynamodb", region, endpoint)
        if _exists(
            lambda ddb=ddb: ddb.describe_table(TableName=table), "ResourceNotFoundException"
        ):
            note("table", [f"{table} ({region})"])
        aas = client("application-autoscaling", region, endpoint)
        targets = aas.describe_scalable_targets(
            ServiceNamespace="dynamodb", ResourceIds=[f"table/{table}"]
        )["ScalableTargets"]
        note("scaling", [f"{t['ScalableDimension']} ({region})" for t in targets])
        policies = aas.describe_scaling_policies(
            ServiceNamespace="dynamodb", ResourceId=f"table/{table}"
        )["ScalingPolicies"]
        note("scaling_policy", [f"{p['PolicyName']} ({region})" for p in policies])
        logs = client("logs", region, endpoint)
        groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{function}")
        note(
            "log_group",
            [
                f"{g['logGroupName']} ({region})"
                for g in groups["logGroups"]
                if g["logGroupName"] == f"/aws/lambda/{function}"
            ],
        )
        lam = client("lambda", region, endpoint)
        if _exists(
            lambda lam=lam: lam.get_function(FunctionName=function), "ResourceNotFoundException"
        ):
            note("function", [f"{function} ({region})"])
        note("api", [f"{a['id']} ({region})" for a in _apis(endpoint, region, stack)])
    r53 = client("route53", ROUTE53_REGION, endpoint)
    pages = r53.get_paginator("list_health_checks").paginate()
    checks = [c for page in pages for c in page["HealthChecks"]]
    for start in range(0, len(checks), 10):
        batch = checks[start : start + 10]
        tag_sets = r53.list_tags_for_resources(
            ResourceType="healthcheck", ResourceIds=[c["Id"] for c in batch]
        )["ResourceTagSets"]
        tags = {t["ResourceId"]: {x["Key"]: x["Value"] for x in t["Tags"]} for t in tag_sets}
        for check in batch:
            mine = tags.get(check["Id"], {}).get(STACK_TAG) == stack or seen.knows(check)
            if mine:
                label = tags.get(check["Id"], {}).get("Name", "untagged")
                note("health_check", [f"{check['Id']} ({label})"])
    sns = client("sns", ROUTE53_REGION, endpoint)
    topics = [
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(f":{stack}-alarms")
    ]
    note("topic", topics)
    cw = client("cloudwatch", ROUTE53_REGION, endpoint)
    alarms = cw.describe_alarms(AlarmNamePrefix=f"{stack}-")["MetricAlarms"]
    note("alarm", [a["AlarmName"] for a in alarms])
    if domain is not None:
        for region in regions:
            note("certificate", _certificates(endpoint, region, domain))
            items = client("apigateway", region, endpoint).get_domain_names(limit=500)["items"]
            mine = [d for d in items if d["domainName"] == domain]
            note("domain_name", [f"{domain} ({region})" for _ in mine])
    if zone_id is not None:
        sets = r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        note(
            "record",
            [
                f"{r['Name']} {r['Type']} {r.get('SetIdentifier', '')}".rstrip()
                for r in sets
                if r["Type"] not in ("NS", "SOA")
            ],
        )
    return {kind: names for kind, names in found.items() if names}


_CERTIFICATE_STATUSES = [
    "PENDING_VALIDATION",
    "ISSUED",
    "INACTIVE",
    "EXPIRED",
    "VALIDATION_TIMED_OUT",
    "REVOKED",
    "FAILED",
]


def _certificates(endpoint: str, region: str, domain: str) -> list[str]:
    pages = (
        client("acm", region, endpoint)
        .get_paginator("list_certificates")
        .paginate(CertificateStatuses=_CERTIFICATE_STATUSES)
    )
    return [
        f"{c['CertificateArn'].rsplit('/', 1)[-1]} ({region})"
        for page in pages
        for c in page["CertificateSummaryList"]
        if c["DomainName"] == domain
    ]


# How many of each kind a converged stack without domain has (two regions, no e-mail).
CONVERGED_NO_DOMAIN = {
    "role": 1,
    "table": 2,
    "scaling": 4,
    "scaling_policy": 4,
    "log_group": 2,
    "function": 2,
    "api": 2,
    "health_check": 6,  # per region: its probe, one switch reader, the CALCULATED check
    "topic": 1,
    "alarm": 2,
}

# With a domain: a certificate and a domain name per region; in the zone, the validation
# CNAME (the same in every region) and one alias record per region.
CONVERGED_WITH_DOMAIN = {**CONVERGED_NO_DOMAIN, "certificate": 2, "domain_name": 2, "record": 3}
