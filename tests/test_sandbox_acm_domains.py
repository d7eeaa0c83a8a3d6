"""Custom domain names in the sandbox follow AWS: only on an issued certificate, never twice,
updated in place, and a fresh domain lists (no) base path mappings instead of failing."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from failover_cli.config.schema import DomainConfig
from failover_cli.engine.desired import DesiredInputs
from failover_cli.resources import domain_name
from tests.engine_helpers import context, make_config

pytestmark = pytest.mark.sandbox

EAST = "us-east-1"


def _issued_certificate(domain: str, zone: str, tags: dict[str, str] | None = None) -> str:
    acm = boto3.client("acm", EAST)
    arn: str = acm.request_certificate(
        DomainName=domain,
        ValidationMethod="DNS",
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {"owner": "someone"}).items()],
    )["CertificateArn"]
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


def _create(domain: str, arn: str, tags: dict[str, str] | None = None) -> None:
    boto3.client("apigateway", EAST).create_domain_name(
        domainName=domain,
        regionalCertificateArn=arn,
        endpointConfiguration={"types": ["REGIONAL"]},
        securityPolicy="TLS_1_2",
        tags=tags or {},
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


def test_the_stack_moves_its_domain_to_its_own_certificate_in_place(sandbox_env: str) -> None:
    stack = f"s{uuid.uuid4().hex[:10]}"
    zone = f"{stack}.test"
    domain = f"app.{zone}"
    config = make_config(stack=stack, domain=DomainConfig(name=domain, hosted_zone=zone))
    ours = _issued_certificate(domain, zone, config.ownership_tags())
    theirs = boto3.client("acm", EAST).request_certificate(
        DomainName=domain, ValidationMethod="DNS"
    )["CertificateArn"]  # issued too: it asks for the same, published, record
    _create(domain, theirs, config.ownership_tags())
    ag = boto3.client("apigateway", EAST)
    target = ag.get_domain_name(domainName=domain)["regionalDomainName"]

    [spec] = [s for s in domain_name.desired(DesiredInputs(config, "", None)) if s.region == EAST]  # type: ignore[arg-type]
    with context(config) as (ctx, _):
        seen = domain_name.HANDLER.observe(ctx, spec)
        changes = domain_name.HANDLER.diff(spec, seen)
        assert [(c.field, c.old) for c in changes] == [("certificate", theirs)]
        domain_name.HANDLER.update(ctx, spec, seen, changes)

    found = ag.get_domain_name(domainName=domain)
    assert found["regionalCertificateArn"] == ours
    assert found["regionalDomainName"] == target  # in place: DNS keeps pointing at it
    with context(config) as (ctx, recorder):
        assert domain_name.HANDLER.diff(spec, domain_name.HANDLER.observe(ctx, spec)) == []
        assert recorder.mutating == []


def test_an_update_to_an_unissued_certificate_is_refused(sandbox_env: str) -> None:
    zone = f"z{uuid.uuid4().hex[:10]}.test"
    domain = f"app.{zone}"
    issued = _issued_certificate(domain, zone)
    _create(domain, issued)
    pending = boto3.client("acm", EAST).request_certificate(
        DomainName=f"other.{zone}", ValidationMethod="DNS"
    )["CertificateArn"]
    ag = boto3.client("apigateway", EAST)
    with pytest.raises(ClientError) as refused:
        ag.update_domain_name(
            domainName=domain,
            patchOperations=[
                {"op": "replace", "path": "/regionalCertificateArn", "value": pending},
                {"op": "replace", "path": "/securityPolicy", "value": "TLS_1_0"},
            ],
        )
    assert refused.value.response["Error"]["Code"] == "BadRequestException"
    found = ag.get_domain_name(domainName=domain)
    assert (found["regionalCertificateArn"], found["securityPolicy"]) == (issued, "TLS_1_2")


def test_a_regional_domain_needs_a_certificate_of_its_own_region(sandbox_env: str) -> None:
    """An ISSUED certificate of us-east-1 does not serve a regional domain in us-west-2."""
    zone = f"z{uuid.uuid4().hex[:10]}.test"
    domain = f"app.{zone}"
    issued_in_east = _issued_certificate(domain, zone)
    with pytest.raises(ClientError) as refused:
        boto3.client("apigateway", "us-west-2").create_domain_name(
            domainName=domain,
            regionalCertificateArn=issued_in_east,
            endpointConfiguration={"types": ["REGIONAL"]},
            securityPolicy="TLS_1_2",
        )
    assert refused.value.response["Error"]["Code"] == "BadRequestException"
    _create(domain, issued_in_east)  # in its own region it is accepted
