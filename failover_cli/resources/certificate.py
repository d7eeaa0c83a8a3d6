"""ACM certificate for `domain.name` in each region, validated through DNS (SPEC §4.6).

A regional custom domain needs a certificate in its own region, hence one per
region. ACM asks every certificate of the account for that name to prove it
with the same CNAME, so each region UPSERTs the same record: idempotent. Then
we wait for ISSUED, which takes minutes on AWS and never happens when the
zone is not the one the registrar delegates to: the time-out says so.

Ownership: ours is the certificate for the name that carries the stack's tags
(given at request time). An untagged certificate for the same name belongs to
someone else: never adopted, never deleted. Records carry no tags, so the
stack owns a validation record only as the exact name and value ACM gave one
of its certificates, and `down` removes it only once no certificate in the
stack's regions (ours in another region, or anybody's) still needs it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.errors import error_code
from failover_cli.aws.retry import Backoff, retry, wait_until
from failover_cli.aws.tags import comparable_tags, tag_list
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import FailoverError
from failover_cli.services.acm_certificates import (
    EVERY_STATUS,
    ISSUED,
    LIVE,
    PENDING,
    Certificate,
    ValidationRecord,
    certificates,
    describe,
    find_certificate,
)
from failover_cli.services.route53_zone import (
    Zone,
    change,
    find_zone,
    normalise,
    record_sets,
    require_zone,
)

KIND = "certificate"
PRESENT = "in the hosted zone"
RECORD_TIMEOUT = 120.0  # ACM shows the record "a few seconds" after the request
ISSUE_TIMEOUT = 45 * 60.0  # usually minutes on AWS; DNS propagation can take longer
ISSUE_POLL = 15.0
# API Gateway releases a certificate minutes after its domain goes, sometimes more than
# ten (Terraform's aws_api_gateway_domain_name waits 20 for the same reason).
IN_USE_BUDGET = 1200.0
VALIDATION_TTL = 300
# Deletes in different regions decide about the one shared record: one at a time.
_RECORD_LOCK = threading.Lock()
_DELETED = "certificate_deleted"  # ctx.outputs: ARNs deleted in this run (ACM lists lag)


@dataclass(frozen=True)
class CertificateProps:
    status: str  # ISSUED: a pending certificate is waited for
    validation_record: str  # PRESENT: the CNAME ACM asked for is in the zone
    tags: tuple[tuple[str, str], ...]


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    if config.domain is None:
        return []
    props = CertificateProps(
        status=ISSUED,
        validation_record=PRESENT,
        tags=tuple(sorted(config.ownership_tags().items())),
    )
    return [Spec(KIND, region, config.domain.name, props) for region in config.regions]


class CertificateHandler(Handler):
    kind = KIND
    compared_fields = ("status", "validation_record", "tags")

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: CertificateProps = spec.props
        cert = find_certificate(ctx, spec.region)
        if cert is None:
            return Observed.missing()  # an untagged look-alike is not ours: we make our own
        if cert.status == ISSUED:
            ctx.outputs[f"certificate_arn:{spec.region}"] = cert.arn
        zone = find_zone(ctx)
        published = (
            bool(cert.records)
            and zone is not None
            and all(_published(ctx, zone, r) for r in cert.records)
        )
        return Observed(
            exists=True,
            props={
                "status": cert.status,
                "validation_record": PRESENT if published else "missing",
                "tags": comparable_tags(cert.tags, props.tags),
            },
            raw={"certificate": cert},
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        props: CertificateProps = spec.props
        zone = require_zone(ctx)  # a clear error before requesting anything
        arn = ctx.client("acm", spec.region).request_certificate(
            DomainName=spec.name, ValidationMethod="DNS", Tags=tag_list(dict(props.tags))
        )["CertificateArn"]
        ctx.forget(f"acm:certificate:{spec.region}")
        self._validate(ctx, spec, arn, zone)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        props: CertificateProps = spec.props
        cert: Certificate = observed.raw["certificate"]
        changed = {c.field for c in changes}
        if "tags" in changed:
            ctx.client("acm", spec.region).add_tags_to_certificate(
                CertificateArn=cert.arn, Tags=tag_list(dict(props.tags))
            )
        if changed & {"status", "validation_record"}:
            # A pending certificate (an interrupted run) or a record deleted by hand,
            # which an issued certificate needs again at renewal.
            self._validate(ctx, spec, cert.arn, require_zone(ctx))

    def _validate(self, ctx: Context, spec: Spec, arn: str, zone: Zone) -> None:
        acm = ctx.client("acm", spec.region)
        records = _wait_for_records(ctx, spec, acm, arn)
        missing = [r for r in records if not _published(ctx, zone, r, fresh=True)]
        if missing:
            _upsert(ctx, zone, missing)
        _wait_issued(ctx, spec, acm, arn, zone, records)
        ctx.outputs[f"certificate_arn:{spec.region}"] = arn
        ctx.forget(f"acm:certificate:{spec.region}")

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        acm = ctx.client("acm", spec.region)
        # Every certificate of ours for the name, failed ones from earlier runs included.
        mine = certificates(ctx, spec.region, EVERY_STATUS)
        for cert in mine:
            _delete_certificate(ctx, spec, acm, cert)
        ctx.outputs.pop(f"certificate_arn:{spec.region}", None)
        ctx.forget(f"acm:certificate:{spec.region}")
        with _RECORD_LOCK:
            deleted: set[str] = ctx.outputs.setdefault(_DELETED, set())
            deleted.update(c.arn for c in mine)
            asked: list[ValidationRecord] = []
            for record in (r for c in mine for r in c.records):
                if not any(record.same(seen) for seen in asked):
                    asked.append(record)
            for record in asked:
                _remove_if_unused(ctx, spec, record, deleted)


def _published(ctx: Context, zone: Zone, record: ValidationRecord, *, fresh: bool = False) -> bool:
    for found in record_sets(ctx, zone, record.name, "CNAME", fresh=fresh):
        values = [v.get("Value", "") for v in found.get("ResourceRecords", [])]
        if [normalise(v) for v in values] == [normalise(record.value)]:
            return True
    return False


def _record_set(record: ValidationRecord) -> dict[str, Any]:
    return {
        "Name": record.name,
        "Type": "CNAME",
        "TTL": VALIDATION_TTL,
        "ResourceRecords": [{"Value": record.value}],
    }


def _upsert(ctx: Context, zone: Zone, records: list[ValidationRecord]) -> None:
    for record in records:
        change(
            ctx,
            zone,
            [{"Action": "UPSERT", "ResourceRecordSet": _record_set(record)}],
            f"ACM validation for {ctx.config.domain.name if ctx.config.domain else ''} "
            f"(failover stack {ctx.config.stack})",
            record.name,
            "CNAME",
        )


def _wait_for_records(ctx: Context, spec: Spec, acm: Any, arn: str) -> tuple[ValidationRecord, ...]:
    def check() -> tuple[ValidationRecord, ...] | None:
        cert = describe(acm, arn, True, {})
        if cert is None:
            raise FailoverError(f"The certificate {arn} disappeared while it was being validated")
        return cert.records or None

    return wait_until(
        check,
        what=f"ACM to name the DNS validation record of the certificate for {spec.name}",
        timeout=RECORD_TIMEOUT,
        clock=ctx.clock,
        region=spec.where,
        hint="Re-run `failover up`; it picks up the pending certificate.",
    )


def _wait_issued(
    ctx: Context,
    spec: Spec,
    acm: Any,
    arn: str,
    zone: Zone,
    records: tuple[ValidationRecord, ...],
) -> None:
    said: set[int] = set()

    def check() -> bool:
        cert = describe(acm, arn, True, {})
        if cert is None:
            raise FailoverError(f"The certificate {arn} disappeared while it was being validated")
        if cert.status == ISSUED:
            return True
        if cert.status != PENDING:
            why = f" ({cert.reason})" if cert.reason else ""
            raise FailoverError(
                f"ACM will not issue the certificate for {spec.name}: it is {cert.status}{why}",
                hint="Re-run `failover up` to request a new one; `failover down` removes this one.",
            )
        return False

    def progress(elapsed: float) -> None:
        minute = int(elapsed // 60)
        if minute not in said:  # one line a minute is plenty over a 45-minute wait
            said.add(minute)
            ctx.progress(
                spec.where,
                f"waiting for ACM to validate {spec.name} through DNS ({minute}m so far, "
                f"up to {int(ISSUE_TIMEOUT // 60)}m)",
            )

    published = "; ".join(f"{r.name} CNAME {r.value}" for r in records)
    wait_until(
        check,
        what=f"ACM to issue the certificate for {spec.name}",
        timeout=ISSUE_TIMEOUT,
        interval=ISSUE_POLL,
        clock=ctx.clock,
        region=spec.where,
        on_poll=progress,
        hint=(
            f"The validation record ({published}) is in the hosted zone {zone.name}, yet ACM "
            "has not seen it. The likely cause: that zone is not authoritative for the domain. "
            f"Check that the NS records at your registrar (or in the parent zone) are the name "
            f"servers of hosted zone {zone.id} (aws route53 get-hosted-zone --id {zone.id}), "
            "then re-run `failover up`; it resumes waiting."
        ),
    )


def _delete_certificate(ctx: Context, spec: Spec, acm: Any, cert: Certificate) -> None:
    def attempt() -> None:
        acm.delete_certificate(CertificateArn=cert.arn)

    def waiting(_error: Exception, pause: float) -> None:
        ctx.progress(
            spec.where,
            f"the certificate is still in use (API Gateway lets go of it a few minutes after "
            f"its domain name is deleted); retrying in {pause:.0f}s",
        )

    try:
        retry(
            attempt,
            retryable=lambda e: error_code(e) == "ResourceInUseException",
            backoff=Backoff(first=5.0, cap=30.0, budget=IN_USE_BUDGET),
            clock=ctx.clock,
            on_retry=waiting,
        )
    except acm.exceptions.ResourceNotFoundException:
        pass  # already gone
    except acm.exceptions.ResourceInUseException:
        users = _in_use_by(acm, cert.arn)
        ours = f"::/domainnames/{spec.name}"
        if not users or all(user.endswith(ours) for user in users):
            # The user is the custom domain this run (or an earlier one) deleted: API Gateway
            # has not let go of the certificate yet. Nobody else is to blame.
            raise FailoverError(
                f"The certificate for {spec.name} is still held by API Gateway "
                f"{IN_USE_BUDGET / 60:.0f} minutes after the stack's custom domain name was "
                "deleted",
                hint="API Gateway releases it on its own; re-run `failover down` in a few "
                "minutes to delete it.",
            ) from None
        raise FailoverError(
            f"The certificate for {spec.name} is still in use by {', '.join(users)}",
            hint="Remove that use (e.g. a custom domain name this stack does not own), then "
            "re-run `failover down`.",
        ) from None


def _in_use_by(acm: Any, arn: str) -> list[str]:
    try:
        users = acm.describe_certificate(CertificateArn=arn)["Certificate"].get("InUseBy", [])
    except acm.exceptions.ResourceNotFoundException:
        return []
    return [str(user) for user in users]


def live_certificates(ctx: Context, region: str) -> list[Certificate]:
    """Every live certificate for `domain.name` in `region`, owned or not."""
    return certificates(ctx, region, LIVE, owned_only=False)


def _remove_if_unused(
    ctx: Context, spec: Spec, record: ValidationRecord, deleted: set[str]
) -> None:
    """Delete our validation record unless a live certificate still needs it."""
    zone = find_zone(ctx)
    if zone is None:
        return  # no zone, no record
    regions = ctx.config.regions
    with ThreadPoolExecutor(max_workers=len(regions)) as pool:  # one round trip, not one each
        lists = pool.map(lambda r: live_certificates(ctx, r), regions)
        live = dict(zip(regions, lists, strict=True))
    for region in regions:
        for cert in live[region]:
            if cert.arn in deleted or not any(record.same(r) for r in cert.records):
                continue
            if not cert.owned:
                ctx.progress(
                    spec.where,
                    f"kept the validation record {record.name}: certificate {cert.arn} in "
                    f"{region}, which this stack does not own, needs it too",
                )
            return  # ours in another region: its delete removes the record later
    for found in record_sets(ctx, zone, record.name, "CNAME", fresh=True):
        values = [normalise(v.get("Value", "")) for v in found.get("ResourceRecords", [])]
        # Only the exact record ACM gave us: anything else at that name is not ours.
        if "SetIdentifier" not in found and values == [normalise(record.value)]:
            change(
                ctx,
                zone,
                [{"Action": "DELETE", "ResourceRecordSet": found}],
                f"failover down: stack {ctx.config.stack} no longer needs it",
                record.name,
                "CNAME",
            )


HANDLER = CertificateHandler()
