"""The sandbox issues an ACM certificate only once its validation CNAME is in a hosted zone.

One sandbox serves the session: every test uses its own zone and domain names.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import boto3
import pytest

pytestmark = pytest.mark.sandbox

EAST, WEST = "us-east-1", "us-west-2"


def _names() -> tuple[str, str]:
    zone = f"z{uuid.uuid4().hex[:10]}.test"
    return zone, f"app.{zone}"


def _request(domain: str, region: str = EAST) -> str:
    arn: str = boto3.client("acm", region).request_certificate(
        DomainName=domain, ValidationMethod="DNS"
    )["CertificateArn"]
    return arn


def _describe(arn: str, region: str = EAST) -> dict[str, Any]:
    found: dict[str, Any] = boto3.client("acm", region).describe_certificate(CertificateArn=arn)[
        "Certificate"
    ]
    return found


def _validation_record(arn: str, region: str = EAST) -> dict[str, str]:
    record: dict[str, str] = _describe(arn, region)["DomainValidationOptions"][0]["ResourceRecord"]
    return record


def _zone(name: str, **private: Any) -> str:
    zone_id: str = boto3.client("route53", EAST).create_hosted_zone(
        Name=name, CallerReference=uuid.uuid4().hex, **private
    )["HostedZone"]["Id"]
    return zone_id


def _cname(zone_id: str, name: str, value: str) -> None:
    boto3.client("route53", EAST).change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
            ]
        },
    )


def _issued_arns(region: str = EAST) -> set[str]:
    pages = (
        boto3.client("acm", region)
        .get_paginator("list_certificates")
        .paginate(CertificateStatuses=["ISSUED"])
    )
    return {c["CertificateArn"] for p in pages for c in p["CertificateSummaryList"]}


def test_a_certificate_stays_pending_until_its_cname_is_published(sandbox_env: str) -> None:
    zone, domain = _names()
    arn = _request(domain)
    record = _validation_record(arn)
    assert record["Type"] == "CNAME"
    # Longer than moto's own timer ever was here: DNS, not time, issues certificates.
    time.sleep(1.5)
    assert _describe(arn)["Status"] == "PENDING_VALIDATION"

    _cname(_zone(zone), record["Name"], record["Value"])

    assert _describe(arn)["Status"] == "ISSUED"
    assert arn in _issued_arns()


def test_a_wrong_value_or_a_private_zone_does_not_validate(sandbox_env: str) -> None:
    zone, domain = _names()
    arn = _request(domain)
    record = _validation_record(arn)
    _cname(_zone(zone), record["Name"], "_someone-else.acm-validations.aws.")
    private = _zone(
        zone,
        HostedZoneConfig={"Comment": "split horizon", "PrivateZone": True},
        VPC={"VPCRegion": EAST, "VPCId": "vpc-12345678"},
    )
    _cname(private, record["Name"], record["Value"])

    assert _describe(arn)["Status"] == "PENDING_VALIDATION"
    assert arn not in _issued_arns()


def test_one_published_record_validates_the_name_in_every_region(sandbox_env: str) -> None:
    zone, domain = _names()
    east, west = _request(domain, EAST), _request(domain, WEST)
    record = _validation_record(east)
    assert _validation_record(west, WEST) == record  # ACM asks every region for the same CNAME

    # Written without the trailing dot: the same DNS name.
    _cname(_zone(zone), record["Name"].rstrip("."), record["Value"])

    assert _describe(east)["Status"] == "ISSUED"
    assert _describe(west, WEST)["Status"] == "ISSUED"
