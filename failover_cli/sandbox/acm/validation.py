"""ACM DNS validation: a certificate is ISSUED once its validation CNAME is in a hosted zone.

moto issues every certificate on a timer (MOTO_ACM_VALIDATION_WAIT), whatever
DNS says; the server sets that timer beyond any sandbox's lifetime and this
feature decides instead, as ACM does: a PENDING_VALIDATION certificate becomes
ISSUED when, for each of its names, the CNAME ACM asked for (same name, same
value) is in a public hosted zone of the account that contains that name.
Without it the certificate stays pending.

The check runs in front of every ACM request of that account and region, so
whatever a client reads next (DescribeCertificate, ListCertificates with a
status filter, ...) already reflects the zone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response

PENDING = "PENDING_VALIDATION"
ISSUED = "ISSUED"
_ESCAPE = re.compile(r"\\(\d{3})")
_LOCK = threading.Lock()


def install(context: SandboxContext) -> None:
    context.layer.add(AcmValidationInterceptor())


class AcmValidationInterceptor(Interceptor):
    """Before any ACM request: issue the region's pending certificates that DNS now proves."""

    def wants(self, request: AwsRequest) -> bool:
        return request.service == "acm"

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        issue_validated(request.account_id, request.region)
        return forward(request)


def issue_validated(account_id: str, region: str) -> list[str]:
    """Issue the pending certificates of (account, region) whose CNAMEs are published.

    Returns the ARNs it issued. Other features that read certificate states from
    moto directly call this first, so they see what ACM would.
    """
    with _LOCK:  # requests run on many threads; moto's state is plain dicts
        return _issue_validated(account_id, region)


def _issue_validated(account_id: str, region: str) -> list[str]:
    from moto.acm.models import acm_backends

    backend = acm_backends[account_id][region]
    pending = [
        cert
        for cert in list(backend.list_certificates(statuses=[PENDING], includes={}))
        if cert.type == "AMAZON_ISSUED"
    ]
    if not pending:
        return []
    published = published_cnames(account_id, region)
    issued = []
    for cert in pending:
        wanted = validation_records(cert.describe()["Certificate"])
        if wanted and wanted <= published:
            cert.status = ISSUED
            issued.append(str(cert.arn))
    return issued


def validation_records(description: dict[str, Any]) -> set[tuple[str, str]]:
    """The (name, value) CNAMEs a DescribeCertificate answer asks for, normalised."""
    records = set()
    for option in description.get("DomainValidationOptions", []):
        record = option.get("ResourceRecord") or {}
        if record.get("Type") == "CNAME":
            records.add((normalise(record["Name"]), normalise(record["Value"])))
    return records


def published_cnames(account_id: str, region: str) -> set[tuple[str, str]]:
    """Every (name, value) CNAME in the account's public hosted zones, inside its zone."""
    from moto.route53.models import route53_backends
    from moto.utilities.utils import get_partition

    backend = route53_backends[account_id][get_partition(region)]
    found: set[tuple[str, str]] = set()
    for zone in list(backend.zones.values()):
        if zone.private_zone:
            continue  # ACM resolves public DNS only
        zone_name = normalise(zone.name)
        for record in list(zone.rrsets):
            name = normalise(record.name)
            if record.type != "CNAME" or not _within(name, zone_name):
                continue
            found.update((name, normalise(v)) for v in _values(record.records))
    return found


def normalise(name: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name).lower().removesuffix(".")


def _within(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def _values(records: Iterable[Any]) -> Iterable[str]:
    # moto keeps plain strings after a change batch, but dicts when created other ways.
    for value in records or []:
        yield str(value.get("Value", "")) if isinstance(value, dict) else str(value)
