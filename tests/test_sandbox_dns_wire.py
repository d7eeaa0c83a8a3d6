"""DNS messages as Route 53's authoritative name servers answer them (route53/dns_wire.py).

Plain data in, wire bytes out: the zone's records and health come from a test
lookup built on dns.py's rules, so no sandbox runs here.
"""

from __future__ import annotations

import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype

from failover_cli.sandbox.route53.dns import AliasTarget, Record, answer, normalise
from failover_cli.sandbox.route53.dns_wire import Lookup, ZoneAnswer, respond

ZONE = "example.com."
SOA = Record(
    ZONE,
    "SOA",
    ("ns-2048.awsdns-64.com. hostmaster.example.com. 1 7200 900 1209600 86400",),
    ttl=900,
)
RECORDS = [
    SOA,
    Record(ZONE, "NS", ("ns-2048.awsdns-64.com", "ns-2049.awsdns-65.net"), ttl=172800),
    Record("www.example.com.", "A", ("203.0.113.5",), ttl=30),
    Record("txt.example.com.", "TXT", ('"v=spf1 -all"',), ttl=300),
    Record("alias.example.com.", "CNAME", ("www.example.com",), ttl=300),
    Record("big.example.com.", "A", tuple(f"198.51.100.{i}" for i in range(1, 60)), ttl=60),
    *(
        Record(
            "hello.example.com.",
            "A",
            set_identifier=f"hello-{region}",
            health_check_id=f"check-{region}",
            failover=role,
            alias=AliasTarget(f"d-{region}.execute-api.{region}.amazonaws.com."),
        )
        for region, role in (("us-east-1", "PRIMARY"), ("us-west-2", "SECONDARY"))
    ),
]


def lookup_with(unhealthy: set[str]) -> Lookup:
    def lookup(name: str, record_type: str) -> ZoneAnswer | None:
        wanted = normalise(name)
        if not (wanted == ZONE or wanted.endswith("." + ZONE)):
            return None
        found = answer(RECORDS, name, record_type, lambda check: check not in unhealthy)
        return ZoneAnswer(found, ZONE, SOA)

    return lookup


def ask(
    name: str, record_type: str = "A", unhealthy: frozenset[str] = frozenset(), **kwargs: bool
) -> dns.message.Message:
    query = dns.message.make_query(name, record_type)
    wire = respond(query.to_wire(), lookup_with(set(unhealthy)), **kwargs)
    assert wire is not None
    return dns.message.from_wire(wire)


def texts(response: dns.message.Message) -> list[str]:
    return [rdata.to_text() for rrset in response.answer for rdata in rrset]


def test_a_plain_record_is_answered_authoritatively_with_its_ttl() -> None:
    response = ask("www.example.com")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA and not response.flags & dns.flags.RA
    assert texts(response) == ["203.0.113.5"] and response.answer[0].ttl == 30


def test_a_failover_alias_answers_the_healthy_regions_address() -> None:
    east, west = ask("hello.example.com"), ask("hello.example.com", unhealthy={"check-us-east-1"})
    assert texts(east) == ["192.0.2.1"]  # dns.fake_ipv4: one stable address per region
    assert texts(west) != texts(east) and texts(west)[0].startswith("192.0.2.")
    assert east.answer[0].ttl == 60  # an alias has no TTL of its own


def test_ns_and_soa_of_the_zone_are_absolute_names() -> None:
    assert sorted(texts(ask("example.com", "NS"))) == [
        "ns-2048.awsdns-64.com.",
        "ns-2049.awsdns-65.net.",
    ]
    assert texts(ask("example.com", "SOA"))[0].startswith("ns-2048.awsdns-64.com. hostmaster")


def test_missing_names_and_types_carry_the_soa() -> None:
    missing = ask("nope.example.com")
    assert missing.rcode() == dns.rcode.NXDOMAIN and not missing.answer
    assert missing.authority[0].rdtype == dns.rdatatype.SOA
    nodata = ask("www.example.com", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert nodata.authority[0].rdtype == dns.rdatatype.SOA


def test_a_cname_answers_any_type_and_txt_keeps_its_quotes() -> None:
    cname = ask("alias.example.com")
    assert cname.answer[0].rdtype == dns.rdatatype.CNAME
    assert texts(cname) == ["www.example.com."]
    assert texts(ask("txt.example.com", "TXT")) == ['"v=spf1 -all"']


def test_a_name_of_no_hosted_zone_is_refused() -> None:
    response = ask("example.org")
    assert response.rcode() == dns.rcode.REFUSED
    assert not response.flags & dns.flags.AA and not response.answer


def test_an_answer_too_big_for_udp_is_truncated_and_whole_over_tcp() -> None:
    over_udp = ask("big.example.com")
    assert over_udp.flags & dns.flags.TC and not over_udp.answer
    assert len(texts(ask("big.example.com", tcp=True))) == 59


def test_edns_lets_a_larger_answer_through_udp() -> None:
    query = dns.message.make_query("big.example.com", "A", use_edns=0, payload=4096)
    wire = respond(query.to_wire(), lookup_with(set()))
    assert wire is not None
    response = dns.message.from_wire(wire)
    assert not response.flags & dns.flags.TC and len(texts(response)) == 59


def test_garbage_gets_formerr_or_nothing_and_other_opcodes_notimp() -> None:
    header = bytes.fromhex("1234 0100 0001 0000 0000 0000") + b"\xff\xff"
    answer_wire = respond(header, lookup_with(set()))
    assert answer_wire is not None and answer_wire[:2] == b"\x12\x34"
    assert answer_wire[3] & 0x0F == dns.rcode.FORMERR
    assert respond(b"\x00\x01", lookup_with(set())) is None
    notify = dns.message.make_query("example.com", "SOA")
    notify.set_opcode(dns.opcode.NOTIFY)
    wire = respond(notify.to_wire(), lookup_with(set()))
    assert wire is not None and dns.message.from_wire(wire).rcode() == dns.rcode.NOTIMP
