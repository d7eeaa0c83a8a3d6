"""The offline region lists must agree with botocore's own answers."""

from __future__ import annotations

from botocore.session import get_session

from failover_cli.config.regions import health_check_regions, lambda_regions


def test_lambda_regions_match_botocore_for_every_partition() -> None:
    session = get_session()
    expected = {
        region: partition
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("lambda", partition_name=partition)
    }
    assert lambda_regions() == expected
    assert lambda_regions()["us-east-1"] == "aws"


def test_health_checker_regions_match_route53s_model() -> None:
    shape = get_session().get_service_model("route53").shape_for("HealthCheckRegion")
    assert health_check_regions() == tuple(shape.enum)  # type: ignore[attr-defined]
    assert {"us-east-1", "us-west-1", "us-west-2"} <= set(health_check_regions())
