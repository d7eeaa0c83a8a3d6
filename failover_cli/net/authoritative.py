"""Asking a hosted zone's own name servers what they answer now, with FAILOVER_NAMESERVERS.

Route 53's name servers (ns-….awsdns-….com and friends) are its global data
plane: they answer with the current health while Route 53's API, in
us-east-1 only, may not (so TestDNSAnswer may not). A zone's name servers are
found in public DNS (its NS records, through this machine's resolvers) and
asked directly, over UDP and over TCP when the answer is truncated.

FAILOVER_NAMESERVERS is a comma-separated list of `HOST[:PORT]` (default port
53) asked instead of every zone's own name servers, like FAILOVER_RESOLVE for
HTTP: useful with split-horizon DNS or a test server, and what `failover
sandbox` prints for its own. Nothing here knows the sandbox.

    dns = AuthoritativeDns()                  # reads FAILOVER_NAMESERVERS once
    found = dns.ask("example.com", "hello.example.com", "A")
    found.ok, found.values, found.server      # ("192.0.2.1",), "127.0.0.1:53535"
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from failover_cli.errors import BadInput

NAMESERVERS_VARIABLE = "FAILOVER_NAMESERVERS"
DNS_PORT = 53
ASK_TIMEOUT = 2.0  # seconds per server and attempt


@dataclass(frozen=True)
class Server:
    host: str  # an address
    port: int = DNS_PORT
    name: str | None = None  # the NS name it was found under, if any

    def __str__(self) -> str:
        where = f"{self.host}:{self.port}" if self.port != DNS_PORT else self.host
        return f"{self.name} ({where})" if self.name else where


@dataclass(frozen=True)
class AuthoritativeAnswer:
    name: str
    record_type: str
    rcode: str = ""  # NOERROR, NXDOMAIN ...; empty when no server answered
    values: tuple[str, ...] = ()  # the answer section's data, as text
    ttl: int | None = None
    server: str = ""  # who answered
    error: str = ""  # why no server gave an authoritative answer

    @property
    def ok(self) -> bool:
        return not self.error


def parse_nameservers(text: str | None) -> list[Server]:
    """FAILOVER_NAMESERVERS's servers; BadInput (exit 2) for an entry that is not HOST[:PORT]."""
    servers = []
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        if item.startswith("["):  # [IPv6]:PORT
            host, _, rest = item[1:].partition("]")
            sep, port_text = (":", rest[1:]) if rest.startswith(":") else ("", rest)
        elif item.count(":") == 1:
            host, sep, port_text = item.partition(":")
        else:  # a bare IPv6 address, or a name
            host, sep, port_text = item, "", ""
        bad_port = sep and not (port_text.isdigit() and 0 < int(port_text) < 65536)
        if not host or bad_port or (port_text and not sep):
            raise BadInput(
                f"{NAMESERVERS_VARIABLE} has an entry that is not HOST[:PORT]: {item!r}",
                hint="Example: 127.0.0.1:53535 (a comma-separated list is asked in order).",
            )
        servers.append(Server(host, int(port_text) if sep else DNS_PORT))
    return servers


def public_ns(zone: str, timeout: float) -> list[str]:
    """The NS names of `zone` as public DNS answers them (this machine's resolvers)."""
    import dns.resolver

    answer = dns.resolver.Resolver().resolve(zone, "NS", lifetime=timeout)
    return [str(record.target).rstrip(".") for record in answer]


class AuthoritativeDns:
    """Asks a zone's name servers (or FAILOVER_NAMESERVERS's) in turn; never raises for DNS."""

    def __init__(
        self,
        servers: list[Server] | None = None,
        *,
        timeout: float = ASK_TIMEOUT,
        find_ns: Callable[[str, float], list[str]] = public_ns,
        ns_port: int = DNS_PORT,
    ) -> None:
        self.overrides = (
            servers
            if servers is not None
            else parse_nameservers(os.environ.get(NAMESERVERS_VARIABLE))
        )
        self.timeout = timeout
        self._find_ns = find_ns
        self._ns_port = ns_port

    def servers_for(self, zone: str) -> list[Server]:
        """Who to ask about `zone`: the overrides, else its NS from public DNS (raises OSError
        or a dnspython error when they cannot be found)."""
        if self.overrides:
            return list(self.overrides)
        servers = []
        for name in self._find_ns(zone, self.timeout):
            for family, _, _, _, address in socket.getaddrinfo(name, self._ns_port, socket.AF_INET):
                if family == socket.AF_INET:
                    servers.append(Server(str(address[0]), self._ns_port, name))
                    break
        return servers

    def ask(self, zone: str, name: str, record_type: str = "A") -> AuthoritativeAnswer:
        """The first authoritative answer from `zone`'s name servers, else an error sentence."""
        try:
            servers = self.servers_for(zone)
        except Exception as error:  # dnspython's and the OS's resolver errors alike
            return AuthoritativeAnswer(
                name, record_type, error=f"the name servers of {zone} were not found ({error})"
            )
        said: list[str] = []
        for server in servers:
            found, problem = self._ask_one(server, name, record_type)
            if found is not None:
                return found
            said.append(f"{server}: {problem}")
        told = "; ".join(said) or "no name server is listed"
        return AuthoritativeAnswer(
            name, record_type, error=f"no name server of {zone} answered for {name} ({told})"
        )

    def _ask_one(
        self, server: Server, name: str, record_type: str
    ) -> tuple[AuthoritativeAnswer | None, str]:
        import dns.exception
        import dns.flags
        import dns.message
        import dns.query
        import dns.rcode

        query = dns.message.make_query(name, record_type)
        try:
            response = dns.query.udp(query, server.host, port=server.port, timeout=self.timeout)
            if response.flags & dns.flags.TC:  # too big for UDP: the same question over TCP
                response = dns.query.tcp(query, server.host, port=server.port, timeout=self.timeout)
        except (dns.exception.DNSException, OSError) as error:
            return None, str(error) or type(error).__name__
        rcode = dns.rcode.to_text(response.rcode())
        if not response.flags & dns.flags.AA or rcode == "REFUSED":
            return None, f"not authoritative ({rcode})"
        values = tuple(rdata.to_text() for rrset in response.answer for rdata in rrset)
        ttl = min((rrset.ttl for rrset in response.answer), default=None)
        return AuthoritativeAnswer(name, record_type, rcode, values, ttl, str(server)), ""
