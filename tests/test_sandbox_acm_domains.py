"""Custom domain names in the sandbox follow AWS: only on an issued certificate, never twice,
and a fresh domain lists (no) base path mappings instead of failing."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.sandbox

EAST = "us-east-1"


def _issued_certificate(domain: str, zone: str) -> str:
    acm = boto3.client("acm", EAST)
    arn: str = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
    record = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"][
        0
    ]["ResourceRecord"]
    r53 = boto3.client("route53", EAST)
    zone_id = r53.create_hosted_zone(Name=zone, CallerReference=uuid.uuid4().hex)["HostedZone"][
        "Id"
    ]
    r53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": record["Name"],
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": record["Value"]}],
                    },
                }
            ]
        },
    )
    return arn


def _create(domain: str, arn: str) -> None:
    boto3.client("apigateway", EAST).create_domain_name(
        domainName=domain,
        regionalCertificateArn=arn,
        endpointConfiguration={"types": ["REGIONAL"]},
        securityPolicy="TLS_1_2",
    )


def test_a_domain_name_needs_an_issued_certificate(sandbox_env: str) -> None:
    domain = f"app.z{uuid.uuid4().hex[:10]}.test"
    pending = boto3.client("acm", EAST).request_certificate(
        DomainName=domain, ValidationMethod="DNS"
    )["CertificateArn"]
    with pytest.raises(ClientError) as refused:
        _create(domain, pending)
    assert refused.value.response["Error"]["Code"] == "BadRequestException"
    assert "not yet issued" in refused.value.response["Error"]["Message"]


def test_a_domain_name_exists_once_and_lists_its_mappings(sandbox_env: str) -> None:
    zone = f"z{uuid.uuid4().hex[:10]}.test"
    domain = f"app.{zone}"
    arn = _issued_certificate(domain, zone)
    _create(domain, arn)
    ag = boto3.client("apigateway", EAST)
    target = ag.get_domain_name(domainName=domain)["regionalDomainName"]

    assert ag.get_base_path_mappings(domainName=domain).get("items", []) == []
    with pytest.raises(ClientError) as missing:
        ag.get_base_path_mapping(domainName=domain, basePath="v1")
    assert missing.value.response["Error"]["Code"] == "NotFoundException"

    with pytest.raises(ClientError) as twice:
        _create(domain, arn)
    assert twice.value.response["Error"]["Code"] == "ConflictException"
    assert ag.get_domain_name(domainName=domain)["regionalDomainName"] == target
