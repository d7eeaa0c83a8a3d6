"""Monthly cost estimate of a stack, from the config alone (no AWS call): `plan` prints it.

The running cost of this design is mostly what the health checks generate:
Route 53 checkers call `/health` in every stack region several times a second,
and each call is an API Gateway request, a Lambda invocation and a few log
lines, whether anyone uses the application or not. Items are itemised
at list prices. AWS's 12-month free tier does not exist for accounts opened on or after
2025-07-15 (they get credits instead: AWS Free Tier page, https://aws.amazon.com/free/),
so no allowance is counted unless asked for (`plan --free-tier`: the old allowances, as
if the stack were alone in the account).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from failover_cli.config.schema import Config

# us-east-1 list prices in USD as published on the AWS pricing pages at the date below;
# other regions differ slightly. Review them before quoting an estimate.
PRICES: dict[str, Any] = {
    "taken": "2025-01-15",
    "region": "us-east-1",
    # Route 53, per health check per month. Its pricing page (https://aws.amazon.com/route53/
    # pricing/) bills 0.50 / 1.00 per feature for "AWS endpoints" and 0.75 / 2.00 otherwise,
    # and does not say that an API Gateway execute-api host name counts as an AWS endpoint:
    # the higher rate is shown.
    "health_check": 0.75,
    "health_check_feature": 2.00,  # each of HTTPS, string matching, fast interval, latency
    "apigateway_rest_per_million": 3.50,  # REST API requests, first 333 million
    "lambda_requests_per_million": 0.20,
    "lambda_gb_second": {"arm64": 0.0000133334, "x86_64": 0.0000166667},
    "logs_ingest_per_gb": 0.50,  # CloudWatch Logs standard ingestion
    "dynamodb_read_request_per_million": 0.125,  # on-demand read request units
    "dynamodb_rcu_hour": 0.00013,  # provisioned read capacity unit-hour
    "dynamodb_wcu_hour": 0.00065,  # provisioned (and replicated) write capacity unit-hour
    "alarm_standard": 0.10,  # per standard-resolution alarm metric per month
    "sns_email_per_100k": 2.00,
    # Monthly free-tier allowances (per account); API Gateway's lasts 12 months.
    "free": {
        "health_checks": 0,  # not counted: conservative
        "apigateway_requests": 1_000_000,
        "lambda_requests": 1_000_000,
        "lambda_gb_seconds": 400_000,
        "logs_ingest_gb": 5,
        "dynamodb_rcu": 25,
        "dynamodb_wcu": 25,
        "alarms": 10,
        "sns_emails": 1_000,
    },
}

# Assumptions (not prices): each one is shown with the estimate.
MONTH_SECONDS = 30 * 24 * 3600  # a 30-day month
MONTH_HOURS = 30 * 24
# AWS describes about 15 health checkers across its 8 default checker regions (a request
# "about every two seconds" at a 30 s interval): we count 2 checkers per checker region.
CHECKERS_PER_REGION = 2
SHALLOW_PING_MS = 2  # billed Lambda duration of a shallow ping (1 ms granularity)
DEEP_PING_MS = 10  # a deep ping adds one GetItem in the same region
LOG_BYTES_PER_INVOCATION = 400  # START/END/REPORT lines plus CloudWatch's per-event overhead
READ_UNITS_PER_DEEP_PING = 0.5  # eventually consistent GetItem of an item under 4 KB
ALERT_EMAILS_PER_MONTH = 100
GB = 1024**3


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: float  # in `unit`s per month
    unit: str
    price: float  # USD per `per` units
    per: float
    free_units: float  # of `quantity`, what the free tier covers
    free_tier: str  # the allowance in words ("" when none applies)

    @property
    def monthly_usd(self) -> float:
        return self.quantity / self.per * self.price

    @property
    def free_usd(self) -> float:
        return min(self.quantity, self.free_units) / self.per * self.price

    @property
    def net_usd(self) -> float:
        return self.monthly_usd - self.free_usd

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "monthly_usd": round(self.monthly_usd, 4),
            "free_usd": round(self.free_usd, 4),
            "net_usd": round(self.net_usd, 4),
        }


@dataclass(frozen=True)
class CostEstimate:
    lines: tuple[CostLine, ...]
    assumptions: tuple[str, ...]
    excluded: tuple[str, ...]
    prices_taken: str = PRICES["taken"]
    caps: tuple[str, ...] = ()  # what bounds the traffic nobody estimated (api.throttle, ...)
    free_tier: bool = False  # the old free tier's allowances counted (asked for)

    @property
    def monthly_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    @property
    def free_usd(self) -> float:
        return sum(line.free_usd for line in self.lines)

    @property
    def net_usd(self) -> float:
        return self.monthly_usd - self.free_usd

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": "USD",
            "prices_taken": self.prices_taken,
            "prices_region": PRICES["region"],
            "lines": [line.to_json() for line in self.lines],
            "monthly_usd": round(self.monthly_usd, 2),
            "free_tier_counted": self.free_tier,
            "free_tier_usd": round(self.free_usd, 2),
            "net_usd": round(self.net_usd, 2),
            "assumptions": list(self.assumptions),
            "excluded": list(self.excluded),
            "caps": list(self.caps),
        }


def checker_requests(config: Config) -> float:
    """Health-check requests per month to ONE stack region's API (checkers alone)."""
    hc = config.health_check
    checkers = len(set(hc.checker_regions)) * CHECKERS_PER_REGION
    return checkers * MONTH_SECONDS / hc.interval_s


def estimate(
    config: Config, *, measure_latency: bool = False, free_tier: bool = False
) -> CostEstimate:
    """The itemised monthly estimate (the stack never turns latency measurement on)."""
    free = PRICES["free"]
    regions = len(config.regions)
    requests = checker_requests(config) * regions
    deep_share = config.function.deep_ping_percent / 100
    lines = [
        *_health_check_lines(config, measure_latency),
        CostLine(
            "API Gateway requests", requests, "requests",
            PRICES["apigateway_rest_per_million"], 1e6, free["apigateway_requests"],
            "1M REST requests/month, first 12 months",
        ),
        CostLine(
            "Lambda requests", requests, "requests",
            PRICES["lambda_requests_per_million"], 1e6, free["lambda_requests"],
            "1M requests/month",
        ),
        CostLine(
            "Lambda duration",
            requests * config.function.memory_mb / 1024
            * (SHALLOW_PING_MS * (1 - deep_share) + DEEP_PING_MS * deep_share) / 1000,
            "GB-seconds", PRICES["lambda_gb_second"][config.function.architecture], 1,
            free["lambda_gb_seconds"], "400,000 GB-seconds/month",
        ),
        CostLine(
            "CloudWatch Logs ingestion", requests * LOG_BYTES_PER_INVOCATION / GB,
            "GB", PRICES["logs_ingest_per_gb"], 1, free["logs_ingest_gb"], "5 GB/month",
        ),
        *_dynamodb_lines(config, requests * deep_share),
        CostLine(
            "CloudWatch alarms", regions, "alarms",
            PRICES["alarm_standard"], 1, free["alarms"], "10 alarms/month",
        ),
    ]  # fmt: skip
    if config.alarms.email:
        lines.append(
            CostLine(
                "SNS e-mails", ALERT_EMAILS_PER_MONTH, "e-mails",
                PRICES["sns_email_per_100k"], 100_000, free["sns_emails"], "1,000 e-mails/month",
            )
        )  # fmt: skip
    if config.access is not None and config.access.auto_refresh:
        lines += _refresher_lines(config)
    if not free_tier:  # accounts opened on or after 2025-07-15 have none of it
        lines = [replace(line, free_units=0, free_tier="") for line in lines]
    assumptions = _assumptions(config, free_tier)
    return CostEstimate(
        tuple(lines), assumptions, _EXCLUDED, caps=_caps(config), free_tier=free_tier
    )


# access.auto_refresh: AWS announces range changes on AmazonIpSpaceChanged a few times a
# week at most; each run reads the document and checks every region's API.
REFRESHER_RUNS_PER_MONTH = 30
REFRESHER_RUN_SECONDS = 2.0
REFRESHER_MEMORY_GB = 128 / 1024


def _refresher_lines(config: Config) -> list[CostLine]:
    """The refresher's runs; no free tier counted (the stack's function uses it)."""
    runs = REFRESHER_RUNS_PER_MONTH
    return [
        CostLine(
            "Allow-list refresher requests", runs, "requests",
            PRICES["lambda_requests_per_million"], 1e6, 0, "",
        ),
        CostLine(
            "Allow-list refresher duration", runs * REFRESHER_RUN_SECONDS * REFRESHER_MEMORY_GB,
            "GB-seconds", PRICES["lambda_gb_second"]["x86_64"], 1, 0, "",
        ),
    ]  # fmt: skip


def _health_check_lines(config: Config, measure_latency: bool) -> list[CostLine]:
    checks = len(config.regions)
    features = ["HTTPS", "string matching"]
    if config.health_check.interval_s == 10:
        features.append("fast interval")
    if measure_latency:
        features.append("latency measurement")
    basic = CostLine(
        "Route 53 health checks", checks, "checks", PRICES["health_check"], 1,
        PRICES["free"]["health_checks"], "",
    )  # fmt: skip
    readers = checks * (checks - 1)
    reader_features = ["HTTPS", "string matching"]
    if config.switch.interval_s == 10:
        reader_features.append("fast interval")
    return [basic] + [
        CostLine(f"Health check {f}", checks, "checks",
                 PRICES["health_check_feature"], 1, 0, "")
        for f in features
    ] + [
        CostLine("Switch reader checks", readers, "checks", PRICES["health_check"], 1, 0, ""),
        *(CostLine(f"Switch reader {f}", readers, "checks",
                   PRICES["health_check_feature"], 1, 0, "") for f in reader_features),
        # CALCULATED checks are billed as basic checks with no optional feature.
        CostLine("Calculated health checks", checks, "checks", PRICES["health_check"], 1, 0, ""),
    ]  # fmt: skip


def _dynamodb_lines(config: Config, deep_pings: float) -> list[CostLine]:
    read_units = deep_pings * READ_UNITS_PER_DEEP_PING
    free = PRICES["free"]
    if config.table.billing == "on-demand":
        return [
            CostLine(
                "DynamoDB deep-ping reads", read_units, "read units",
                PRICES["dynamodb_read_request_per_million"], 1e6, 0, "",
            )
        ]  # fmt: skip
    # Provisioned: the deep pings use capacity that auto scaling keeps at least at its minimum.
    reads = CostLine(
        "DynamoDB deep-ping reads", read_units, "read units", 0.0, 1, 0, "",
    )  # fmt: skip
    scaling = config.table.autoscaling
    per_region_rcu = read_units / len(config.regions) / MONTH_SECONDS
    needed = math.ceil(per_region_rcu / (scaling.target_percent / 100))
    rcu = max(scaling.min, needed) * len(config.regions)
    wcu = scaling.min * len(config.regions)
    return [
        reads,
        CostLine(
            "DynamoDB read capacity", rcu * MONTH_HOURS, "RCU-hours",
            PRICES["dynamodb_rcu_hour"], 1, free["dynamodb_rcu"] * MONTH_HOURS,
            "25 RCU, always",
        ),
        CostLine(
            "DynamoDB write capacity", wcu * MONTH_HOURS, "WCU-hours",
            PRICES["dynamodb_wcu_hour"], 1, free["dynamodb_wcu"] * MONTH_HOURS,
            "25 WCU, always",
        ),
    ]  # fmt: skip


def _assumptions(config: Config, free_tier: bool) -> tuple[str, ...]:
    hc = config.health_check
    return (
        f"prices: {PRICES['region']} list prices taken {PRICES['taken']}",
        f"{CHECKERS_PER_REGION} Route 53 checkers per checker region "
        f"({len(set(hc.checker_regions))} regions) call each stack region every "
        f"{hc.interval_s} s: {checker_requests(config):,.0f} requests per region per 30-day month",
        f"billed Lambda duration {SHALLOW_PING_MS} ms per shallow ping, {DEEP_PING_MS} ms per "
        f"deep ping ({config.function.deep_ping_percent}% deep)",
        f"{LOG_BYTES_PER_INVOCATION} bytes of logs per invocation",
        "health checks billed at Route 53's non-AWS-endpoint rate (its pricing page does not "
        "say an execute-api host name gets the AWS-endpoint rate); no free health checks",
        "the old 12-month free tier counted as if the stack were alone in the account "
        "(accounts opened before 2025-07-15)"
        if free_tier
        else "no free tier counted (accounts opened on or after 2025-07-15 have credits "
        "instead; --free-tier counts the old allowances)",
        *(
            ["deep-ping reads fit in the provisioned read capacity (auto scaling floor or more)"]
            if config.table.billing == "provisioned"
            else []
        ),
        *([f"{ALERT_EMAILS_PER_MONTH} alert e-mails per month"] if config.alarms.email else []),
        *(
            [
                f"access.auto_refresh: {REFRESHER_RUNS_PER_MONTH} range changes a month, "
                f"{REFRESHER_RUN_SECONDS:g} s at 128 MB each"
            ]
            if config.access is not None and config.access.auto_refresh
            else []
        ),
    )


def _caps(config: Config) -> tuple[str, ...]:
    """The worst case the open API allows: anyone may call it, up to the stage throttle."""
    throttle = config.api.throttle
    regions = len(config.regions)
    most = throttle.rate * MONTH_SECONDS * regions
    per_request = (
        PRICES["apigateway_rest_per_million"] + PRICES["lambda_requests_per_million"]
    ) / 1e6
    reserved = config.function.reserved_concurrency
    return (
        f"api.throttle: {throttle.rate} requests/s (bursts of {throttle.burst}) per region, "
        f"so callers can send at most {most / 1e6:,.1f}M requests a month in all: about "
        f"{most * per_request:,.2f} USD of API Gateway and Lambda requests, plus duration",
        (
            f"function.reserved_concurrency: at most {reserved} concurrent runs per region, "
            "kept for the function"
            if reserved is not None
            else "no function.reserved_concurrency: the function shares the account's "
            "concurrency (1,000 per region by default) with everything else"
        ),
    )


_EXCLUDED = (
    "application traffic (only what the health checks generate is estimated)",
    "Route 53 hosted zone and DNS queries (the zone exists before the stack)",
    "DynamoDB storage, streams and replicated writes of application data",
    "data transfer (health answers are a few hundred bytes)",
    "ACM public certificates and API Gateway custom domains (no charge)",
)
