"""`failover sandbox --hosted-zone NAME`: hosted zones made at start, with no aws CLI.

A walk-through needs a zone before `init --domain`; creating it used to take
`aws route53 create-hosted-zone`. The zones are made through the sandbox's own
public Route 53 API, signed as the account's administrator (`sandbox-admin`, so
`--enforce-policy` does not apply: the operator only uses the zone), exactly as a
user's boto3 call would make them. A name given twice, or already there, is made once.
"""

from __future__ import annotations

import uuid

from failover_cli.sandbox.requests import ADMIN_ACCESS_KEY

DEFAULT_REGION = "us-east-1"


def create_zones(endpoint: str, names: list[str]) -> dict[str, str]:
    """{zone name: zone id} for each name, creating the zones that do not exist yet."""
    import boto3

    route53 = boto3.client(
        "route53",
        region_name=DEFAULT_REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ADMIN_ACCESS_KEY,
        aws_secret_access_key="sandbox",  # the sandbox checks who signs, not the signature
    )
    made: dict[str, str] = {}
    for name in dict.fromkeys(n.rstrip(".").lower() for n in names):
        found = route53.list_hosted_zones_by_name(DNSName=name, MaxItems="1")["HostedZones"]
        if found and found[0]["Name"].rstrip(".") == name:
            made[name] = found[0]["Id"].split("/")[-1]
            continue
        zone = route53.create_hosted_zone(Name=name, CallerReference=str(uuid.uuid4()))
        made[name] = zone["HostedZone"]["Id"].split("/")[-1]
    return made
