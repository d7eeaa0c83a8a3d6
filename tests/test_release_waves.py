"""The wave order of a release and what `plan` says about it (pure: no AWS)."""

from __future__ import annotations

from pathlib import Path

from failover_cli.config.loader import load_config
from failover_cli.config.schema import DeployConfig, DomainConfig
from failover_cli.engine.model import Action, Change, FieldChange, Observed, Plan, Spec
from failover_cli.ops.release_waves import describe_waves, split_release, wave_order
from tests.engine_helpers import make_config

THREE = ("us-east-1", "us-west-2", "eu-west-1")


def _move(region: str) -> Change:
    spec = Spec("alias", region, "live")
    return Change(Action.UPDATE, spec, Observed(True), [FieldChange("release", "a", "b")])


def test_failover_routing_releases_the_secondary_first() -> None:
    domain = DomainConfig(name="app.example.com", hosted_zone="example.com", routing="failover")
    assert wave_order(make_config(domain=domain)) == ["us-west-2", "us-east-1"]


def test_latency_releases_the_last_region_first_and_the_primary_last() -> None:
    assert wave_order(make_config(regions=THREE)) == ["eu-west-1", "us-west-2", "us-east-1"]


def test_deploy_order_wins() -> None:
    config = make_config(regions=THREE, deploy=DeployConfig(order=THREE))
    assert wave_order(config) == list(THREE)


def test_plan_names_the_regions_a_release_reaches_in_order() -> None:
    config = make_config(regions=THREE)
    other = Change(Action.UPDATE, Spec("alias", "us-east-1", "live"), Observed(True), [])
    plan = Plan([_move("us-east-1"), _move("eu-west-1"), other])
    said = describe_waves(config, plan)
    assert said is not None and "eu-west-1 -> us-east-1" in said
    rest, moves = split_release(plan)
    assert [c.spec.region for c in moves] == ["us-east-1", "eu-west-1"]
    assert rest.changes == [other]
    assert describe_waves(config, rest) is None


def test_deploy_section_loads(tmp_path: Path) -> None:
    path = tmp_path / "failover.yaml"
    path.write_text(
        "stack: hello\nregions: [us-east-1, us-west-2]\n"
        "deploy:\n  order: [us-west-2, us-east-1]\n  bake: 90s\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.deploy == DeployConfig(order=("us-west-2", "us-east-1"), bake_s=90.0)
