"""The API stage's default throttling (`api.throttle`), as a field of the API resource.

The API has no authorizer (`AUTHORIZATION NONE` on `ANY /{proxy+}`): anyone who
finds its URL can make the function run, billed, as fast as they like. Stage
method settings for every method (`*/*`) cap that at `rate` requests per second
with bursts of `burst`; past them API Gateway answers 429 without invoking the
function (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
"""

from __future__ import annotations

from typing import Any

from failover_cli.config.schema import Throttle

ALL_METHODS = "*/*"  # methodSettings key (and patch path prefix) for every resource and method


def describe(throttle: Throttle) -> str:
    """The compared value: how `plan` shows it, e.g. "50 requests/s, burst 100"."""
    return _text(throttle.rate, throttle.burst)


def observed(stage: dict[str, Any] | None) -> str | None:
    """The stage's default throttling in `describe`'s form; None without stage or settings."""
    settings = ((stage or {}).get("methodSettings") or {}).get(ALL_METHODS) or {}
    rate, burst = settings.get("throttlingRateLimit"), settings.get("throttlingBurstLimit")
    if rate is None or burst is None:
        return None
    return _text(rate, burst)


def patch_operations(throttle: Throttle) -> list[dict[str, str]]:
    """UpdateStage operations that set the default throttling of every method."""
    return [
        {
            "op": "replace",
            "path": f"/{ALL_METHODS}/throttling/rateLimit",
            "value": str(throttle.rate),
        },
        {
            "op": "replace",
            "path": f"/{ALL_METHODS}/throttling/burstLimit",
            "value": str(throttle.burst),
        },
    ]


def _text(rate: float, burst: float) -> str:
    # API Gateway reports the rate as a double (50.0): show whole numbers as such.
    shown = int(rate) if float(rate).is_integer() else rate
    return f"{shown} requests/s, burst {int(burst)}"
