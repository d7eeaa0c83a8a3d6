"""ACM reads shared by the certificate and domain name kinds: the stack's certificates.

The stack's certificate for `domain.name` in a region is one carrying the
ownership tags. ACM lists certificates by name; tags and validation details
need one call each, so only certificates for the stack's name are described.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from failover_cli.aws.tags import is_owned
from failover_cli.engine.context import Context
from failover_cli.services.route53_zone import normalise

ISSUED = "ISSUED"
PENDING = "PENDING_VALIDATION"
LIVE = (PENDING, ISSUED)  # what a validation record is still needed for
EVERY_STATUS = (*LIVE, "INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT", "REVOKED", "FAILED")


@dataclass(frozen=True)
class ValidationRecord:
    name: str
    value: str

    def same(self, other: ValidationRecord) -> bool:
        return (normalise(self.name), normalise(self.value)) == (
            normalise(other.name),
            normalise(other.value),
        )


@dataclass(frozen=True)
class Certificate:
    arn: str
    status: str
    owned: bool
    tags: dict[str, str]
    records: tuple[ValidationRecord, ...]  # empty until ACM has said what to publish
    reason: str = ""  # FailureReason of a failed certificate
    created: float = 0.0


def find_certificate(ctx: Context, region: str) -> Certificate | None:
    """The stack's usable certificate in `region` (ISSUED before PENDING, then oldest)."""
    return ctx.memo(f"acm:certificate:{region}", lambda: _best(certificates(ctx, region)))


def certificate_arn(ctx: Context, region: str) -> str | None:
    """The stack's ISSUED certificate in `region`: what a custom domain may use."""
    arn = ctx.outputs.get(f"certificate_arn:{region}")
    if arn:
        return str(arn)
    found = find_certificate(ctx, region)
    return found.arn if found is not None and found.status == ISSUED else None


def certificates(
    ctx: Context, region: str, statuses: tuple[str, ...] = LIVE, *, owned_only: bool = True
) -> list[Certificate]:
    """Certificates for `domain.name` in `region` with these statuses, described."""
    domain = ctx.config.domain
    assert domain is not None
    acm = ctx.client("acm", region)
    found: list[Certificate] = []
    for page in acm.get_paginator("list_certificates").paginate(CertificateStatuses=list(statuses)):
        for summary in page.get("CertificateSummaryList", []):
            if normalise(summary.get("DomainName", "")) != normalise(domain.name):
                continue
            arn = summary["CertificateArn"]
            # Tags and description read together: one round trip, not two (a look-alike
            # costs a description it did not need).
            with ThreadPoolExecutor(max_workers=1) as pool:
                tag_items = pool.submit(_tags, acm, arn)
                details = _details(acm, arn)
                tags = {t["Key"]: t.get("Value", "") for t in tag_items.result()}
            owned = is_owned(tags, ctx.config.stack)
            if (owned or not owned_only) and details is not None:
                found.append(_certificate(arn, details, owned, tags))
    return found


def describe(acm: Any, arn: str, owned: bool, tags: dict[str, str]) -> Certificate | None:
    """One certificate's status and the validation records ACM asks for; None once deleted."""
    details = _details(acm, arn)
    return None if details is None else _certificate(arn, details, owned, tags)


def _details(acm: Any, arn: str) -> dict[str, Any] | None:
    try:
        cert: dict[str, Any] = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    except acm.exceptions.ResourceNotFoundException:
        return None
    return cert


def _certificate(arn: str, cert: dict[str, Any], owned: bool, tags: dict[str, str]) -> Certificate:
    records = tuple(
        ValidationRecord(o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"])
        for o in cert.get("DomainValidationOptions", [])
        if o.get("ResourceRecord", {}).get("Type") == "CNAME"
    )
    return Certificate(
        arn=arn,
        status=cert.get("Status", ""),
        owned=owned,
        tags=tags,
        records=records,
        reason=cert.get("FailureReason", ""),
        created=_timestamp(cert.get("CreatedAt")),
    )


def _best(found: list[Certificate]) -> Certificate | None:
    usable = [c for c in found if c.status in LIVE]
    # ISSUED first, then the oldest (a duplicate from an interrupted run loses).
    return min(usable, key=lambda c: (c.status != ISSUED, c.created)) if usable else None


def _tags(acm: Any, arn: str) -> list[dict[str, str]]:
    try:
        return list(acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", []))
    except acm.exceptions.ResourceNotFoundException:
        return []  # deleted between the listing and now


def _timestamp(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else 0.0
