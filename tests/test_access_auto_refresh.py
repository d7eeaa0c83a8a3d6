"""`access.auto_refresh: true` on a sandbox (--time-scale 10): the function subscribed to
AWS's AmazonIpSpaceChanged rewrites the allow-list by itself when the ranges change, and
turning it off (`up`) or `down` leaves no function, role, log group or subscription."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from failover_cli.access.policy import read_policy
from failover_cli.sandbox.iam_policy import Policy
from tests.conftest import launch_sandbox_process
from tests.e2e_helpers import client, failover, unique_stack, write_config
from tests.sandbox_api_helpers import eventually, http

pytestmark = pytest.mark.sandbox

REGIONS = ("us-east-1", "us-west-2")
TOPIC = "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged"
ACCESS = (
    "health_check:\n  interval_s: 10\n"
    "access:\n  allow: [route53-health-checkers, 198.51.100.0/24]\n  auto_refresh: true\n"
)
GONE = {"function": None, "role": False, "log_group": False, "subscriptions": []}


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    process = launch_sandbox_process(tmp_path / "sandbox", "--time-scale", "10")
    try:
        process.wait_until_ready()
        endpoint = process.endpoint
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        monkeypatch.setenv("FAILOVER_RESOLVE", f"*={endpoint}")
        monkeypatch.setenv("FAILOVER_IP_RANGES", f"{endpoint}/_sandbox/ip-ranges.json")
        yield endpoint
    finally:
        process.stop()


def refresher_pieces(endpoint: str, stack: str) -> dict[str, Any]:
    """What of the refresher exists: function, role, log group, subscription."""
    name = f"{stack}-ip-ranges"
    functions = client("lambda", "us-east-1", endpoint).list_functions()["Functions"]
    function = next((f for f in functions if f["FunctionName"] == name), None)
    roles = client("iam", "us-east-1", endpoint).list_roles()["Roles"]
    groups = client("logs", "us-east-1", endpoint).describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{name}"
    )["logGroups"]
    subscriptions = client("sns", "us-east-1", endpoint).list_subscriptions()["Subscriptions"]
    return {
        "function": function,
        "role": name in [r["RoleName"] for r in roles],
        "log_group": bool(groups),
        "subscriptions": [s for s in subscriptions if s["TopicArn"] == TOPIC],
    }


def deployed(endpoint: str, stack: str, region: str) -> tuple[str, ...]:
    ag = client("apigateway", region, endpoint)
    api = next(a for a in ag.get_rest_apis()["items"] if a["name"] == stack)
    found = read_policy(api.get("policy"))
    return found.cidrs if found else ()


def role_actions(endpoint: str, name: str) -> set[str]:
    iam = client("iam", "us-east-1", endpoint)
    document = iam.get_role_policy(RoleName=name, PolicyName=name)["PolicyDocument"]
    return {
        action
        for statement in document["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }


def api_id(endpoint: str, stack: str, region: str = "us-west-2") -> str:
    apis = client("apigateway", region, endpoint).get_rest_apis()["items"]
    return str(next(a["id"] for a in apis if a["name"] == stack))


def reaches_only_its_own_apis(endpoint: str, stack: str) -> None:
    """The refresher's role may write the stack's APIs (policy, deployments, stage) and
    nothing else: not another API of the account, not another stage (issue 22 item 6)."""
    name = f"{stack}-ip-ranges"
    iam = client("iam", "us-east-1", endpoint)
    document = iam.get_role_policy(RoleName=name, PolicyName=name)["PolicyDocument"]
    policy = Policy.parse(json.dumps(document))
    for region in REGIONS:
        own = f"arn:aws:apigateway:{region}::/restapis/{api_id(endpoint, stack, region)}"
        other = f"arn:aws:apigateway:{region}::/restapis/someoneelse"
        assert policy.allows("apigateway:UpdateRestApiPolicy", own)
        assert policy.allows("apigateway:PATCH", own)
        assert policy.allows("apigateway:POST", f"{own}/deployments")
        assert policy.allows("apigateway:PATCH", f"{own}/stages/prod")
        assert policy.allows("apigateway:GET", f"arn:aws:apigateway:{region}::/restapis")
        for action, resource in (
            ("apigateway:UpdateRestApiPolicy", other),
            ("apigateway:PATCH", other),
            ("apigateway:POST", f"{other}/deployments"),
            ("apigateway:PATCH", f"{own}/stages/other"),
            ("apigateway:DELETE", own),
            ("apigateway:POST", f"{own}/resources/r1/methods/GET"),
        ):
            assert not policy.allows(action, resource), (action, resource)


def test_the_function_follows_aws_announcements_and_goes_when_turned_off_or_down(
    sandbox: str, tmp_path: Path
) -> None:
    stack = unique_stack("auto")
    config = write_config(tmp_path, stack, ACCESS)
    try:
        run = failover(config, "up")
        assert run.exit_code == 0, run.stderr
        pieces = refresher_pieces(sandbox, stack)
        function = pieces["function"]
        assert function is not None and pieces["role"] and pieces["log_group"]
        assert [s["Endpoint"] for s in pieces["subscriptions"]] == [function["FunctionArn"]]
        assert role_actions(sandbox, f"{stack}-ip-ranges") == {
            "apigateway:GET", "apigateway:PATCH", "apigateway:POST",
            "apigateway:UpdateRestApiPolicy", "logs:CreateLogStream", "logs:PutLogEvents",
        }  # fmt: skip
        reaches_only_its_own_apis(sandbox, stack)
        again = failover(config, "up")
        assert again.exit_code == 0 and again.mutating == [], again.mutating
        # The API made anew (another id): `up` points the role at it, and only at it.
        client("apigateway", "us-west-2", sandbox).delete_rest_api(restApiId=api_id(sandbox, stack))
        remade = failover(config, "up")
        assert remade.exit_code == 0, remade.stderr
        reaches_only_its_own_apis(sandbox, stack)

        new = "15.177.64.0/23"
        changed = http(f"{sandbox}/_sandbox/ip-ranges.json").json()
        changed["syncToken"] = str(int(changed["syncToken"]) + 60)
        changed["prefixes"].append(
            {"ip_prefix": new, "region": "us-east-1", "service": "ROUTE53_HEALTHCHECKS"}
        )
        body = json.dumps(changed).encode()
        assert http(f"{sandbox}/_sandbox/ip-ranges", method="POST", body=body).status == 200
        for region in REGIONS:  # no command run: AWS's announcement did it
            eventually(lambda r=region: new in deployed(sandbox, stack, r), f"{new} in {region}")
        assert "predates" not in failover(config, "status").stderr

        off = write_config(tmp_path, stack, ACCESS.replace("refresh: true", "refresh: false"))
        turned_off = failover(off, "up")
        assert turned_off.exit_code == 0, turned_off.stderr
        assert refresher_pieces(sandbox, stack) == GONE
        assert failover(off, "up").mutating == []  # off and gone: nothing to do

        config = write_config(tmp_path, stack, ACCESS)
        assert failover(config, "up").exit_code == 0  # on again; then down removes it
        assert refresher_pieces(sandbox, stack)["function"] is not None
        down = failover(config, "down", "--yes")
        assert down.exit_code == 0, down.stderr
        assert refresher_pieces(sandbox, stack) == GONE
    finally:
        failover(config, "down", "--yes")
