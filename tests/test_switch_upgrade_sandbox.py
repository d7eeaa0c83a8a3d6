"""`up` on a stack an older release forced regions out of: they stay out, DNS stays healthy.

Must show (issue 20): a stack deployed by the previous release, with one region forced out
by FORCE_FAIL and another by the search-string override, is upgraded by `up` with both still
out and with a healthy DNS answer throughout. The "old" state is made by hand with boto3 on a
stack this release deployed, as the old levers wrote it: FORCE_FAIL=true in us-east-1's
function (served through its `live` alias) and `failover-force-fail:` before the search
string of us-west-2's probe. eu-west-1 is the one healthy region. A thread asks the
sandbox's name servers all along; every answer must be eu-west-1.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.e2e_helpers import failover, internal_client
from tests.sandbox_api_helpers import eventually
from tests.test_switch_must_show import _answering

pytestmark = pytest.mark.sandbox

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
BUDGET = 180.0  # a bound for a loaded machine, not a timing assertion
MARKER = "failover-force-fail:"  # the old override's prefix


def _old_force_fail(region: str, function: str) -> None:
    """FORCE_FAIL=true as the old force-fail wrote it, served through the `live` alias."""
    lam = boto3.client("lambda", region)
    variables = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=function, Environment={"Variables": {**variables, "FORCE_FAIL": "true"}}
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=function)
    version = lam.publish_version(FunctionName=function)["Version"]
    lam.update_alias(FunctionName=function, Name="live", FunctionVersion=version)


def _probe(stack: str, region: str) -> dict[str, Any]:
    r53 = internal_client("route53", EAST)
    for check in r53.list_health_checks()["HealthChecks"]:
        tags = r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"])
        if {"Key": "Name", "Value": f"{stack}-{region}"} in tags["ResourceTagSet"]["Tags"]:
            found: dict[str, Any] = check
            return found
    raise AssertionError(f"no probe of {region}")


def _old_override(stack: str, region: str) -> str:
    """The old override: the probe's search string behind a marker no answer contains."""
    check = _probe(stack, region)
    original = str(check["HealthCheckConfig"]["SearchString"])
    boto3.client("route53", EAST).update_health_check(
        HealthCheckId=check["Id"],
        HealthCheckVersion=check["HealthCheckVersion"],
        SearchString=MARKER + original,
    )
    return original


def _forced_out(table: str, replica: str) -> set[str]:
    item = boto3.client("dynamodb", replica).get_item(
        TableName=table, Key={"HelloKey": {"S": "failover:switch"}}, ConsistentRead=True
    )["Item"]
    return set(item["forced_out"]["M"])


def test_up_carries_both_old_levers_into_the_switch_with_a_healthy_answer_throughout(
    launch_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = launch_sandbox("--time-scale", "10")
    sandbox.wait_until_ready()
    endpoint = sandbox.endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("FAILOVER_RESOLVE", f"*={endpoint}")
    name = f"u{uuid.uuid4().hex[:10]}"
    zone = f"{name}.test"
    boto3.client("route53", EAST).create_hosted_zone(Name=zone, CallerReference=name)
    domain, table, function = f"app.{zone}", f"t{name}", f"f{name}"
    config = tmp_path / "failover.yaml"
    config.write_text(
        f"stack: {name}\nregions: [{EAST}, {WEST}, {EU}]\n"
        f"table: {{name: {table}, billing: on-demand}}\nfunction: {{name: {function}}}\n"
        f"domain:\n  name: {domain}\n  hosted_zone: {zone}\n  routing: latency\n"
        "switch:\n  interval_s: 10\n  failure_threshold: 1\n",
        encoding="utf-8",
    )
    assert failover(config, "up").exit_code == 0
    answering = _answering(endpoint, domain)
    try:
        eventually(lambda: answering() == EAST, "DNS to answer with us-east-1", BUDGET)
        _old_force_fail(EAST, function)
        original = _old_override(name, WEST)
        eventually(lambda: answering() == EU, "the old levers to take both out", BUDGET)

        seen: list[str | None] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                seen.append(answering())
                done.wait(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            up = failover(config, "up")
            # After `up`: the old marks are gone, the switch keeps both out while their
            # probes turn healthy again.
            eventually(lambda: not _probe_failing(name, EAST), "us-east-1's probe", BUDGET)
            eventually(lambda: not _probe_failing(name, WEST), "us-west-2's probe", BUDGET)
        finally:
            done.set()
            watcher.join(10)
        assert up.exit_code == 0, up.stderr
        said = " ".join(up.stderr.split())
        assert "us-east-1 was forced out by an older release (FORCE_FAIL)" in said
        assert "us-west-2 was forced out by an older release (health-check override)" in said
        assert seen and set(seen) == {EU}, sorted(set(map(str, seen)))
        assert answering() == EU

        assert _forced_out(table, EU) == {EAST, WEST}
        lam = boto3.client("lambda", EAST)
        live = lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"]
        served = lam.get_function_configuration(FunctionName=function, Qualifier=live)
        assert served["Environment"]["Variables"]["FORCE_FAIL"] == "false"
        assert _probe(name, WEST)["HealthCheckConfig"]["SearchString"] == original
        again = failover(config, "up")
        assert again.exit_code == 0 and again.mutating == []  # converged: nothing to carry

        for region in (EAST, WEST):
            assert failover(config, "force-fail", "--region", region, "--restore").exit_code == 0
        eventually(lambda: answering() == EAST, "us-east-1 back", BUDGET)
    finally:
        assert failover(config, "down", "--yes").exit_code == 0


def _probe_failing(stack: str, region: str) -> bool:
    seen = internal_client("route53", EAST).get_health_check_status(
        HealthCheckId=_probe(stack, region)["Id"]
    )["HealthCheckObservations"]
    return not any(o["StatusReport"]["Status"].startswith("Success") for o in seen)
