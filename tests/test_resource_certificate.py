"""Certificate handler against moto: tagged per region, CNAME published, ISSUED waited for,
and on delete the validation record goes only when nothing else needs it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import moto.settings
import pytest
from moto import mock_aws

from failover_cli.aws.retry import Clock
from failover_cli.config.schema import Config, DomainConfig
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.errors import FailoverError, TimeoutExpired
from failover_cli.resources.certificate import HANDLER, desired
from tests.engine_helpers import context, make_config

EAST, WEST = "us-east-1", "us-west-2"
ZONE, NAME = "example.com", "hello.example.com"
NEVER = 10**9  # moto's ACM issues after this many seconds


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # moto read MOTO_ACM_VALIDATION_WAIT at import: set the setting itself.
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 0)
    with mock_aws():
        yield


@pytest.fixture
def zone(aws: None) -> str:
    return _zone(ZONE)


def _zone(name: str) -> str:
    zone_id: str = boto3.client("route53", EAST).create_hosted_zone(
        Name=name, CallerReference=name
    )["HostedZone"]["Id"]
    return zone_id


def _config(name: str = NAME, zone: str = ZONE) -> Config:
    return make_config(domain=DomainConfig(name=name, hosted_zone=zone))


def _specs(config: Config | None = None) -> dict[str, Spec]:
    inputs = DesiredInputs(config or _config(), "s", None)  # type: ignore[arg-type]
    return {s.region: s for s in desired(inputs)}


def _certificates(region: str) -> list[dict[str, Any]]:
    acm = boto3.client("acm", region)
    summaries = acm.list_certificates(CertificateStatuses=["PENDING_VALIDATION", "ISSUED"])
    return [
        {
            **acm.describe_certificate(CertificateArn=s["CertificateArn"])["Certificate"],
            "Tags": {
                t["Key"]: t["Value"]
                for t in acm.list_tags_for_certificate(CertificateArn=s["CertificateArn"])["Tags"]
            },
        }
        for s in summaries["CertificateSummaryList"]
    ]


def _cnames(zone_id: str) -> list[dict[str, Any]]:
    sets = boto3.client("route53", EAST).list_resource_record_sets(HostedZoneId=zone_id)
    return [r for r in sets["ResourceRecordSets"] if r["Type"] == "CNAME"]


def _foreign_certificate(region: str = EAST) -> str:
    arn: str = boto3.client("acm", region).request_certificate(
        DomainName=NAME, ValidationMethod="DNS"
    )["CertificateArn"]
    return arn


def test_desired_is_one_certificate_per_region_only_with_a_domain() -> None:
    inputs = DesiredInputs(make_config(), "s", None)  # type: ignore[arg-type]
    assert desired(inputs) == []
    specs = _specs()
    assert sorted(specs) == [EAST, WEST]
    assert {s.key for s in specs.values()} == {f"certificate:{r}:{NAME}" for r in (EAST, WEST)}
    assert all(s.depends_on == () for s in specs.values())


def test_create_requests_a_tagged_certificate_publishes_the_cname_and_converges(
    zone: str,
) -> None:
    specs = _specs()
    with context(_config()) as (ctx, _):
        for spec in specs.values():
            HANDLER.create(ctx, spec)
        arns = {r: ctx.outputs[f"certificate_arn:{r}"] for r in (EAST, WEST)}

    for region in (EAST, WEST):
        [cert] = _certificates(region)
        assert cert["CertificateArn"] == arns[region]
        assert cert["Status"] == "ISSUED"
        assert cert["DomainValidationOptions"][0]["ValidationMethod"] == "DNS"
        assert cert["Tags"]["failover:stack"] == "hello"
        assert cert["Tags"]["failover:managed-by"] == "failover"
    [cname] = _cnames(zone)  # both regions asked for the same record: published once
    record = _certificates(EAST)[0]["DomainValidationOptions"][0]["ResourceRecord"]
    assert cname["Name"] == record["Name"]
    assert cname["ResourceRecords"] == [{"Value": record["Value"]}]

    with context(_config()) as (ctx, recorder):
        for spec in specs.values():
            seen = HANDLER.observe(ctx, spec)
            assert seen.exists and seen.owned
            assert HANDLER.diff(spec, seen) == []
        assert recorder.mutating == []


def test_waits_for_issued_with_a_progress_line(zone: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", NEVER)
    now = {"t": 0.0}

    def sleep(seconds: float) -> None:
        now["t"] += seconds
        if now["t"] > 120:  # ACM validates "a couple of minutes" in
            monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", -1)

    messages: list[tuple[str, str]] = []
    with context(_config(), clock=Clock(now=lambda: now["t"], sleep=sleep)) as (ctx, _):
        ctx.progress = lambda region, message: messages.append((region, message))
        HANDLER.create(ctx, _specs()[EAST])

    assert _certificates(EAST)[0]["Status"] == "ISSUED"
    assert any(
        region == EAST and message.startswith(f"waiting for ACM to validate {NAME} through DNS")
        for region, message in messages
    )


def test_time_out_names_delegation_and_the_next_up_resumes(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", NEVER)
    spec = _specs()[EAST]
    with context(_config()) as (ctx, _), pytest.raises(TimeoutExpired) as raised:
        HANDLER.create(ctx, spec)
    text = raised.value.render()
    assert "ACM to issue the certificate for hello.example.com" in text
    assert "not authoritative" in text and "NS records at your registrar" in text
    [pending] = _certificates(EAST)
    assert pending["Status"] == "PENDING_VALIDATION"

    # The next `up` finds the pending certificate and waits for it (DNS has caught up).
    with context(_config()) as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
        assert seen.exists and seen.props["status"] == "PENDING_VALIDATION"
        monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 0)
        HANDLER.update(ctx, spec, seen, HANDLER.diff(spec, seen))
        assert not any(op == "RequestCertificate" for _, _, op in recorder.mutating)
    assert [c["CertificateArn"] for c in _certificates(EAST)] == [pending["CertificateArn"]]
    assert _certificates(EAST)[0]["Status"] == "ISSUED"


def test_a_missing_zone_is_a_clear_error_before_any_request(aws: None) -> None:
    with context(_config()) as (ctx, recorder), pytest.raises(FailoverError) as raised:
        HANDLER.create(ctx, _specs()[EAST])
    assert "hosted zone example.com does not exist" in raised.value.render()
    assert recorder.mutating == []


def test_a_name_outside_the_zone_is_a_clear_error(aws: None) -> None:
    _zone("example.org")
    config = _config(zone="example.org")
    with context(config) as (ctx, recorder), pytest.raises(FailoverError) as raised:
        HANDLER.create(ctx, _specs(config)[EAST])
    assert "hello.example.com is not inside the hosted zone example.org" in raised.value.render()
    assert recorder.mutating == []


def test_a_deleted_validation_record_is_put_back(zone: str) -> None:
    spec = _specs()[EAST]
    with context(_config()) as (ctx, _):
        HANDLER.create(ctx, spec)
    [cname] = _cnames(zone)
    boto3.client("route53", EAST).change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": cname}]},
    )
    with context(_config()) as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        assert [c.field for c in HANDLER.diff(spec, seen)] == ["validation_record"]
        HANDLER.update(ctx, spec, seen, HANDLER.diff(spec, seen))
    assert _cnames(zone) == [cname]


def test_an_untagged_certificate_for_the_name_is_not_adopted_nor_deleted(zone: str) -> None:
    foreign = _foreign_certificate()
    spec = _specs()[EAST]
    with context(_config()) as (ctx, _):
        assert not HANDLER.observe(ctx, spec).exists
        HANDLER.create(ctx, spec)
        ours = ctx.outputs[f"certificate_arn:{EAST}"]
    assert ours != foreign

    messages: list[str] = []
    with context(_config()) as (ctx, _):
        ctx.progress = lambda _region, message: messages.append(message)
        HANDLER.delete(ctx, spec, HANDLER.observe(ctx, spec))
    assert [c["CertificateArn"] for c in _certificates(EAST)] == [foreign]
    # The foreign certificate asks for the very same record: it stays, and we say why.
    assert len(_cnames(zone)) == 1
    assert any("which this stack does not own, needs it too" in m for m in messages)


def test_the_validation_record_goes_with_the_last_certificate_of_the_stack(zone: str) -> None:
    specs = _specs()
    with context(_config()) as (ctx, _):
        for spec in specs.values():
            HANDLER.create(ctx, spec)

    with context(_config()) as (ctx, _):
        HANDLER.delete(ctx, specs[EAST], HANDLER.observe(ctx, specs[EAST]))
    assert _certificates(EAST) == []
    assert len(_cnames(zone)) == 1  # the west certificate still needs it

    with context(_config()) as (ctx, _):
        HANDLER.delete(ctx, specs[WEST], HANDLER.observe(ctx, specs[WEST]))
        HANDLER.delete(ctx, specs[WEST], HANDLER.observe(ctx, specs[WEST]))  # gone: fine
    assert _certificates(WEST) == []
    assert _cnames(zone) == []


def test_a_record_with_another_value_at_the_name_is_left_alone(zone: str) -> None:
    spec = _specs()[EAST]
    with context(_config()) as (ctx, _):
        HANDLER.create(ctx, spec)
    [cname] = _cnames(zone)
    changed = {**cname, "ResourceRecords": [{"Value": "_other.acm-validations.aws."}]}
    boto3.client("route53", EAST).change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": changed}]},
    )
    with context(_config()) as (ctx, _):
        HANDLER.delete(ctx, spec, HANDLER.observe(ctx, spec))
    assert _certificates(EAST) == []
    assert _cnames(zone) == [changed]


def _in_use(acm: Any, times: int | None) -> Any:
    """delete_certificate that ACM refuses as in use `times` times (None: always)."""
    refused, real = {"count": 0}, acm.delete_certificate

    def delete_certificate(**kwargs: Any) -> Any:
        if times is None or refused["count"] < times:
            refused["count"] += 1
            raise acm.exceptions.ResourceInUseException(
                {"Error": {"Code": "ResourceInUseException", "Message": "in use"}},
                "DeleteCertificate",
            )
        return real(**kwargs)

    return delete_certificate


def test_delete_waits_while_api_gateway_still_holds_the_certificate(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _specs()[EAST]
    with context(_config()) as (ctx, _):
        HANDLER.create(ctx, spec)
    messages: list[str] = []
    with context(_config()) as (ctx, _):
        acm = ctx.client("acm", EAST)
        monkeypatch.setattr(acm, "delete_certificate", _in_use(acm, 2))
        ctx.progress = lambda _region, message: messages.append(message)
        HANDLER.delete(ctx, spec, HANDLER.observe(ctx, spec))
    assert _certificates(EAST) == []
    assert sum("still in use" in m for m in messages) == 2


def test_a_certificate_that_stays_in_use_is_a_clear_error(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _specs()[EAST]
    with context(_config()) as (ctx, _):
        HANDLER.create(ctx, spec)
    with context(_config()) as (ctx, _), pytest.raises(FailoverError) as raised:
        acm = ctx.client("acm", EAST)
        monkeypatch.setattr(acm, "delete_certificate", _in_use(acm, None))
        HANDLER.delete(ctx, spec, HANDLER.observe(ctx, spec))
    # Held by nobody but the stack's own (deleted) domain: API Gateway's delay, not a
    # foreign user to go and find.
    assert "still held by API Gateway" in raised.value.render()
    assert "does not own" not in raised.value.render()
    assert "re-run `failover down` in a few minutes" in raised.value.render()
    assert len(_certificates(EAST)) == 1 and len(_cnames(zone)) == 1  # nothing half-removed


def test_a_certificate_used_by_someone_else_names_the_user(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _specs()[EAST]
    with context(_config()) as (ctx, _):
        HANDLER.create(ctx, spec)
    foreign = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/1"
    with context(_config()) as (ctx, _), pytest.raises(FailoverError) as raised:
        acm = ctx.client("acm", EAST)
        monkeypatch.setattr(acm, "delete_certificate", _in_use(acm, None))
        real_describe = acm.describe_certificate

        def describe_certificate(**kwargs: Any) -> Any:
            answer = real_describe(**kwargs)
            answer["Certificate"]["InUseBy"] = [foreign]
            return answer

        monkeypatch.setattr(acm, "describe_certificate", describe_certificate)
        HANDLER.delete(ctx, spec, HANDLER.observe(ctx, spec))
    assert f"still in use by {foreign}" in raised.value.render()
