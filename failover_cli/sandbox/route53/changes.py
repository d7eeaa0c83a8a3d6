"""Route 53 change batches validated as AWS validates them, where moto 5.2.5 does not.

moto keeps a journal of every change applied to a zone and refuses a CREATE
identical to one in the journal, even when that record has been deleted
since. So a record deleted and later created again with the same content
(switching routing latency -> failover -> latency, say) fails with "already
exists" although the zone has no such record. AWS only refuses a CREATE of a
record that exists now.

Before each ChangeResourceRecordSets, the zone's journal forgets the
CREATE/UPSERT entries of records that are no longer in the zone as they were
written (deleted, or replaced by a differently routed record of the same set).
moto also uses the journal to check that a DELETE names a record it created;
the entries of records as they are now stay, so that check is unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response

_RRSET = re.compile(r"^/[\d_-]+/hostedzone/(?P<zone>[^/]+)/rrset/?$")


def install(context: SandboxContext) -> None:
    context.layer.add(ChangeJournalInterceptor())


class ChangeJournalInterceptor(Interceptor):
    def wants(self, request: AwsRequest) -> bool:
        return (
            request.service == "route53"
            and request.method == "POST"
            and _RRSET.match(request.path) is not None
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        from moto.route53.models import route53_backends
        from moto.utilities.utils import get_partition

        match = _RRSET.match(request.path)
        assert match is not None
        backend = route53_backends[request.account_id][get_partition(request.region)]
        zone = backend.zones.get(match.group("zone"))
        if zone is not None:
            forget_deleted_records(zone)
        return forward(request)  # moto answers NoSuchHostedZone itself


def forget_deleted_records(zone: Any) -> None:
    """Drop journal entries that created or upserted records not in the zone as they are now."""
    existing = {
        _identity(
            r.name,
            r.type,
            r.set_identifier,
            (r.region, r.failover, r.weight, (r.alias_target or {}).get("DNSName"), r.ttl),
        )
        for r in zone.rrsets
    }
    kept = [
        change
        for change in zone.rr_changes
        if change.get("Action") == "DELETE" or _entry(change["ResourceRecordSet"]) in existing
    ]
    # In place: the journal is moto's own list subclass with its own methods.
    zone.rr_changes[:] = kept


def _entry(record: dict[str, Any]) -> tuple[Any, ...]:
    routing = (
        record.get("Region"),
        record.get("Failover"),
        record.get("Weight"),
        (record.get("AliasTarget") or {}).get("DNSName"),
        record.get("TTL"),
    )
    return _identity(
        record.get("Name", ""), record.get("Type"), record.get("SetIdentifier"), routing
    )


def _identity(
    name: str, rtype: Any, set_identifier: Any, routing: tuple[Any, ...]
) -> tuple[Any, ...]:
    """A record as it is now: same name, type and set, routed the same way to the same place."""
    return (name.lower().rstrip("."), str(rtype), str(set_identifier or ""), routing)
