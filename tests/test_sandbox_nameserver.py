"""Route 53's authoritative name servers in the sandbox: DNS over UDP and TCP on a loopback port.

Where they listen is found as a client would: `GET /_sandbox/dns` on the
session sandbox, or the `FAILOVER_NAMESERVERS` line `failover sandbox` prints.
Answers follow the records and the current health, as TestDNSAnswer's do
(calculated checks flipped with Inverted switch them at once).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Callable

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from failover_cli.sandbox.route53.dns import fake_ipv4
from tests.conftest import REPO_ROOT, SandboxProcess, free_loopback_port
from tests.test_sandbox_calculated_checks import endpoint_check, route53
from tests.test_sandbox_dns import alias_record, change, new_zone

pytestmark = pytest.mark.sandbox

EAST, WEST = "us-east-1", "us-west-2"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def nameserver(endpoint: str) -> tuple[str, int]:
    with _OPENER.open(f"{endpoint}/_sandbox/dns", timeout=10) as answer:
        found = json.load(answer)
    assert found["protocols"] == ["udp", "tcp"]
    return str(found["host"]), int(found["port"])


def query(
    where: tuple[str, int], name: str, record_type: str = "A", *, tcp: bool = False
) -> dns.message.Message:
    message = dns.message.make_query(name, record_type)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(message, where[0], port=where[1], timeout=10)


def addresses(response: dns.message.Message) -> list[str]:
    return [rdata.to_text() for rrset in response.answer for rdata in rrset]


def failover_site() -> tuple[str, str]:
    """(name, the PRIMARY's check): us-east-1 PRIMARY, us-west-2 SECONDARY."""
    zone_id, zone = new_zone()
    name = f"hello.{zone}"
    primary = endpoint_check(True)
    change(
        zone_id,
        alias_record(name, EAST, primary, {"Failover": "PRIMARY"}),
        alias_record(name, WEST, endpoint_check(True), {"Failover": "SECONDARY"}),
    )
    return name, primary


def region_answering(where: tuple[str, int], name: str, *, tcp: bool = False) -> str:
    """The region whose address DNS gives (the sandbox's stable address per region)."""
    found = addresses(query(where, name, tcp=tcp))
    assert len(found) == 1
    return next(region for region in (EAST, WEST) if fake_ipv4(region, "") == found[0])


def test_answers_follow_health_over_udp_and_tcp(sandbox_env: str) -> None:
    where = nameserver(sandbox_env)
    name, primary = failover_site()
    for tcp in (False, True):
        response = query(where, name, tcp=tcp)
        assert response.rcode() == dns.rcode.NOERROR and response.flags & dns.flags.AA
        assert region_answering(where, name, tcp=tcp) == EAST
    route53().update_health_check(HealthCheckId=primary, Inverted=True)  # PRIMARY unhealthy
    assert region_answering(where, name) == WEST
    assert region_answering(where, name, tcp=True) == WEST
    route53().update_health_check(HealthCheckId=primary, Inverted=False)
    assert region_answering(where, name) == EAST


def test_the_zone_answers_its_own_ns_and_soa_and_refuses_other_names(sandbox_env: str) -> None:
    where = nameserver(sandbox_env)
    zone_id, zone = new_zone()
    delegation = route53().get_hosted_zone(Id=zone_id)["DelegationSet"]["NameServers"]
    found = addresses(query(where, zone, "NS"))
    assert sorted(found) == sorted(f"{server.rstrip('.')}." for server in delegation)
    assert query(where, zone, "SOA").answer
    missing = query(where, f"nope.{zone}")
    assert missing.rcode() == dns.rcode.NXDOMAIN and missing.authority
    assert query(where, f"x{uuid.uuid4().hex[:8]}.invalid").rcode() == dns.rcode.REFUSED


def test_the_sandbox_prints_where_the_name_servers_listen(
    launch_sandbox: Callable[..., SandboxProcess],
) -> None:
    chosen = free_loopback_port()
    process = launch_sandbox("--dns-port", str(chosen), global_args=("--json",))
    process.wait_until_ready()
    printed = json.loads(process.stdout().splitlines()[0])
    assert printed["nameserver"] == f"127.0.0.1:{chosen}"
    assert printed["environment"]["FAILOVER_NAMESERVERS"] == f"127.0.0.1:{chosen}"
    assert nameserver(process.endpoint) == ("127.0.0.1", chosen)
    assert query(("127.0.0.1", chosen), "example.invalid").rcode() == dns.rcode.REFUSED


def test_a_taken_dns_port_is_one_clear_line_and_exit_2() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "failover_cli",
                "sandbox",
                "--port",
                "0",
                "--dns-port",
                str(port),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "--dns-port" in lines[0]
