"""AWS's published address ranges, as the sandbox publishes them: `/_sandbox/ip-ranges.json`.

AWS publishes the addresses its services call from in `ip-ranges.json`
(https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html); the Route 53
health checkers are the `ROUTE53_HEALTHCHECKS` entries, one or more per checker
region plus a `GLOBAL` block. The sandbox serves a document of the same shape
holding AWS's real entries for the checker regions (taken from AWS's document),
and its checkers call from an address inside their region's prefixes
(`checker_address`), so a REST API resource policy built from the document lets
them through exactly as on AWS.

- `GET /_sandbox/ip-ranges.json`: the document (`syncToken`, `createDate`,
  `prefixes`, `ipv6_prefixes`);
- `POST /_sandbox/ip-ranges` with a whole document replaces it, to simulate AWS
  publishing a change (a missing `syncToken`/`createDate` is set to now). A
  checker keeps its address while the new document still lists it (AWS publishes
  new ranges before using them) and moves into its region's first prefix when
  its old one is gone.

AWS announces each change on its SNS topic `AmazonIpSpaceChanged` (account
806199016981, us-east-1; AWS General Reference, "AWS IP address ranges
notifications"). The sandbox holds that topic, lets any account subscribe to it,
and after a POST delivers the notification (`create-time`, `synctoken`, `md5`,
`url`) to the Lambda functions subscribed, through its own Lambda API.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response

DOCUMENT_PATH = "/_sandbox/ip-ranges.json"
REPLACE_PATH = "/_sandbox/ip-ranges"
SERVICE = "ROUTE53_HEALTHCHECKS"
OWN_HOSTS = frozenset({"127.0.0.1", "localhost"})

# AWS's ROUTE53_HEALTHCHECKS entries for the checker regions (ip-ranges.json).
REAL_PREFIXES: dict[str, tuple[str, ...]] = {
    "GLOBAL": ("15.177.0.0/18",),
    "us-east-1": ("107.23.255.0/26", "54.243.31.192/26"),
    "us-west-1": ("54.183.255.128/26", "54.241.32.64/26"),
    "us-west-2": ("54.244.52.192/26", "54.245.168.0/26"),
    "eu-west-1": ("176.34.159.192/26", "54.228.16.0/26"),
    "ap-southeast-1": ("54.251.31.128/26", "54.255.254.192/26"),
    "ap-southeast-2": ("54.252.254.192/26", "54.252.79.128/26"),
    "ap-northeast-1": ("54.248.220.0/26", "54.250.253.192/26"),
    "sa-east-1": ("177.71.207.128/26", "54.232.40.64/26"),
}
REAL_IPV6_PREFIXES: dict[str, tuple[str, ...]] = {
    "us-east-1": ("2600:1f18:3fff:f800::/56", "2600:1f18:7fff:f800::/56"),
    "us-west-1": ("2600:1f1c:7ff:f800::/56", "2600:1f1c:fff:f800::/56"),
    "us-west-2": ("2600:1f14:7ff:f800::/56", "2600:1f14:fff:f800::/56"),
    "eu-west-1": ("2a05:d018:7ff:f800::/56", "2a05:d018:fff:f800::/56"),
    "ap-southeast-1": ("2406:da18:7ff:f800::/56", "2406:da18:fff:f800::/56"),
    "ap-southeast-2": ("2406:da1c:7ff:f800::/56", "2406:da1c:fff:f800::/56"),
    "ap-northeast-1": ("2406:da14:7ff:f800::/56", "2406:da14:fff:f800::/56"),
    "sa-east-1": ("2600:1f1e:7ff:f800::/56", "2600:1f1e:fff:f800::/56"),
}
# Where each region's checker calls from while the document lists it (inside REAL_PREFIXES).
CHECKER_IPS = {
    "us-east-1": "107.23.255.10",
    "us-west-1": "54.183.255.140",
    "us-west-2": "54.244.52.200",
    "eu-west-1": "54.228.16.10",
    "ap-southeast-1": "54.255.254.200",
    "ap-southeast-2": "54.252.254.200",
    "ap-northeast-1": "54.250.253.200",
    "sa-east-1": "54.232.40.70",
}
UNLISTED = "127.0.0.1"  # a checker whose region the document no longer lists: a stranger
AWS_ACCOUNT = "806199016981"
TOPIC_REGION = "us-east-1"
TOPIC_NAME = "AmazonIpSpaceChanged"
TOPIC = f"arn:aws:sns:{TOPIC_REGION}:{AWS_ACCOUNT}:{TOPIC_NAME}"


class BadDocument(ValueError):
    pass


def default_document(now: float | None = None) -> dict[str, Any]:
    at = time.time() if now is None else now
    return {
        "syncToken": str(int(at)),
        "createDate": time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(at)),
        "prefixes": [
            {"ip_prefix": p, "region": r, "service": SERVICE, "network_border_group": r}
            for r, prefixes in REAL_PREFIXES.items()
            for p in prefixes
        ],
        "ipv6_prefixes": [
            {"ipv6_prefix": p, "region": r, "service": SERVICE, "network_border_group": r}
            for r, prefixes in REAL_IPV6_PREFIXES.items()
            for p in prefixes
        ],
    }


def checked(document: Any) -> dict[str, Any]:
    """The document if it has AWS's shape (prefix lists of valid CIDRs), else BadDocument."""
    if not isinstance(document, dict):
        raise BadDocument("the body must be a JSON object shaped like ip-ranges.json")
    result = dict(document)
    for key, field in (("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")):
        entries = result.setdefault(key, [])
        if not isinstance(entries, list):
            raise BadDocument(f"{key} must be a list")
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get(field), str):
                raise BadDocument(f"every entry of {key} needs {field}, region and service")
            try:
                ipaddress.ip_network(entry[field])
            except ValueError:
                raise BadDocument(f"{entry[field]!r} is not a CIDR") from None
    now = time.time()
    result.setdefault("syncToken", str(int(now)))
    result.setdefault("createDate", time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(now)))
    return result


class IpRanges:
    """The published document and the address each checker region calls from."""

    def __init__(self, document: dict[str, Any] | None = None):
        self._lock = threading.Lock()
        self._document = document or default_document()
        self._addresses: dict[str, str] = {}
        self._place()

    def document(self) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self._document))

    def replace(self, document: Any) -> dict[str, Any]:
        fresh = checked(document)
        with self._lock:
            self._document = fresh
            self._place()
        return self.document()

    def checker_address(self, region: str) -> str:
        with self._lock:
            return self._addresses.get(region, UNLISTED)

    def _place(self) -> None:
        """Keep each checker's address while listed; else the first address of its region."""
        listed: dict[str, list[ipaddress.IPv4Network]] = {}
        for entry in self._document.get("prefixes", []):
            if entry.get("service") == SERVICE:
                network = ipaddress.ip_network(entry["ip_prefix"])
                if isinstance(network, ipaddress.IPv4Network):
                    listed.setdefault(str(entry.get("region")), []).append(network)
        for region in set(CHECKER_IPS) | set(listed):
            networks = listed.get(region, [])
            was = self._addresses.get(region, CHECKER_IPS.get(region, UNLISTED))
            current = ipaddress.ip_address(was)
            if any(current in network for network in networks):
                self._addresses[region] = str(current)
            elif networks:
                first = networks[0]
                offset = min(10, first.num_addresses - 1)
                self._addresses[region] = str(first.network_address + offset)
            else:
                self._addresses[region] = UNLISTED


class IpRangesEndpoint(Interceptor):
    def __init__(self, ranges: IpRanges, announce: Callable[[dict[str, Any]], None]):
        self.ranges = ranges
        self.announce = announce

    def wants(self, request: AwsRequest) -> bool:
        return (
            request.hostname in OWN_HOSTS
            and request.path.rstrip("/") in (DOCUMENT_PATH, REPLACE_PATH)
            and not request.signed
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        if request.method == "GET":
            return _json(self.ranges.document())
        if request.method != "POST" or request.path.rstrip("/") != REPLACE_PATH:
            return _json({"error": f"GET {DOCUMENT_PATH} or POST {REPLACE_PATH}"}, 405)
        try:
            document = self.ranges.replace(json.loads(request.body or b"null"))
        except (BadDocument, ValueError) as error:
            return _json({"error": str(error)}, 400)
        self.announce(document)
        return _json(document)


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    body = json.dumps(payload, indent=1).encode()
    headers = (("Content-Type", "application/json"), ("Content-Length", str(len(body))))
    return Response(status=status, headers=headers, body=body)


def install(context: Any) -> None:
    """The feature (a SandboxContext; Any avoids an import circle)."""
    from moto.sns.models import sns_backends

    sns_backends[AWS_ACCOUNT][TOPIC_REGION].create_topic(TOPIC_NAME)
    announce = lambda document: _announce(context.endpoint, document)  # noqa: E731
    context.layer.add(IpRangesEndpoint(context.ip_ranges, announce))


def _announce(endpoint: str, document: dict[str, Any]) -> None:
    """AWS's notification to the topic's Lambda subscribers, each invoked on its own thread
    (SNS invokes asynchronously: the POST does not wait for them)."""
    from moto.sns.models import sns_backends

    message = json.dumps(
        {
            "create-time": document.get("createDate"),
            "synctoken": document.get("syncToken"),
            # Of the bytes GET serves, as AWS's is of ip-ranges.json's: subscribers check it.
            "md5": hashlib.md5(_json(document).body, usedforsecurity=False).hexdigest(),
            "url": f"{endpoint}{DOCUMENT_PATH}",
        }
    )
    for regions in list(sns_backends.values()):
        for backend in list(regions.values()):
            for subscription in list(backend.subscriptions.values()):
                if subscription.topic.arn == TOPIC and subscription.protocol == "lambda":
                    event = _sns_event(subscription.arn, message)
                    worker = threading.Thread(
                        target=_invoke,
                        args=(endpoint, str(subscription.endpoint), event),
                        name="sandbox-ip-space-changed",
                        daemon=True,
                    )
                    worker.start()


def _sns_event(subscription_arn: str, message: str) -> dict[str, Any]:
    """The event Lambda gets from SNS (Lambda Developer Guide, "Using Lambda with SNS")."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": TOPIC,
                    "Subject": None,
                    "Message": message,
                    "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    "MessageAttributes": {},
                },
            }
        ]
    }


def _invoke(endpoint: str, function_arn: str, event: dict[str, Any]) -> None:
    import logging

    from failover_cli.sandbox import loopback

    parts = function_arn.split(":")
    if len(parts) < 7:
        return
    lam = loopback.client(endpoint, "lambda", parts[3], account_id=parts[4], read_timeout=120)
    try:
        lam.invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
    except Exception:  # a failed delivery is the subscriber's problem, as on AWS
        logging.getLogger(__name__).warning("delivering %s to %s failed", TOPIC, function_arn)
