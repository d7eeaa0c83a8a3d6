"""Route 53 `TestDNSAnswer` (moto answers 404): what Route 53 would answer now.

GET /2013-04-01/testdnsanswer?hostedzoneid=…&recordname=…&recordtype=…
answers from the zone's records and the current health (dns.py has the
rules), as seen from the sandbox's client region. ResolverIP and the EDNS
client subnet are accepted and not used: the client region stands for both.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response
from failover_cli.sandbox.route53.dns import Answer, ResponseCode
from failover_cli.sandbox.route53.records import answer_in_zone, find_zone, in_zone

XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/"
PATH = "/2013-04-01/testdnsanswer"
RECORD_TYPES = frozenset(
    {"SOA", "A", "TXT", "NS", "CNAME", "MX", "NAPTR", "PTR", "SRV", "SPF", "AAAA", "CAA"}
    | {"DS", "TLSA", "SSHFP", "SVCB", "HTTPS"}
)


def install(context: SandboxContext) -> None:
    context.layer.add(TestDnsAnswer(context))


class TestDnsAnswer(Interceptor):
    __test__ = False  # not a pytest class, whatever its name says

    def __init__(self, context: SandboxContext):
        self.context = context

    def wants(self, request: AwsRequest) -> bool:
        return (
            request.service == "route53"
            and request.method == "GET"
            and request.path.rstrip("/") == PATH
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        params = {k: v[0] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
        zone_id = params.get("hostedzoneid", "")
        name = params.get("recordname", "")
        record_type = params.get("recordtype", "").upper()
        missing = [
            key for key, value in (("HostedZoneId", zone_id), ("RecordName", name)) if not value
        ]
        if missing:
            return error("InvalidInput", f"{missing[0]} is required", 400)
        if record_type not in RECORD_TYPES:
            return error("InvalidInput", f"Invalid RecordType: {record_type or '(none)'}", 400)
        zone = find_zone(request.account_id, zone_id)
        if zone is None:
            return error("NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}", 404)
        nameserver = _nameserver(zone)
        if not in_zone(zone, name):  # not authoritative for the name
            refused = Answer(ResponseCode.REFUSED, name, record_type)
            return answer_xml(refused, name, nameserver)
        found = answer_in_zone(self.context, zone, name, record_type, request.account_id)
        return answer_xml(found, name, nameserver)


def answer_xml(answer: Answer, name: str, nameserver: str) -> Response:
    """A TestDNSAnswerResponse document, in the shape of botocore's route53 model."""
    data = "".join(f"<RecordDataEntry>{escape(value)}</RecordDataEntry>" for value in answer.data)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<TestDNSAnswerResponse xmlns="{XMLNS}">'
        f"<Nameserver>{escape(nameserver)}</Nameserver>"
        f"<RecordName>{escape(name)}</RecordName>"
        f"<RecordType>{escape(answer.type)}</RecordType>"
        f"<RecordData>{data}</RecordData>"
        f"<ResponseCode>{answer.code.value}</ResponseCode>"
        "<Protocol>UDP</Protocol>"
        "</TestDNSAnswerResponse>"
    ).encode()
    return _xml(200, body)


def error(code: str, message: str, status: int) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()
    return _xml(status, body)


def _xml(status: int, body: bytes) -> Response:
    headers = (
        ("Content-Type", "text/xml"),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    )
    return Response(status=status, headers=headers, body=body)


def _nameserver(zone: object) -> str:
    """The zone's first name server, as Route 53 names the one that answered."""
    delegation = getattr(zone, "delegation_set", None)
    servers = list(getattr(delegation, "name_servers", None) or [])
    return str(servers[0]) if servers else "ns-0.awsdns-00.com"
