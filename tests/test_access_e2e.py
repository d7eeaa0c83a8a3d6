"""The IP allow-list end to end on a sandbox (--time-scale 10): up, the policy, the callers.

One sandbox and one stack for the module, brought up by the fixture; a test that
changes the config, the ranges document or the stack puts it back. The stack's
config allows the health checkers and the operator's 198.51.100.0/24 on /health;
192.0.2.77 plays the stranger.
Callers name their address with X-Forwarded-For, the sandbox's test device.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from failover_cli.access.policy import merge, read_policy
from tests.conftest import launch_sandbox_process
from tests.e2e_helpers import Run, client, failover, unique_stack, write_config
from tests.faults import Fault, Rule
from tests.sandbox_api_helpers import api_get, eventually, http
from tests.step_faults import interrupted

# One worker runs the whole module: its stack (a module fixture) is then built once
# (`--dist loadgroup`, pyproject's addopts).
pytestmark = [pytest.mark.sandbox, pytest.mark.xdist_group("access_e2e")]

REGIONS = ("us-east-1", "us-west-2")
CHECKERS = ("us-east-1", "us-west-1", "us-west-2")
STRANGER, OPERATOR = "192.0.2.77", "198.51.100.7"
ACCESS = "access:\n  allow: [route53-health-checkers, 198.51.100.0/24]\n  routes: health\n"
HEALTH_CHECK = "health_check:\n  interval_s: 10\n"


@dataclass
class Stack:
    endpoint: str
    folder: Path
    name: str
    config: Path
    first_up: Run | None = None

    def write(self, access: str = ACCESS) -> Path:
        return write_config(self.folder, self.name, HEALTH_CHECK + access)


def environment(patch: pytest.MonkeyPatch, endpoint: str, folder: Path) -> None:
    patch.setenv("AWS_ENDPOINT_URL", endpoint)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        patch.setenv(name, "testing")
    patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    patch.setenv("FAILOVER_RESOLVE", f"*={endpoint}")
    patch.setenv("FAILOVER_IP_RANGES", f"{endpoint}/_sandbox/ip-ranges.json")
    patch.setenv("XDG_CACHE_HOME", str(folder / "cache"))


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("access")
    process = launch_sandbox_process(folder / "sandbox", "--time-scale", "10")
    try:
        process.wait_until_ready()
        name = unique_stack("acl")
        made = Stack(process.endpoint, folder, name, folder / "failover.yaml")
        made.config = made.write()
        with pytest.MonkeyPatch.context() as patch:
            environment(patch, made.endpoint, folder)
            made.first_up = failover(made.config, "up")
        yield made
        with pytest.MonkeyPatch.context() as patch:
            environment(patch, made.endpoint, folder)
            failover(made.config, "down", "--yes")
    finally:
        process.stop()


@pytest.fixture
def stack(shared: Stack, monkeypatch: pytest.MonkeyPatch) -> Stack:
    environment(monkeypatch, shared.endpoint, shared.folder)
    return shared


def secret(stack: Stack) -> str:
    lam = client("lambda", REGIONS[0], stack.endpoint)
    env = lam.get_function_configuration(FunctionName=f"{stack.name}-fn")["Environment"]
    return str(env["Variables"]["HEALTH_CHECKER_ID"])


def api_id(stack: Stack, region: str) -> str:
    apis = client("apigateway", region, stack.endpoint).get_rest_apis()["items"]
    return str(next(a["id"] for a in apis if a["name"] == stack.name))


def call(stack: Stack, region: str, route: str, caller: str) -> Any:
    path = f"/prod/{route}?healthCheckerId={secret(stack)}"
    return api_get(
        stack.endpoint, api_id(stack, region), region, path, headers={"X-Forwarded-For": caller}
    )


def document(stack: Stack) -> dict[str, Any]:
    parsed: dict[str, Any] = http(f"{stack.endpoint}/_sandbox/ip-ranges.json").json()
    return parsed


def served_checker_prefixes(stack: Stack) -> list[str]:
    doc = document(stack)
    wanted = {*CHECKERS, "GLOBAL"}
    return [
        p["ip_prefix"]
        for p in doc["prefixes"]
        if p["service"] == "ROUTE53_HEALTHCHECKS" and p["region"] in wanted
    ] + [
        p["ipv6_prefix"]
        for p in doc["ipv6_prefixes"]
        if p["service"] == "ROUTE53_HEALTHCHECKS" and p["region"] in wanted
    ]


def deployed_cidrs(stack: Stack, region: str) -> tuple[str, ...]:
    ag = client("apigateway", region, stack.endpoint)
    found = read_policy(ag.get_rest_api(restApiId=api_id(stack, region)).get("policy"))
    assert found is not None, region
    return found.cidrs


def test_up_writes_the_allow_list_and_says_what_it_holds(stack: Stack) -> None:
    run = stack.first_up
    assert run is not None and run.exit_code == 0, run and run.stderr + run.stdout
    date = document(stack)["createDate"]
    wanted = merge([*served_checker_prefixes(stack), "198.51.100.0/24"])
    assert f"IP allow-list on /health: {len(wanted)} prefixes" in run.stderr
    assert f"ip-ranges.json of {date[:10]}" in run.stderr
    for region in REGIONS:  # every region's policy names the served checker prefixes
        assert deployed_cidrs(stack, region) == wanted


def test_a_stranger_is_refused_on_health_and_the_operator_passes(stack: Stack) -> None:
    for region in REGIONS:
        refused = call(stack, region, "health", STRANGER)
        assert refused.status == 403, region
        assert refused.json()["Message"].startswith(
            "User: anonymous is not authorized to perform: execute-api:Invoke"
        )
        assert call(stack, region, "health", OPERATOR).status == 200
        hello = call(stack, region, "hello", STRANGER)  # not restricted
        assert (hello.status, hello.json()["region"]) == (200, region)


def test_health_checks_stay_healthy_behind_the_allow_list(stack: Stack) -> None:
    eventually(lambda: failover(stack.config, "status").exit_code == 0, "a healthy stack")
    # This machine (127.0.0.1) is not listed: status's own probe is refused, and says so
    # without counting the region unhealthy.
    shown = json.loads(failover(stack.config, "status", "--json").stdout)
    for region in shown["regions"]:
        assert region["healthy"] and region["probe"]["shallow"]["refused_by_allow_list"]


def test_a_second_up_makes_no_mutating_call(stack: Stack) -> None:
    run = failover(stack.config, "up")
    assert run.exit_code == 0, run.stderr
    assert run.mutating == []


def health_check_ids(stack: Stack) -> list[str]:
    run = failover(stack.config, "status", "--json")
    return [r["health_check"]["id"] for r in json.loads(run.stdout)["regions"]]


def lowest_status(check_id: str, endpoint: str) -> float | None:
    """The check's HealthCheckStatus Minimum since it exists (None: no datapoint yet)."""
    now = datetime.now(UTC)
    points = client("cloudwatch", "us-east-1", endpoint).get_metric_statistics(
        Namespace="AWS/Route53",
        MetricName="HealthCheckStatus",
        Dimensions=[{"Name": "HealthCheckId", "Value": check_id}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=3600,
        Statistics=["Minimum"],
    )["Datapoints"]
    return points[0]["Minimum"] if points else None


def test_a_deny_turned_into_an_allow_is_drift_that_up_rewrites(stack: Stack) -> None:
    """The whole policy is compared, not only its CIDRs and routes."""
    region = REGIONS[0]
    ag = client("apigateway", region, stack.endpoint)
    api = api_id(stack, region)
    document = json.loads(str(ag.get_rest_api(restApiId=api)["policy"]).replace('\\"', '"'))
    for statement in document["Statement"]:
        if statement["Effect"] == "Deny":
            statement["Effect"] = "Allow"  # everyone in, CIDRs and routes untouched
    edit = {"op": "replace", "path": "/policy", "value": json.dumps(document)}
    ag.update_rest_api(restApiId=api, patchOperations=[edit])
    plan = failover(stack.config, "plan")
    assert plan.exit_code == 0, plan.stderr
    assert "changed by hand" in plan.stdout, plan.stdout
    run = failover(stack.config, "up")
    assert run.exit_code == 0, run.stderr
    deployed = read_policy(ag.get_rest_api(restApiId=api).get("policy"))
    assert deployed is not None and deployed.exact
    assert failover(stack.config, "plan", "--detailed-exitcode").exit_code == 0


def test_a_new_checker_prefix_is_warned_about_then_refreshed_without_a_failed_check(
    stack: Stack,
) -> None:
    new = "15.177.64.0/23"
    before = document(stack)
    changed = json.loads(json.dumps(before))
    changed["syncToken"] = str(int(before["syncToken"]) + 3600)
    changed["createDate"] = "2033-05-18-03-33-20"
    changed["prefixes"].append(
        {"ip_prefix": new, "region": "us-west-1", "service": "ROUTE53_HEALTHCHECKS"}
    )
    checks = health_check_ids(stack)
    try:
        assert (
            http(
                f"{stack.endpoint}/_sandbox/ip-ranges",
                method="POST",
                body=json.dumps(changed).encode(),
            ).status
            == 200
        )
        status = failover(stack.config, "status")
        assert status.exit_code == 0, status.stdout + status.stderr
        for region in REGIONS:
            assert (
                f"{region}: the IP allow-list predates the current ip-ranges.json" in status.stderr
            )
        assert f"+{new}" in status.stderr and "failover refresh-ip-ranges" in status.stderr

        # Ctrl-C right after the first policy write took effect: exit 130 (the writes in
        # flight end first, as before the process exits); the re-run finishes the job.
        policy = ("apigateway:UpdateRestApi",)
        first_write = Rule(Fault.SIGINT, operations=policy, regions=(REGIONS[0],), after=True)
        cut, injector = interrupted(stack.config, ("refresh-ip-ranges",), first_write)
        assert injector.total() == 1, injector.summary()
        assert cut.exit_code == 130 and "Traceback" not in cut.stderr, cut.stderr

        refreshed = failover(stack.config, "refresh-ip-ranges")
        assert refreshed.exit_code == 0, refreshed.stderr
        said = refreshed.stdout
        done = said.count("allow-list updated, stage redeployed") + said.count("unchanged")
        assert done == len(REGIONS), said
        for region in REGIONS:
            assert new in deployed_cidrs(stack, region)
            assert deployed_cidrs(stack, region) == merge(
                [*served_checker_prefixes(stack), "198.51.100.0/24"]
            )
        again = failover(stack.config, "refresh-ip-ranges")
        assert again.exit_code == 0 and again.mutating == []
        assert again.stdout.count("allow-list unchanged") == len(REGIONS)
        quiet = failover(stack.config, "status")
        assert quiet.exit_code == 0 and "warning" not in quiet.stderr
        # Route 53 never saw the stack fail while its allow-list changed.
        for check in checks:
            eventually(lambda c=check: lowest_status(c, stack.endpoint) is not None, "a datapoint")
            assert lowest_status(check, stack.endpoint) == 1.0
    finally:
        http(
            f"{stack.endpoint}/_sandbox/ip-ranges", method="POST", body=json.dumps(before).encode()
        )
        failover(stack.config, "refresh-ip-ranges")


def test_a_refresh_cut_between_the_policy_write_and_the_redeployment_redeploys_on_rerun(
    stack: Stack,
) -> None:
    before = document(stack)
    changed = json.loads(json.dumps(before))
    changed["syncToken"] = str(int(before["syncToken"]) + 7200)
    changed["prefixes"].append(
        {"ip_prefix": "15.177.66.0/23", "region": "us-west-1", "service": "ROUTE53_HEALTHCHECKS"}
    )
    posted = http(
        f"{stack.endpoint}/_sandbox/ip-ranges", method="POST", body=json.dumps(changed).encode()
    )
    assert posted.status == 200
    try:
        # The answer to us-east-1's policy write is lost: written, never deployed.
        lost = Rule(
            Fault.FAIL, operations=("apigateway:UpdateRestApi",), regions=(REGIONS[0],), after=True
        )
        cut, injector = interrupted(stack.config, ("refresh-ip-ranges",), lost)
        assert injector.total() == 1 and cut.exit_code == 1, cut.stderr
        rerun = failover(stack.config, "refresh-ip-ranges")
        assert rerun.exit_code == 0, rerun.stderr
        assert "apigateway:CreateDeployment" in rerun.mutating, rerun.stdout
        # Deployed now: the next run finds the stage serving the API's policy.
        settled = failover(stack.config, "refresh-ip-ranges")
        assert settled.exit_code == 0 and settled.mutating == [], settled.stdout
    finally:
        http(
            f"{stack.endpoint}/_sandbox/ip-ranges", method="POST", body=json.dumps(before).encode()
        )
        failover(stack.config, "refresh-ip-ranges")


def test_refresh_needs_an_access_section(stack: Stack) -> None:
    config = stack.write("")
    try:
        run = failover(config, "refresh-ip-ranges")
        assert run.exit_code == 2 and "has no access section" in run.stderr
        assert run.calls == []
    finally:
        stack.write()


def test_an_unreadable_document_stops_up_before_any_change(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = stack.write(ACCESS.replace("198.51.100.0/24", "198.51.100.0/25"))
    try:
        monkeypatch.setenv("FAILOVER_IP_RANGES", str(stack.folder / "missing.json"))
        run = failover(config, "up")
        assert run.exit_code == 2, run.stderr
        assert "Cannot read the IP ranges document" in run.stderr
        assert "missing.json" in run.stderr
        assert run.calls == []  # not even a read: the document comes first
        monkeypatch.setenv("FAILOVER_IP_RANGES", "http://127.0.0.1:9/ip-ranges.json")
        run = failover(config, "up")
        assert run.exit_code == 2 and "Nothing was changed" in run.stderr
        assert run.mutating == []
    finally:
        stack.write()


def test_a_policy_over_8_kb_is_refused_naming_its_size(stack: Stack) -> None:
    # 200 lone IPv6 addresses (none adjacent, so none merge): about 9 KB of CIDRs.
    many = ", ".join(f"2001:db8:{i:x}:5678:9abc:def0:1234:5678/128" for i in range(200))
    config = stack.write(f"access:\n  allow: [route53-health-checkers, {many}]\n")
    try:
        run = failover(config, "plan")
        assert run.exit_code == 2, run.stderr
        assert "bytes; API Gateway allows 8192" in run.stderr
        assert run.mutating == []
    finally:
        stack.write()


def test_every_route_restricted_then_access_removed(stack: Stack) -> None:
    every_route = ACCESS.replace("routes: health", "routes: all")
    config = stack.write(
        every_route.replace("198.51.100.0/24]", "198.51.100.0/24, 2001:db8:1::/48]")
    )
    try:
        assert failover(config, "up").exit_code == 0
        region = REGIONS[1]
        assert call(stack, region, "hello", STRANGER).status == 403
        assert call(stack, region, "hello", "2001:db8:2::7").status == 403
        assert call(stack, region, "hello", OPERATOR).status == 200
        assert call(stack, region, "hello", "2001:db8:1::7").status == 200  # IPv6 operator
        assert failover(stack.write(""), "up").exit_code == 0  # no access: policy removed
        assert call(stack, region, "health", STRANGER).status == 200
        none = client("apigateway", region, stack.endpoint).get_rest_api(
            restApiId=api_id(stack, region)
        )
        assert read_policy(none.get("policy")) is None
    finally:
        assert failover(stack.write(), "up").exit_code == 0
    assert call(stack, REGIONS[0], "health", STRANGER).status == 403


def test_down_takes_the_allow_list_with_the_apis(stack: Stack) -> None:
    try:
        run = failover(stack.config, "down", "--yes")
        assert run.exit_code == 0, run.stderr
        for region in REGIONS:
            apis = client("apigateway", region, stack.endpoint).get_rest_apis()["items"]
            assert stack.name not in [a["name"] for a in apis]
    finally:
        assert failover(stack.config, "up").exit_code == 0  # back for the other tests
