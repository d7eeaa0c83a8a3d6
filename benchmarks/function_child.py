"""Run in a fresh interpreter by `benchmarks.function`: time the Lambda handler's pings.

    python -m benchmarks.function_child BUNDLE_DIR SHALLOW_CALLS DEEP_CALLS

The bundle's modules (handler, settings, routing...) are top-level names, as
on Lambda, so they get a process of their own. The deep ping reads the seed
item from a table in moto's in-process `mock_aws` (no network): its time is
the handler's plus botocore's and moto's, not a DynamoDB round trip. Prints
one JSON object.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

SECRET = "benchmark-secret-0123456789abcdef"
TABLE, KEY, ATTRIBUTE = "prod.Hello", "HelloKey", "Hello"
REGION = "us-east-1"


def event(deep: bool) -> dict[str, Any]:
    query = {"healthCheckerId": SECRET, **({"deep": "true"} if deep else {})}
    return {
        "httpMethod": "GET",
        "path": "/health",
        "resource": "/{proxy+}",
        "pathParameters": {"proxy": "health"},
        "queryStringParameters": query,
        "headers": {"Host": "example.execute-api.us-east-1.amazonaws.com"},
        "body": None,
    }


def timed(call: Callable[[], dict[str, Any]], times: int, expect: str) -> list[float]:
    seconds = []
    for _ in range(times):
        started = time.perf_counter_ns()
        answer = call()
        seconds.append((time.perf_counter_ns() - started) / 1e9)
        if answer["statusCode"] != 200 or f'"ping": "{expect}"' not in answer["body"]:
            raise RuntimeError(f"unexpected {expect} ping answer: {answer}")
    return seconds


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "calls": len(ordered),
        "median_s": statistics.median(ordered),
        "p99_s": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "min_s": ordered[0],
    }


def main(bundle: str, shallow_calls: int, deep_calls: int) -> dict[str, Any]:
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "HEALTH_CHECKER_ID": SECRET,
            "DEEP_PING_PERCENT": "0",
            "TABLE_NAME": TABLE,
        }
    )
    sys.path.insert(0, bundle)
    import handler

    def shallow() -> dict[str, Any]:
        return handler.handler(event(False), None)

    def deep() -> dict[str, Any]:
        return handler.handler(event(True), None)

    shallow_seconds = timed(shallow, shallow_calls, "shallow")
    if "boto3" in sys.modules:
        raise RuntimeError("a shallow ping imported boto3")

    import boto3
    from moto import mock_aws

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(
            TableName=TABLE, Item={KEY: {"S": "Hello"}, ATTRIBUTE: {"S": "Deep hello from "}}
        )
        first = timed(deep, 1, "deep")[0]  # builds the DynamoDB client, once per container
        deep_seconds = timed(deep, deep_calls, "deep")
    return {
        "shallow": summary(shallow_seconds),
        "deep_first_s": first,
        "deep": summary(deep_seconds),
    }


if __name__ == "__main__":
    folder, shallow_n, deep_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(main(folder, shallow_n, deep_n)))
