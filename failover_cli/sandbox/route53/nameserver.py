"""Route 53's authoritative name servers, on a loopback port (UDP and TCP, same number).

On AWS, the name servers of a hosted zone (ns-….awsdns-….com and friends) and
the health checkers are Route 53's global data plane: they keep answering, with
the current health, when Route 53's API in us-east-1 does not. Here one server
answers for every public hosted zone of every account, straight from moto's
zones and the checkers' health (records.py, dns.py, dns_wire.py): no AWS API is
involved, so the outage switch never touches it, as on AWS. It also answers for
API Gateway's own hosts (`<id>.execute-api.<region>.amazonaws.com`, the targets
of the stack's aliases) with the address an alias to them answers with, so a
client can tell which region an answer leads to.

Where it listens: `context.nameserver` (requested port from `failover sandbox
--dns-port`, 0 for any free one; the bound port once installed), printed by
`failover sandbox` as `FAILOVER_NAMESERVERS=127.0.0.1:PORT` (ask this address
instead of a zone's own name servers) and served at `GET /_sandbox/dns` as
`{"host": "127.0.0.1", "port": PORT, "protocols": ["udp", "tcp"]}`.
Latency routing answers as seen from the sandbox's client region.
"""

from __future__ import annotations

import errno
import json
import logging
import re
import socket
import socketserver
import struct
import threading
from typing import Any

from failover_cli.errors import BadInput
from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response
from failover_cli.sandbox.route53.dns import (
    Answer,
    Record,
    ResponseCode,
    fake_ipv4,
    fake_ipv6,
    normalise,
)
from failover_cli.sandbox.route53.dns_wire import Lookup, ZoneAnswer, respond
from failover_cli.sandbox.route53.records import answer_in_zone, zone_records, zones_for
from failover_cli.sandbox.stop_hooks import on_stop

log = logging.getLogger(__name__)

PATH = "/_sandbox/dns"
OWN_HOSTS = frozenset({"127.0.0.1", "localhost"})
TCP_IDLE_SECONDS = 10.0  # a TCP client that sends nothing for this long is let go
_BIND_ATTEMPTS = 20  # a free TCP port may be taken for UDP: try another
API_TTL = 60
_EXECUTE_API = re.compile(
    r"[a-z0-9-]+\.execute-api\.(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d+)\.amazonaws\.com\."
)


def install(context: SandboxContext) -> None:
    where = context.nameserver
    server = Nameserver(lookup_in_moto(context), where.host, where.port)
    try:
        where.port = server.start()
    except OSError as error:
        raise BadInput(
            f"Cannot serve DNS on {where.host}:{where.port}: {error.strerror or error}",
            hint="Choose another port with --dns-port (0 picks a free one).",
        ) from None
    context.layer.add(NameserverInfo(context))
    on_stop(context, server.stop)


class NameserverInfo(Interceptor):
    """`GET /_sandbox/dns`: where the authoritative name server listens."""

    def __init__(self, context: SandboxContext):
        self.context = context

    def wants(self, request: AwsRequest) -> bool:
        return (
            request.hostname in OWN_HOSTS
            and request.path.rstrip("/") == PATH
            and request.method == "GET"
            and not request.signed
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        where = self.context.nameserver
        body = json.dumps({"host": where.host, "port": where.port, "protocols": ["udp", "tcp"]})
        data = body.encode()
        headers = (("Content-Type", "application/json"), ("Content-Length", str(len(data))))
        return Response(200, headers, data)


def lookup_in_moto(context: SandboxContext) -> Lookup:
    """Answers from the most specific public hosted zone holding the name, in any account."""

    def lookup(name: str, record_type: str) -> ZoneAnswer | None:
        found = _authoritative_zone(name)
        if found is None:
            return api_gateway_host(name, record_type)
        account, zone = found
        apex = normalise(zone.name)
        soa = next((r for r in zone_records(zone) if r.type == "SOA" and r.name == apex), None)
        answer = answer_in_zone(context, zone, name, record_type, account)
        return ZoneAnswer(answer, apex, soa)

    return lookup


def api_gateway_host(name: str, record_type: str) -> ZoneAnswer | None:
    """AWS's own answer for an execute-api host (a REST API's, or a regional custom domain's
    d-….execute-api.R.amazonaws.com): the address an alias to it answers with (dns.alias_data),
    so a client can tell which region an alias answer leads to by resolving the targets."""
    host = normalise(name)
    match = _EXECUTE_API.fullmatch(host)
    if match is None:
        return None
    region = match["region"]
    values: tuple[str, ...] = ()
    if record_type == "A":
        values = (fake_ipv4(region, host.rstrip(".")),)
    elif record_type == "AAAA":
        values = (fake_ipv6(region, host.rstrip(".")),)
    record = Record(host, record_type, values, ttl=API_TTL)
    answer = Answer(ResponseCode.NOERROR, host, record_type, values, (record,) if values else ())
    return ZoneAnswer(answer, f"execute-api.{region}.amazonaws.com.", None)


def _authoritative_zone(name: str) -> tuple[str, Any] | None:
    from moto.route53.models import route53_backends

    best: tuple[str, Any] | None = None
    for account in list(route53_backends.keys()):
        zones = zones_for(account, name)  # most specific first
        if zones and (best is None or len(normalise(zones[0].name)) > len(normalise(best[1].name))):
            best = (account, zones[0])
    return best


class Nameserver:
    """A UDP and a TCP server on one port, each on its own thread; `respond` answers."""

    def __init__(self, lookup: Lookup, host: str = "127.0.0.1", port: int = 0):
        self.lookup = lookup
        self.host = host
        self.requested_port = port
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> int:
        """Bind both servers and serve; returns the port."""
        udp, tcp = self._bind()
        self._servers = [udp, tcp]
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
            )
            thread.name = f"sandbox-dns-{type(server).__name__}"
            thread.start()
            self._threads.append(thread)
        port = int(tcp.server_address[1])
        log.info("authoritative DNS on %s:%d (udp, tcp)", self.host, port)
        return port

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def _bind(self) -> tuple[socketserver.UDPServer, socketserver.TCPServer]:
        owner = self
        tcp_handler = type("TcpHandler", (_TcpHandler,), {"nameserver": owner})
        udp_handler = type("UdpHandler", (_UdpHandler,), {"nameserver": owner})
        for _ in range(_BIND_ATTEMPTS if self.requested_port == 0 else 1):
            tcp = _TcpServer((self.host, self.requested_port), tcp_handler)
            try:
                udp = _UdpServer((self.host, int(tcp.server_address[1])), udp_handler)
            except OSError as error:
                tcp.server_close()
                if error.errno != errno.EADDRINUSE or self.requested_port:
                    raise
                continue
            return udp, tcp
        raise OSError(errno.EADDRINUSE, "no port free for both UDP and TCP")


class _UdpServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    allow_reuse_address = True


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _UdpHandler(socketserver.BaseRequestHandler):
    nameserver: Nameserver

    def handle(self) -> None:
        data, sock = self.request
        answer = _safely(self.nameserver.lookup, data, tcp=False)
        if answer is not None:
            sock.sendto(answer, self.client_address)


class _TcpHandler(socketserver.BaseRequestHandler):
    """RFC 7766: two-byte length, message; several queries may share a connection."""

    nameserver: Nameserver

    def handle(self) -> None:
        connection: socket.socket = self.request
        connection.settimeout(TCP_IDLE_SECONDS)
        try:
            while True:
                size = _read(connection, 2)
                if size is None:
                    return
                message = _read(connection, struct.unpack("!H", size)[0])
                if message is None:
                    return
                answer = _safely(self.nameserver.lookup, message, tcp=True)
                if answer is None:
                    return
                connection.sendall(struct.pack("!H", len(answer)) + answer)
        except OSError:
            return  # the client went away or idled out


def _read(connection: socket.socket, count: int) -> bytes | None:
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _safely(lookup: Lookup, message: bytes, *, tcp: bool) -> bytes | None:
    try:
        return respond(message, lookup, tcp=tcp)
    except Exception:  # one bad query must not end the server
        log.exception("DNS query could not be answered")
        return None
