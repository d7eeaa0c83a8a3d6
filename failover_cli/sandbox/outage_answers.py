"""The gate in front of every interceptor: what a request to a region in outage gets.

Which region a request is for: the SigV4 credential scope of an AWS API
request, us-east-1 for the global services (Route 53, IAM) whatever region
their client names (STS's global endpoint signs for us-east-1 itself), or the
host of an execute-api request. Route 53's name servers answer off the layer
(route53/nameserver.py) and so are never gated, as on AWS. Who sends it:

- the sandbox itself (loopback clients, the watch page: `INTERNAL_AGENT` in
  the User-Agent) is never gated: API Gateway invoking a function or an
  alarm publishing to SNS is AWS's own data plane, not a client of the
  failed endpoint;
- a function (botocore puts `exec-env/AWS_Lambda_...` in its User-Agent)
  reaches the region's DynamoDB and other APIs from inside AWS: it is cut off
  only in a `dataplane` outage;
- anyone else: the region's control-plane mode (hang, refuse, 5xx) applies
  to every signed request, and `dataplane` to its execute-api hosts. Custom
  domains are gated where their region is known (apigateway/custom_domains),
  health checker probes in route53/checkers.

503 answers follow each protocol's error shape, as botocore parses them:
https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html#operation-error-serialization
https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#operation-error-serialization
https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html#operation-error-serialization
"""

from __future__ import annotations

import json
import uuid
from xml.sax.saxutils import escape

from failover_cli.sandbox import cbor
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.outage_regions import INTERNAL_AGENT, Mode, Outages, Unanswered
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_error

FUNCTION_AGENT = "exec-env/AWS_Lambda_"
# Global services live in us-east-1 whatever region a client signs for (botocore
# signs with the client's region when the endpoint is overridden, as here).
GLOBAL_SERVICES = frozenset({"route53", "iam", "cloudfront", "organizations"})
GLOBAL_REGION = "us-east-1"
REST_XML_SERVICES = frozenset({"route53", "s3", "cloudfront"})
CODE = "ServiceUnavailable"


def verdict(outages: Outages, request: AwsRequest) -> Mode | None:
    """What `request` gets from the outage switch: None (served as usual) or a mode."""
    if not outages.active:
        return None
    agent = request.headers.get("user-agent", "")
    if INTERNAL_AGENT in agent:
        return None
    region = region_of(request)
    if not request.signed:
        is_data_plane = request.service == "execute-api"
        return Mode.HANG if is_data_plane and outages.data_plane_down(region) else None
    if FUNCTION_AGENT in agent:
        return Mode.HANG if outages.data_plane_down(region) else None
    return outages.control_plane_down(region)


def region_of(request: AwsRequest) -> str:
    """The region whose endpoints serve `request`."""
    return GLOBAL_REGION if request.service in GLOBAL_SERVICES else request.region


class OutageGate(Interceptor):
    """Hangs, resets or answers 503 for what `verdict` says; passes the rest on."""

    def __init__(self, outages: Outages):
        self.outages = outages

    def wants(self, request: AwsRequest) -> bool:
        return verdict(self.outages, request) is not None

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        mode = verdict(self.outages, request)
        if mode is None:  # the outage ended in between
            return forward(request)
        if mode is Mode.ERROR:
            return service_unavailable(request)
        raise Unanswered(Mode.REFUSE if mode is Mode.REFUSE else Mode.HANG, region_of(request))


def service_unavailable(request: AwsRequest) -> Response:
    """503 ServiceUnavailable in the error shape of `request`'s protocol."""
    message = f"Service unavailable in {region_of(request)} (sandbox outage switch, mode 5xx)"
    if request.headers.get("smithy-protocol", "").lower() == "rpc-v2-cbor":
        body = cbor.text_map({"__type": CODE, "message": message})
        return _response(body, "application/cbor", (("smithy-protocol", "rpc-v2-cbor"),))
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-amz-json"):
        return json_error(CODE, message, status=503)
    if "Action" in request.form or request.service in REST_XML_SERVICES:  # query, REST-XML
        body = (
            "<ErrorResponse><Error><Type>Receiver</Type>"
            f"<Code>{CODE}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        ).encode()
        return _response(body, "text/xml", ())
    # REST-JSON (Lambda, API Gateway): the code travels in a header.
    body = json.dumps({"message": message, "Message": message}).encode()
    return _response(body, "application/json", (("x-amzn-ErrorType", CODE),))


def _response(body: bytes, content_type: str, extra: tuple[tuple[str, str], ...]) -> Response:
    headers = (
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        *extra,
    )
    return Response(status=503, headers=headers, body=body)
