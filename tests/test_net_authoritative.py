"""Asking a hosted zone's own name servers (failover_cli/net/authoritative.py).

The servers asked are the session sandbox's Route 53 name servers, found as a
user's shell finds them (FAILOVER_NAMESERVERS) or through an injected NS
lookup standing in for public DNS.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from failover_cli.errors import BadInput
from failover_cli.net.authoritative import (
    NAMESERVERS_VARIABLE,
    AuthoritativeDns,
    Server,
    parse_nameservers,
)
from tests.test_sandbox_calculated_checks import endpoint_check, route53
from tests.test_sandbox_dns import alias_record, change, new_zone, target
from tests.test_sandbox_nameserver import nameserver

EAST, WEST = "us-east-1", "us-west-2"


@pytest.mark.parametrize(
    ("text", "servers"),
    [
        ("127.0.0.1:53535", [Server("127.0.0.1", 53535)]),
        (" 10.0.0.2 , ns.example.net:5353", [Server("10.0.0.2"), Server("ns.example.net", 5353)]),
        ("[::1]:5353,::1", [Server("::1", 5353), Server("::1")]),
        ("", []),
    ],
)
def test_nameservers_parse(text: str, servers: list[Server]) -> None:
    assert parse_nameservers(text) == servers


@pytest.mark.parametrize("text", ["127.0.0.1:", "127.0.0.1:0", "a:b", ":53", "[::1]x"])
def test_a_bad_entry_is_bad_input_naming_the_variable(text: str) -> None:
    with pytest.raises(BadInput, match=NAMESERVERS_VARIABLE):
        parse_nameservers(text)


@pytest.fixture
def sandbox_dns(sandbox_env: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    host, port = nameserver(sandbox_env)
    monkeypatch.setenv(NAMESERVERS_VARIABLE, f"{host}:{port}")
    return host, port


def test_the_answer_leads_to_the_healthy_regions_target(sandbox_dns: tuple[str, int]) -> None:
    zone_id, zone = new_zone()
    name, primary = f"app.{zone}", endpoint_check(True)
    targets = {EAST: target(EAST), WEST: target(WEST)}
    change(
        zone_id,
        alias_record(name, EAST, primary, {"Failover": "PRIMARY"}, dns_name=targets[EAST]),
        alias_record(name, WEST, endpoint_check(True), {"Failover": "SECONDARY"}, targets[WEST]),
    )
    dns = AuthoritativeDns()

    def leads_to() -> str:
        found = dns.ask(zone, name)
        assert found.ok and found.rcode == "NOERROR", found.error
        assert found.server == f"{sandbox_dns[0]}:{sandbox_dns[1]}"
        regions = [r for r, t in targets.items() if dns.ask(zone, t).values == found.values]
        assert len(regions) == 1
        return regions[0]

    assert leads_to() == EAST
    route53().update_health_check(HealthCheckId=primary, Inverted=True)
    assert leads_to() == WEST


def test_a_truncated_answer_is_asked_again_over_tcp(sandbox_dns: tuple[str, int]) -> None:
    zone_id, zone = new_zone()
    values = [f"198.51.100.{i}" for i in range(1, 61)]
    change(
        zone_id,
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": f"big.{zone}",
                "Type": "A",
                "TTL": 30,
                "ResourceRecords": [{"Value": v} for v in values],
            },
        },
    )
    found = AuthoritativeDns().ask(zone, f"big.{zone}")
    assert sorted(found.values) == sorted(values) and found.ttl == 30


def test_a_name_no_server_is_authoritative_for_is_an_error(sandbox_dns: tuple[str, int]) -> None:
    found = AuthoritativeDns().ask("example.invalid", "www.example.invalid")
    assert not found.ok and "REFUSED" in found.error and "www.example.invalid" in found.error


@pytest.fixture
def silent_server() -> Iterator[Server]:
    """A UDP port that takes queries and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        yield Server("127.0.0.1", silent.getsockname()[1])


def test_a_server_that_does_not_answer_is_passed_over(
    sandbox_dns: tuple[str, int], silent_server: Server
) -> None:
    _, zone = new_zone()
    dns = AuthoritativeDns([silent_server, Server(*sandbox_dns)], timeout=0.5)
    found = dns.ask(zone, zone, "SOA")
    assert found.ok and found.server == f"{sandbox_dns[0]}:{sandbox_dns[1]}"
    alone = AuthoritativeDns([silent_server], timeout=0.5).ask(zone, zone, "SOA")
    assert not alone.ok and str(silent_server) in alone.error


def test_without_the_variable_the_zones_ns_from_public_dns_are_asked(
    sandbox_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(NAMESERVERS_VARIABLE, raising=False)
    _, port = nameserver(sandbox_env)
    _, zone = new_zone()
    asked: list[str] = []

    def public_ns(name: str, timeout: float) -> list[str]:
        asked.append(name)
        return ["localhost"]  # stands in for ns-….awsdns-….com

    found = AuthoritativeDns(find_ns=public_ns, ns_port=port).ask(zone, zone, "NS")
    assert asked == [zone] and found.ok and found.server.startswith("localhost (127.0.0.1:")
    assert all(".awsdns-" in value for value in found.values)

    def no_ns(name: str, timeout: float) -> list[str]:
        raise OSError("no such zone")

    missing = AuthoritativeDns(find_ns=no_ns).ask(zone, zone)
    assert not missing.ok and "name servers of" in missing.error and "no such zone" in missing.error
