"""Custom domain names and base path mappings against moto: regional, TLS 1.2, the stack's
certificate, mapped to the stack's API stage; look-alikes are never adopted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import moto.settings
import pytest
from moto import mock_aws
from moto.apigateway.models import APIGatewayBackend

from failover_cli.config.schema import ApiConfig, Config, DomainConfig
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Observed, Spec
from failover_cli.resources import base_path_mapping, certificate, domain_name
from failover_cli.resources.domain_name import domain_target
from failover_cli.sandbox.apigateway.domains import prepare_mappings
from tests.engine_helpers import context, make_config

EAST, WEST = "us-east-1", "us-west-2"
REGIONS = (EAST, WEST)
NAME = "hello.example.com"
OWNERSHIP = {"failover:stack": "hello", "failover:managed-by": "failover"}


def moto_domains_list_empty_mappings(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2.5 fails (KeyError) on the mappings of a domain name that never had one; the
    sandbox fixes that in front of moto (sandbox/apigateway/domains.py), here we patch it."""
    create = APIGatewayBackend.create_domain_name

    def create_domain_name(self: Any, domain_name: str, *args: Any, **kwargs: Any) -> Any:
        made = create(self, domain_name, *args, **kwargs)
        prepare_mappings(self, domain_name)
        return made

    monkeypatch.setattr(APIGatewayBackend, "create_domain_name", create_domain_name)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 0)
    moto_domains_list_empty_mappings(monkeypatch)
    with mock_aws():
        yield


def _config(base_path: str = "v1", stage: str = "prod") -> Config:
    return make_config(
        domain=DomainConfig(name=NAME, hosted_zone="example.com", base_path=base_path),
        api=ApiConfig(stage=stage),
    )


def _specs(module: Any, config: Config | None = None) -> dict[str, Spec]:
    inputs = DesiredInputs(config or _config(), "s", None)  # type: ignore[arg-type]
    return {s.region: s for s in module.desired(inputs)}


def _api(region: str, stages: tuple[str, ...] = ("prod",)) -> str:
    """The stack's REST API as the api handler leaves it: named, tagged, deployed."""
    ag = boto3.client("apigateway", region)
    api_id: str = ag.create_rest_api(
        name="hello", endpointConfiguration={"types": ["REGIONAL"]}, tags=OWNERSHIP
    )["id"]
    root = ag.get_resources(restApiId=api_id)["items"][0]["id"]
    ag.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    ag.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    for stage in stages:
        ag.create_deployment(restApiId=api_id, stageName=stage)
    return api_id


@pytest.fixture
def built(aws: None) -> dict[str, str]:
    """Zone, issued certificates and the API in both regions: what domains depend on."""
    boto3.client("route53", EAST).create_hosted_zone(Name="example.com", CallerReference="z")
    with context(_config()) as (ctx, _):
        for spec in _specs(certificate).values():
            certificate.HANDLER.create(ctx, spec)
        arns = {r: str(ctx.outputs[f"certificate_arn:{r}"]) for r in REGIONS}
    return arns


def _domain(region: str) -> dict[str, Any]:
    found: dict[str, Any] = boto3.client("apigateway", region).get_domain_name(domainName=NAME)
    return found


def _mappings(region: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = boto3.client("apigateway", region).get_base_path_mappings(
        domainName=NAME
    )["items"]
    return items


def _converge(module: Any, config: Config | None = None) -> None:
    config = config or _config()
    with context(config) as (ctx, _):
        for spec in _specs(module, config).values():
            seen = module.HANDLER.observe(ctx, spec)
            if not seen.exists:
                module.HANDLER.create(ctx, spec)
            elif changes := module.HANDLER.diff(spec, seen):
                module.HANDLER.update(ctx, spec, seen, changes)


def _observe(module: Any, region: str, config: Config | None = None) -> tuple[Spec, Observed]:
    spec = _specs(module, config)[region]
    with context(config or _config()) as (ctx, _):
        return spec, module.HANDLER.observe(ctx, spec)


def test_desired_depends_on_certificate_domain_and_api() -> None:
    assert _specs(domain_name, make_config()) == {}
    assert _specs(base_path_mapping, make_config()) == {}
    domains, mappings = _specs(domain_name), _specs(base_path_mapping)
    assert domains[WEST].depends_on == (f"certificate:{WEST}:{NAME}",)
    assert mappings[WEST].depends_on == (f"domain_name:{WEST}:{NAME}", f"api:{WEST}:hello")
    assert mappings[EAST].props.base_path == "v1"
    assert _specs(base_path_mapping, _config(base_path=""))[EAST].props.base_path == "(none)"


def test_domain_names_are_regional_tls12_on_the_stack_certificate_and_converge(
    built: dict[str, str],
) -> None:
    with context(_config()) as (ctx, _):
        for spec in _specs(domain_name).values():
            domain_name.HANDLER.create(ctx, spec)
        targets = {r: ctx.outputs[f"domain_target:{r}"] for r in REGIONS}

    for region in REGIONS:
        found = _domain(region)
        assert found["endpointConfiguration"]["types"] == ["REGIONAL"]
        assert found["securityPolicy"] == "TLS_1_2"
        assert found["regionalCertificateArn"] == built[region]
        assert found["tags"] == OWNERSHIP
        assert targets[region] == {
            "regionalDomainName": found["regionalDomainName"],
            "regionalHostedZoneId": found["regionalHostedZoneId"],
        }

    with context(_config()) as (ctx, recorder):
        for spec in _specs(domain_name).values():
            seen = domain_name.HANDLER.observe(ctx, spec)
            assert seen.owned and domain_name.HANDLER.diff(spec, seen) == []
        assert recorder.mutating == []
    # A later handler (the record) finds the target again without the outputs.
    with context(_config()) as (ctx, _):
        assert domain_target(ctx, WEST) == targets[WEST]


def test_an_untagged_domain_name_is_reported_and_never_deleted(built: dict[str, str]) -> None:
    boto3.client("apigateway", EAST).create_domain_name(
        domainName=NAME,
        regionalCertificateArn=built[EAST],
        endpointConfiguration={"types": ["REGIONAL"]},
    )
    _, seen = _observe(domain_name, EAST)
    assert seen.exists and not seen.owned
    with context(_config()) as (ctx, _):
        assert domain_target(ctx, EAST) is None  # records never alias someone else's domain
    assert _domain(EAST)["domainName"] == NAME


def test_mapping_points_the_base_path_at_the_stack_api_stage(built: dict[str, str]) -> None:
    apis = {r: _api(r) for r in REGIONS}
    _converge(domain_name)
    _converge(base_path_mapping)
    for region in REGIONS:
        assert _mappings(region) == [{"basePath": "v1", "restApiId": apis[region], "stage": "prod"}]

    with context(_config()) as (ctx, recorder):
        for spec in _specs(base_path_mapping).values():
            seen = base_path_mapping.HANDLER.observe(ctx, spec)
            assert seen.owned and base_path_mapping.HANDLER.diff(spec, seen) == []
        assert recorder.mutating == []


def test_an_empty_base_path_maps_the_domain_root(built: dict[str, str]) -> None:
    api, _ = _api(EAST), _api(WEST)
    config = _config(base_path="")
    _converge(domain_name, config)
    _converge(base_path_mapping, config)
    assert _mappings(EAST) == [{"basePath": "(none)", "restApiId": api, "stage": "prod"}]
    spec, seen = _observe(base_path_mapping, EAST, config)
    assert base_path_mapping.HANDLER.diff(spec, seen) == []


def test_changing_base_path_or_stage_moves_the_mapping(built: dict[str, str]) -> None:
    api, _ = _api(EAST, stages=("prod", "beta")), _api(WEST, stages=("prod", "beta"))
    _converge(domain_name)
    _converge(base_path_mapping)

    moved = _config(base_path="v2")
    spec, seen = _observe(base_path_mapping, EAST, moved)
    assert [c.field for c in base_path_mapping.HANDLER.diff(spec, seen)] == ["base_path"]
    _converge(base_path_mapping, moved)
    assert _mappings(EAST) == [{"basePath": "v2", "restApiId": api, "stage": "prod"}]

    staged = replace(moved, api=ApiConfig(stage="beta"))
    _converge(base_path_mapping, staged)
    assert _mappings(EAST) == [{"basePath": "v2", "restApiId": api, "stage": "beta"}]


def test_down_removes_mappings_then_domain_names(built: dict[str, str]) -> None:
    for region in REGIONS:
        _api(region)
    _converge(domain_name)
    _converge(base_path_mapping)
    with context(_config()) as (ctx, _):
        for module in (base_path_mapping, domain_name):
            for spec in _specs(module).values():
                seen = module.HANDLER.observe(ctx, spec)
                module.HANDLER.delete(ctx, spec, seen)
                module.HANDLER.delete(ctx, spec, seen)  # already gone: fine
        assert f"domain_target:{EAST}" not in ctx.outputs
    for region in REGIONS:
        assert boto3.client("apigateway", region).get_domain_names()["items"] == []
        assert not _observe(domain_name, region)[1].exists
