"""DNS messages as Route 53's authoritative name servers answer them, from dns.py's answers.

Pure logic on bytes (dnspython parses and writes the messages): a query comes
in, `respond` returns the response's wire form. Where the answer comes from is
passed in (`Lookup`: name, type -> the zone holding it and dns.py's Answer),
so this is testable without a sandbox. As Route 53's name servers do:

- AA is set on every answer from a hosted zone; a name in no hosted zone is
  REFUSED (they are not resolvers: no recursion, RA clear);
- NXDOMAIN and NODATA carry the zone's SOA in the authority section;
- A and AAAA answers carry addresses only (an alias to API Gateway answers
  with the sandbox's stable documentation address for the target's region,
  dns.alias_data); CNAME, NS, SOA, TXT, MX ... carry their record values;
- over UDP an answer larger than the client's limit (512 bytes, or its EDNS
  payload size) comes back empty with TC set, so the client retries over TCP.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from failover_cli.sandbox.route53.dns import Answer, Record, ResponseCode

log = logging.getLogger(__name__)

UDP_LIMIT = 512  # bytes, without EDNS (RFC 1035)
ALIAS_TTL = 60  # an alias record has no TTL of its own; Route 53 uses the target's
TCP_LIMIT = 65535


@dataclass(frozen=True)
class ZoneAnswer:
    """dns.py's answer for a query, with the zone's apex and SOA record for the authority."""

    answer: Answer
    zone: str  # the zone's name, normalised ("example.com.")
    soa: Record | None


Lookup = Callable[[str, str], "ZoneAnswer | None"]  # (name, type) -> answer, None: no zone


def respond(wire: bytes, lookup: Lookup, *, tcp: bool = False) -> bytes | None:
    """The response to one query message; None when it cannot even be parsed (dropped)."""
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        return _format_error(wire)
    response = dns.message.make_response(query, recursion_available=False)
    response.flags &= ~dns.flags.RA
    if query.opcode() != dns.opcode.QUERY:
        response.set_rcode(dns.rcode.NOTIMP)
    elif len(query.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
    else:
        _answer(response, query.question[0], lookup)
    limit = TCP_LIMIT if tcp else max(UDP_LIMIT, query.payload if query.edns >= 0 else 0)
    try:
        return bytes(response.to_wire(max_size=limit))
    except dns.exception.TooBig:
        truncated = dns.message.make_response(query, recursion_available=False)
        truncated.flags |= dns.flags.TC | (response.flags & dns.flags.AA)
        return bytes(truncated.to_wire(max_size=limit))


def _answer(response: dns.message.Message, question: dns.rrset.RRset, lookup: Lookup) -> None:
    name = question.name.to_text()
    record_type = dns.rdatatype.to_text(question.rdtype)
    if question.rdclass != dns.rdataclass.IN:
        response.set_rcode(dns.rcode.REFUSED)
        return
    found = lookup(name, record_type)
    if found is None or found.answer.code is ResponseCode.REFUSED:
        response.set_rcode(dns.rcode.REFUSED)  # not a name of any hosted zone here
        return
    response.flags |= dns.flags.AA
    answer = found.answer
    rrsets = _rrsets(answer) if answer.code is ResponseCode.NOERROR else []
    response.answer.extend(rrsets)
    if answer.code is ResponseCode.NXDOMAIN:
        response.set_rcode(dns.rcode.NXDOMAIN)
    if not rrsets and found.soa is not None:  # NXDOMAIN or NODATA: the SOA says for how long
        response.authority.extend(_rrsets_of(found.soa, "SOA", found.soa.values, found.zone))


def _rrsets(answer: Answer) -> list[dns.rrset.RRset]:
    """The answer section: the chosen record sets' data in the asked type (or a CNAME)."""
    record = answer.record
    if record is None:
        return []
    record_type = record.type if record.type == "CNAME" else answer.type
    if record_type in ("A", "AAAA"):
        version = 4 if record_type == "A" else 6
        values = tuple(v for v in answer.data if _ip_version(v) == version)
    else:
        values = answer.data
    return _rrsets_of(record, record_type, values, answer.name)


def _rrsets_of(
    record: Record, record_type: str, values: tuple[str, ...], owner: str
) -> list[dns.rrset.RRset]:
    rdtype = dns.rdatatype.from_text(record_type)
    rdatas = []
    for value in values:
        try:
            # Route 53 stores names without the final dot: they are absolute all the same.
            rdatas.append(
                dns.rdata.from_text(
                    dns.rdataclass.IN, rdtype, value, origin=dns.name.root, relativize=False
                )
            )
        except (dns.exception.DNSException, ValueError):
            log.debug("record value %r is not %s data; left out of the answer", value, record_type)
    if not rdatas:
        return []
    ttl = record.ttl if record.ttl is not None else ALIAS_TTL
    return [dns.rrset.from_rdata_list(dns.name.from_text(owner), ttl, rdatas)]


def _ip_version(value: str) -> int | None:
    try:
        return ipaddress.ip_address(value).version
    except ValueError:
        return None


def _format_error(wire: bytes) -> bytes | None:
    """FORMERR for a message whose header at least is readable, else nothing (as a server
    drops garbage)."""
    if len(wire) < 12:
        return None
    header = bytearray(wire[:12])
    header[2] = (header[2] | 0x80) & 0xF9  # QR set, AA and TC clear, opcode kept
    header[3] = dns.rcode.FORMERR  # RA clear, rcode FORMERR
    header[4:12] = bytes(8)  # no sections follow
    return bytes(header)
