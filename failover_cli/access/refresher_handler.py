"""The self-refreshing allow-list (`access.auto_refresh: true`): a Lambda function in us-east-1.

Subscribed to AWS's SNS topic `AmazonIpSpaceChanged`, it runs whenever AWS
publishes new ranges: reads the document (IP_RANGES_URL), checks it against the
notification's md5, builds the same
policy `up` builds (statement.py, shipped in the same zip) and, in each region
whose deployed allow-list differs, writes it, deploys the stage and sets the
stage's throttling again, as `failover refresh-ip-ranges` does. It never
writes an empty or oversized list: such a document is logged and skipped, and
the deployed list stays. Standard library and boto3 only (the Lambda runtime's).

Its settings come from one environment variable, SETTINGS (JSON): stack, api
name, stage, regions, checker regions, the operator's CIDRs, the guarded
resources and the throttle.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from typing import Any

from failover_cli.access.statement import (
    MAX_POLICY_BYTES,
    AllowList,
    checker_prefixes,
    comparable,
    deployment_description,
    document_problem,
    merge,
    policy_size,
    policy_text,
    read_policy,
)

STACK_TAG = "failover:stack"
TIMEOUT_S = 10.0


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = json.loads(os.environ["SETTINGS"])
    with urllib.request.urlopen(os.environ["IP_RANGES_URL"], timeout=TIMEOUT_S) as answer:
        data = answer.read()
    problem = _not_announced(event, data)
    if problem:
        print(f"the ranges document {problem}: nothing changed")
        return {"changed": []}
    document = json.loads(data)
    found = checker_prefixes(document, settings["checker_regions"])
    problem = document_problem(found, settings["checker_regions"])
    if problem:
        print(f"the ranges document {problem}: nothing changed")
        return {"changed": []}
    checkers = [cidr for _, cidr in found]
    wanted = AllowList(
        merge([*settings["cidrs"], *checkers]),
        tuple(settings["resources"]),
        str(document.get("syncToken", "")),
    )
    text = policy_text(wanted)
    if policy_size(text) > MAX_POLICY_BYTES:
        print(f"the allow-list would take {policy_size(text)} bytes (> 8192): nothing changed")
        return {"changed": []}
    changed = [r for r in settings["regions"] if _converge(r, settings, wanted, text)]
    print(f"allow-list of ranges {wanted.sync_token}: changed in {changed or 'no region'}")
    return {"changed": changed}


def _not_announced(event: dict[str, Any], data: bytes) -> str | None:
    """Why the downloaded document is not the one AWS's notification announced (None: it
    is). The notification carries the document's MD5 (AWS General Reference, "AWS IP
    address ranges notifications"): a document that differs (changed in transit, or
    already replaced by a newer one, which brings its own notification) is not used. An
    invocation without a notification (an operator's test) has nothing to compare."""
    records = [r for r in event.get("Records") or [] if isinstance(r, dict) and "Sns" in r]
    if not records:
        return None
    try:
        announced = str(json.loads(records[-1]["Sns"]["Message"])["md5"]).lower()
    except (KeyError, TypeError, ValueError):
        return "was announced without an md5 to check it against"
    found = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if found != announced:
        return f"has md5 {found}, not the {announced} announced"
    return None


def _converge(region: str, settings: dict[str, Any], wanted: AllowList, text: str) -> bool:
    import boto3

    api_gateway = boto3.client("apigateway", region_name=region)
    api = _stack_api(api_gateway, settings)
    if api is None or comparable(read_policy(api.get("policy"))) == comparable(wanted):
        return False
    api_id, stage = api["id"], settings["stage"]
    operation = {"op": "replace", "path": "/policy", "value": text}
    api_gateway.update_rest_api(restApiId=api_id, patchOperations=[operation])
    api_gateway.create_deployment(
        restApiId=api_id,
        stageName=stage,
        description=deployment_description("allow-list by failover auto_refresh", text),
    )
    limits = [
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(settings["rate"])},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(settings["burst"])},
    ]
    api_gateway.update_stage(restApiId=api_id, stageName=stage, patchOperations=limits)
    return True


def _stack_api(api_gateway: Any, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The stack's API: its name and ownership tag (the oldest, as `up` picks)."""
    found: list[dict[str, Any]] = []
    for page in api_gateway.get_paginator("get_rest_apis").paginate():
        found += [
            a
            for a in page.get("items", [])
            if a.get("name") == settings["api_name"]
            and (a.get("tags") or {}).get(STACK_TAG) == settings["stack"]
        ]
    return min(found, key=lambda a: str(a.get("createdDate", ""))) if found else None
