"""The cost arithmetic against figures worked out by hand from the price table.

Expected values are written out from PRICES and the documented assumptions, so
a broken formula (wrong month, per-region factor, free-tier cap) fails here.
"""

from __future__ import annotations

import pytest

from failover_cli.config.schema import (
    AlarmsConfig,
    Autoscaling,
    Config,
    FunctionConfig,
    HealthCheckConfig,
    TableConfig,
)
from failover_cli.cost import CHECKERS_PER_REGION, PRICES, CostEstimate
from failover_cli.cost import estimate as list_prices
from tests.engine_helpers import make_config

MONTH = 2_592_000  # seconds in 30 days


def estimate(config: Config, *, measure_latency: bool = False) -> CostEstimate:
    """With the old free tier (`plan --free-tier`), whose arithmetic these tests check."""
    return list_prices(config, measure_latency=measure_latency, free_tier=True)


FREE = PRICES["free"]


def _line(cost: CostEstimate, starts: str) -> tuple[float, float, float]:
    (line,) = [x for x in cost.lines if x.item.startswith(starts)]
    return line.quantity, line.monthly_usd, line.free_usd


def test_the_price_table_is_dated_and_for_us_east_1() -> None:
    assert PRICES["region"] == "us-east-1"
    year, month, day = (int(part) for part in PRICES["taken"].split("-"))
    assert year >= 2024 and 1 <= month <= 12 and 1 <= day <= 31
    assert CHECKERS_PER_REGION == 2  # the documented assumption the figures below use


def test_default_config_health_checker_traffic() -> None:
    cost = estimate(make_config())  # 2 regions, 3 checker regions, every 10 s, 10% deep
    requests = 2 * 3 * 2 * MONTH / 10  # stack regions x checker regions x checkers
    assert requests == 3_110_400
    assert _line(cost, "API Gateway") == pytest.approx(
        (requests, requests / 1e6 * 3.50, 1_000_000 / 1e6 * 3.50)
    )
    assert _line(cost, "Lambda requests") == pytest.approx(
        (requests, requests / 1e6 * 0.20, 1e6 / 1e6 * 0.20)
    )
    gb_seconds = requests * (128 / 1024) * (0.9 * 2 + 0.1 * 10) / 1000  # arm64, 128 MB
    assert _line(cost, "Lambda duration") == pytest.approx(
        (gb_seconds, gb_seconds * 0.0000133334, gb_seconds * 0.0000133334)
    )
    log_gb = requests * 400 / 1024**3
    assert _line(cost, "CloudWatch Logs") == pytest.approx((log_gb, log_gb * 0.50, log_gb * 0.50))


def test_health_check_features_follow_the_interval() -> None:
    fast = estimate(make_config())
    slow = estimate(make_config(health_check=HealthCheckConfig(interval_s=30)))
    route53 = [x for x in fast.lines if x.item.startswith(("Route 53", "Health check"))]
    assert [x.item for x in route53] == [
        "Route 53 health checks",
        "Health check HTTPS",
        "Health check string matching",
        "Health check fast interval",
    ]
    assert sum(x.monthly_usd for x in route53) == pytest.approx(2 * 0.75 + 3 * 2 * 2.00)
    assert not any("fast interval" in x.item for x in slow.lines)
    assert _line(slow, "API Gateway")[0] == pytest.approx(2 * 3 * 2 * MONTH / 30)
    latency = estimate(make_config(), measure_latency=True)
    assert _line(latency, "Health check latency") == (2, 4.00, 0)


def test_switch_readers_and_calculated_checks_are_counted() -> None:
    """Three regions: 3 x 2 readers (HTTPS, string matching) and 3 calculated checks, at
    Route 53's non-AWS-endpoint rate (0.75, 2.00 a feature)."""
    regions = ("us-east-1", "us-west-2", "eu-west-1")
    cost = estimate(make_config(regions=regions))
    assert _line(cost, "Switch reader checks") == pytest.approx((6, 4.50, 0))
    assert _line(cost, "Switch reader HTTPS") == pytest.approx((6, 12.00, 0))
    assert _line(cost, "Switch reader string matching") == pytest.approx((6, 12.00, 0))
    assert not any(x.item == "Switch reader fast interval" for x in cost.lines)
    assert _line(cost, "Calculated health checks") == pytest.approx((3, 2.25, 0))


def test_on_demand_tables_pay_per_deep_ping_read() -> None:
    config = make_config(
        table=TableConfig(billing="on-demand"),
        function=FunctionConfig(deep_ping_percent=25),
        health_check=HealthCheckConfig(
            checker_regions=("us-east-1", "us-west-1", "eu-west-1", "ap-southeast-1")
        ),
    )
    read_units = 2 * 4 * 2 * MONTH / 10 * 0.25 * 0.5
    assert _line(estimate(config), "DynamoDB deep-ping reads") == pytest.approx(
        (read_units, read_units / 1e6 * 0.125, 0)
    )


def test_provisioned_capacity_is_the_autoscaling_floor_unless_pings_need_more() -> None:
    quiet = estimate(make_config())
    assert _line(quiet, "DynamoDB read capacity") == pytest.approx(
        (2 * 720, 2 * 720 * 0.00013, 2 * 720 * 0.00013)  # within 25 free RCU
    )
    assert _line(quiet, "DynamoDB write capacity")[1] == pytest.approx(2 * 720 * 0.00065)
    busy = make_config(  # 8 checker regions, every ping deep, auto scaling aiming at 50%
        function=FunctionConfig(deep_ping_percent=100),
        health_check=HealthCheckConfig(
            checker_regions=(
                "us-east-1", "us-west-1", "us-west-2", "eu-west-1",
                "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1",
            )
        ),
        table=TableConfig(autoscaling=Autoscaling(min=1, max=10, target_percent=50)),
    )  # fmt: skip
    per_region = 8 * 2 / 10 * 1.0 * 0.5  # read units per second in one region
    assert per_region == 0.8
    rcu = 2 * 2  # ceil(0.8 / 0.5) = 2 per region, above the floor of 1
    assert _line(estimate(busy), "DynamoDB read capacity")[0] == rcu * 720


def test_free_tier_is_capped_at_the_usage_and_totals_add_up() -> None:
    config = make_config(alarms=AlarmsConfig(email="ops@example.com"))
    cost = estimate(config)
    assert _line(cost, "SNS e-mail") == pytest.approx(
        (100, 100 / 100_000 * 2.00, 100 / 100_000 * 2.00)
    )
    assert _line(cost, "CloudWatch alarms") == pytest.approx((2, 0.20, 0.20))
    assert cost.monthly_usd == pytest.approx(sum(x.monthly_usd for x in cost.lines))
    assert cost.net_usd == pytest.approx(cost.monthly_usd - cost.free_usd)
    # What is left to pay with the free tier: health checks, and traffic above 1M requests.
    # ... and the switch: 2 readers (basic, HTTPS, string matching) and 2 calculated checks,
    # at Route 53's non-AWS-endpoint rate (0.75, 2.00 a feature).
    expected_net = (
        2 * 0.75 + 3 * 2 * 2.00 + 2 * (0.75 + 2 * 2.00) + 2 * 0.75
        + (3_110_400 - 1e6) / 1e6 * (3.50 + 0.20)
    )  # fmt: skip
    assert cost.net_usd == pytest.approx(expected_net)
    assert not any("SNS" in x.item for x in estimate(make_config()).lines)


def test_x86_functions_use_the_x86_duration_price() -> None:
    x86 = estimate(make_config(function=FunctionConfig(architecture="x86_64")))
    quantity, monthly, _ = _line(x86, "Lambda duration")
    assert monthly == pytest.approx(quantity * 0.0000166667)


def test_json_carries_the_lines_totals_and_the_price_date() -> None:
    data = estimate(make_config()).to_json()
    assert data["prices_taken"] == PRICES["taken"] and data["currency"] == "USD"
    assert {"item", "quantity", "unit", "monthly_usd", "free_usd", "net_usd", "free_tier"} <= set(
        data["lines"][0]
    )
    assert data["net_usd"] == pytest.approx(sum(x["net_usd"] for x in data["lines"]), abs=0.01)
    assert FREE["apigateway_requests"] == 1_000_000


def test_by_default_no_free_tier_is_counted_and_checks_cost_the_non_aws_rate() -> None:
    """Accounts opened on or after 2025-07-15 have no 12-month free tier; Route 53 does
    not say an execute-api host gets its AWS-endpoint rate."""
    cost = list_prices(make_config())
    assert cost.free_usd == 0 and cost.net_usd == cost.monthly_usd
    assert not any(line.free_tier for line in cost.lines)
    assert any("no free tier counted" in a for a in cost.assumptions)
    (checks,) = [x for x in cost.lines if x.item == "Route 53 health checks"]
    assert checks.monthly_usd == pytest.approx(2 * 0.75)
    assert cost.to_json()["free_tier_counted"] is False
    assert list_prices(make_config(), free_tier=True).free_usd > 0
