"""Issue 20's "Must show" for force-fail through the switch, against a time-scaled sandbox.

A sandbox subprocess at --time-scale 10 (the switch readers' 10 s interval is 1 s of wall
time); every API answered in a region hangs when the test turns the sandbox's outage on for
it (`/_sandbox/outage`, what `failover sandbox --outage us-east-1:hang` sets at start), while
Route 53's checkers, its name servers and replication between the other regions go on.

- Three regions [us-east-1, us-west-2, eu-west-1], latency routing: with us-east-1 hanging,
  with us-west-2 hanging and with no outage, `force-fail --region us-east-1` exits 0, its
  call log holds no call in us-east-1 (nor to Route 53, IAM, STS or Lambda: DynamoDB
  replicas of the other regions only), and the name servers' answer leaves us-east-1;
  `--restore` once the outage is over brings it back.
- With us-east-1 still hanging, `force-fail --restore --wait` learns where DNS points from
  the name servers (Route 53's API does not answer) and says so.
- Two regions on failover routing: the same for the region that hangs; a reader region whose
  app traffic is down never takes the other region out.

Every wait polls with a generous budget; nothing asserts how long anything took (the
figures belong in benchmarks/).
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from failover_cli.sandbox.route53.dns import fake_ipv4
from tests.conftest import SandboxProcess
from tests.e2e_helpers import Run, failover, internal_client
from tests.sandbox_api_helpers import eventually
from tests.test_sandbox_nameserver import addresses, nameserver, query

pytestmark = pytest.mark.sandbox

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
BUDGET = 180.0  # seconds any wait may take on a loaded machine (not a timing assertion)
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def sandbox(launch_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    process: SandboxProcess = launch_sandbox("--time-scale", "10")
    process.wait_until_ready()
    endpoint = process.endpoint
    where = nameserver(endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("FAILOVER_RESOLVE", f"*={endpoint}")
    monkeypatch.setenv("FAILOVER_NAMESERVERS", f"{where[0]}:{where[1]}")
    _outage(endpoint, "DELETE")
    try:
        yield endpoint
    finally:
        _outage(endpoint, "DELETE")


def _outage(endpoint: str, method: str, region: str | None = None, mode: str = "hang") -> None:
    body = json.dumps({"region": region, "mode": mode}).encode() if region else None
    request = urllib.request.Request(f"{endpoint}/_sandbox/outage", data=body, method=method)
    with _OPENER.open(request, timeout=10) as answer:
        assert answer.status < 300


def _stack(tmp_path: Path, regions: tuple[str, ...], routing: str) -> tuple[Path, str]:
    name = f"m{uuid.uuid4().hex[:10]}"
    zone = f"{name}.test"
    boto3.client("route53", EAST).create_hosted_zone(Name=zone, CallerReference=name)
    domain = f"app.{zone}"
    config = tmp_path / "failover.yaml"
    config.write_text(
        f"stack: {name}\nregions: [{', '.join(regions)}]\n"
        f"table: {{name: t{name}, billing: on-demand}}\nfunction: {{name: f{name}}}\n"
        f"domain:\n  name: {domain}\n  hosted_zone: {zone}\n  routing: {routing}\n"
        "switch:\n  interval_s: 10\n  failure_threshold: 1\n",
        encoding="utf-8",
    )
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    return config, domain


def _answering(endpoint: str, domain: str) -> Callable[[], str | None]:
    """The region the sandbox's name servers answer with for `domain` (None: not one)."""
    where = nameserver(endpoint)
    by_address = {fake_ipv4(r, ""): r for r in (EAST, WEST, EU)}

    def region() -> str | None:
        found = addresses(query(where, domain))
        return by_address.get(found[0]) if len(found) == 1 else None

    return region


def _forced_only_through_other_replicas(run: Run, region: str) -> None:
    """The run's calls: DynamoDB in other regions only, none in the region forced out."""
    assert run.exit_code == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert run.calls, "the call log is empty"
    assert {c["service"] for c in run.calls} == {"dynamodb"}, run.calls
    assert region not in {c["region"] for c in run.calls}, run.calls
    assert run.mutating == ["dynamodb:UpdateItem"] * run.mutating.count("dynamodb:UpdateItem")


@pytest.mark.parametrize("hanging", [EAST, WEST, None])
def test_three_regions_latency_force_us_east_1_out_with_no_control_plane(
    sandbox: str, tmp_path: Path, hanging: str | None
) -> None:
    config, domain = _stack(tmp_path, (EAST, WEST, EU), "latency")
    answering = _answering(sandbox, domain)
    try:
        eventually(lambda: answering() == EAST, "DNS to answer with us-east-1", BUDGET)
        if hanging:
            _outage(sandbox, "POST", hanging)
        forced = failover(config, "force-fail", "--region", EAST, "--json")
        _forced_only_through_other_replicas(forced, EAST)
        record = json.loads(forced.stdout)
        assert record["changed"] is True and record["written_in"] in (WEST, EU)
        if hanging:
            assert record["written_in"] != hanging
        eventually(lambda: answering() not in (EAST, None), "DNS to leave us-east-1", BUDGET)

        if hanging == EAST:
            # Still hanging: --restore --wait follows DNS through the name servers, as Route
            # 53's API does not answer (the watch's own reads of it are bounded and given up).
            back = failover(
                config, "force-fail", "--region", EAST, "--restore", "--wait", "--json",
                "--timeout", "3m",
            )  # fmt: skip
            assert back.exit_code == 0, back.stderr
            switch_calls = [c for c in back.calls if c["service"] == "dynamodb"]
            assert switch_calls and EAST not in {c["region"] for c in switch_calls}
            phases = {p["name"]: p for p in json.loads(back.stdout)["phases"]}
            assert phases["dns_back"]["reached"], phases
            assert "from name server" in phases["dns_back"]["seen"], phases
            assert phases["health_healthy"]["skipped"], phases  # Route 53's API: no answer
            eventually(lambda: answering() == EAST, "us-east-1 back in DNS", BUDGET)
            return
        if hanging:
            _outage(sandbox, "DELETE", hanging)
        restored = failover(config, "force-fail", "--region", EAST, "--restore")
        _forced_only_through_other_replicas(restored, EAST)
        eventually(lambda: answering() == EAST, "us-east-1 back in DNS", BUDGET)
    finally:
        _outage(sandbox, "DELETE")
        assert failover(config, "down", "--yes").exit_code == 0


def test_two_regions_failover_routing_the_hanging_region_goes_and_a_down_reader_objects_to_nothing(
    sandbox: str, tmp_path: Path
) -> None:
    config, domain = _stack(tmp_path, (EAST, WEST), "failover")
    answering = _answering(sandbox, domain)
    try:
        eventually(lambda: answering() == EAST, "DNS to answer with the PRIMARY", BUDGET)
        for hanging in (EAST, None):  # the PRIMARY forced out, then back
            if hanging:
                _outage(sandbox, "POST", hanging)
            forced = failover(config, "force-fail", "--region", EAST)
            _forced_only_through_other_replicas(forced, EAST)
            eventually(lambda: answering() == WEST, "DNS to move to us-west-2", BUDGET)
            if hanging:
                _outage(sandbox, "DELETE", hanging)
            restored = failover(config, "force-fail", "--region", EAST, "--restore")
            _forced_only_through_other_replicas(restored, EAST)
            eventually(lambda: answering() == EAST, "the PRIMARY back", BUDGET)

        # us-west-2 hanging: it is forced out through us-east-1's replica alone.
        _outage(sandbox, "POST", WEST)
        forced = failover(config, "force-fail", "--region", WEST, "--json")
        _forced_only_through_other_replicas(forced, WEST)
        assert json.loads(forced.stdout)["written_in"] == EAST
        _outage(sandbox, "DELETE", WEST)
        restored = failover(config, "force-fail", "--region", WEST, "--restore")
        _forced_only_through_other_replicas(restored, WEST)
    finally:
        _outage(sandbox, "DELETE")
        assert failover(config, "down", "--yes").exit_code == 0


def test_a_reader_region_that_is_down_takes_no_region_out(sandbox: str, tmp_path: Path) -> None:
    """eu-west-1's app traffic down: its probe fails, and so do its readers of us-east-1 and
    us-west-2, which (Inverted) count as no objection. Were one to object, us-east-1 would
    leave the answer for the healthy us-west-2; it stays, and forcing it out still works."""
    config, domain = _stack(tmp_path, (EAST, WEST, EU), "latency")
    stack = config.read_text().split()[1]
    answering = _answering(sandbox, domain)
    try:
        eventually(lambda: answering() == EAST, "DNS to answer with us-east-1", BUDGET)
        _outage(sandbox, "POST", EU, "dataplane")
        eventually(lambda: _failing(sandbox, f"{stack}-{EU}"), "eu-west-1's probe to fail", BUDGET)
        eventually(
            lambda: _failing(sandbox, f"{stack}-{EAST}-read-in-{EU}"), "its reader to fail", BUDGET
        )
        assert answering() == EAST
        forced = failover(config, "force-fail", "--region", EAST)
        _forced_only_through_other_replicas(forced, EAST)
        eventually(lambda: answering() == WEST, "DNS to move to us-west-2", BUDGET)
        _outage(sandbox, "DELETE", EU)
        assert failover(config, "force-fail", "--region", EAST, "--restore").exit_code == 0
        eventually(lambda: answering() == EAST, "us-east-1 back in DNS", BUDGET)
    finally:
        _outage(sandbox, "DELETE")
        assert failover(config, "down", "--yes").exit_code == 0


def _failing(endpoint: str, name: str) -> bool:
    """Every checker of the check named `name` saw a failure last (the sandbox's own view,
    which spends none of the account's quota): the raw observations, before Inverted."""
    r53 = internal_client("route53", EAST, endpoint)
    checks = r53.list_health_checks()["HealthChecks"]
    for check in checks:
        tags = r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"])
        if {"Key": "Name", "Value": name} in tags["ResourceTagSet"]["Tags"]:
            seen = r53.get_health_check_status(HealthCheckId=check["Id"])
            reports = [o["StatusReport"]["Status"] for o in seen["HealthCheckObservations"]]
            return bool(reports) and not any(r.startswith("Success") for r in reports)
    raise AssertionError(f"no health check named {name}")
