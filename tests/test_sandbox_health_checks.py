"""Route 53 health checkers in a sandbox at --time-scale 10, seen through GetHealthCheckStatus.

Each test starts its own sandbox subprocess (stopped by pid at teardown).
With RequestInterval 10 a checker probes every real second; every wait polls
with a generous deadline and nothing asserts how long anything took. Tests
marked "runs code" need the sandbox's Lambda Invoke to run the function.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import SandboxProcess
from tests.e2e_helpers import internal_client
from tests.sandbox_api_helpers import (
    SECRET,
    api_host,
    create_api,
    eventually,
    health_function,
    set_force_fail,
    unique,
)

pytestmark = pytest.mark.sandbox

REGION = "us-east-1"
CHECKERS = ["eu-west-1", "us-east-1", "us-west-2"]  # sorted, as observations come back
SEARCH = "hello from"
INTERVAL = 10  # emulated seconds: one real second at --time-scale 10
OK_200 = "Success: HTTP Status Code 200, OK."
FAIL_503 = "Failure: HTTP Status Code 503, Service Unavailable."


@pytest.fixture
def sandbox(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    process = launch_sandbox("--time-scale", "10")
    process.wait_until_ready()
    monkeypatch.setenv("AWS_ENDPOINT_URL", process.endpoint)
    yield process.endpoint


def route53() -> Any:
    return boto3.client("route53")


def create_check(**config: Any) -> str:
    settings = {
        "Type": "HTTPS_STR_MATCH",
        "Port": 443,
        "SearchString": SEARCH,
        "RequestInterval": INTERVAL,
        "FailureThreshold": 2,
        "Regions": CHECKERS,
        "EnableSNI": True,
        **config,
    }
    settings = {k: v for k, v in settings.items() if v is not None}  # None: leave it out
    check_id: str = route53().create_health_check(
        CallerReference=str(uuid.uuid4()), HealthCheckConfig=settings
    )["HealthCheck"]["Id"]
    return check_id


def observations(check_id: str) -> list[dict[str, Any]]:
    # Polled every 0.1 s: read as the sandbox itself reads, outside the account's
    # GetHealthCheckStatus quota (1 a second), which a busy machine's retries outrun.
    watcher = internal_client("route53", REGION)
    found: list[dict[str, Any]] = watcher.get_health_check_status(HealthCheckId=check_id)[
        "HealthCheckObservations"
    ]
    return found


def statuses(check_id: str) -> dict[str, str]:
    return {o["Region"]: o["StatusReport"]["Status"] for o in observations(check_id)}


def all_say(check_id: str, status: str, regions: list[str] = CHECKERS) -> Callable[[], bool]:
    """Every checker of `regions` (and no other) last reported `status` (then " Resolved IP")."""

    def probe() -> bool:
        found = statuses(check_id)
        return sorted(found) == regions and all(s.startswith(status) for s in found.values())

    return probe


def test_observations_have_routes_53_shape_and_an_outside_target_is_unreachable(
    sandbox: str,
) -> None:
    check = create_check(Type="HTTPS", FullyQualifiedDomainName="example.com", SearchString=None)
    eventually(lambda: len(observations(check)) == 3, "a report from every checker")
    found = observations(check)
    assert [o["Region"] for o in found] == CHECKERS
    assert len({o["IPAddress"] for o in found}) == 3  # one fake address per checker region
    now = datetime.now(UTC)
    for observation in found:
        report = observation["StatusReport"]
        # The sandbox never leaves loopback: anything outside is reported unreachable.
        assert report["Status"].startswith("Failure: Connection timed out.")
        assert now - timedelta(minutes=1) < report["CheckedTime"] <= now + timedelta(seconds=5)


def test_an_api_without_that_stage_fails_with_the_gateways_403(sandbox: str) -> None:
    check = create_check(
        FullyQualifiedDomainName=api_host("zzzzzzzzzz", REGION), ResourcePath="/prod/health"
    )
    eventually(all_say(check, "Failure: HTTP Status Code 403, Forbidden."), "403 reports")


def test_a_check_follows_force_fail_and_back(sandbox: str) -> None:
    """runs code"""
    name = unique("checked")
    api = create_api(REGION, health_function(REGION, name))
    check = create_check(
        FullyQualifiedDomainName=api_host(api, REGION),
        ResourcePath=f"/prod/health?healthCheckerId={SECRET}",
    )
    eventually(all_say(check, OK_200), "every checker to succeed")
    set_force_fail(REGION, name, "true")
    eventually(all_say(check, FAIL_503), "every checker to see the forced failure")
    set_force_fail(REGION, name, "false")
    eventually(all_say(check, OK_200), "every checker to succeed again")


def test_a_2xx_without_the_search_string_fails(sandbox: str) -> None:
    """runs code"""
    api = create_api(REGION, health_function(REGION, unique("strmatch")))
    check = create_check(
        FullyQualifiedDomainName=api_host(api, REGION),
        ResourcePath=f"/prod/health?healthCheckerId={SECRET}",
        SearchString="Deep hello",  # a shallow ping never says it
    )

    # Every checker's latest report, not its first: a cold start on a busy machine can
    # outlast the checker's 2 real seconds once (a timeout, nothing to do with the body).
    def said() -> dict[str, str]:
        found = statuses(check)
        missed = [s.startswith("Failure: Search string not found") for s in found.values()]
        return found if sorted(found) == CHECKERS and all(missed) else {}

    for status in eventually(said, "every checker to miss the search string").values():
        assert "HTTP Status Code 200, OK" in status, status


def test_updates_and_deletes_are_picked_up(sandbox: str) -> None:
    """runs code"""
    api = create_api(REGION, health_function(REGION, unique("updated")))
    check = create_check(
        FullyQualifiedDomainName=api_host(api, REGION),
        ResourcePath="/prod/health?healthCheckerId=wrong",
    )
    eventually(all_say(check, "Failure: HTTP Status Code 403, Forbidden."), "403 reports")
    version = route53().get_health_check(HealthCheckId=check)["HealthCheck"]["HealthCheckVersion"]
    moved = ["ap-southeast-1", "sa-east-1", "us-west-1"]
    route53().update_health_check(
        HealthCheckId=check,
        HealthCheckVersion=version,
        ResourcePath=f"/prod/health?healthCheckerId={SECRET}",
        Regions=moved,
    )
    eventually(all_say(check, OK_200, moved), "the new checkers to succeed, alone")
    route53().delete_health_check(HealthCheckId=check)
    with pytest.raises(ClientError) as raised:
        observations(check)
    assert raised.value.response["Error"]["Code"] == "NoSuchHealthCheck"


def test_a_disabled_check_is_not_probed(sandbox: str) -> None:
    disabled = create_check(
        Type="HTTP", FullyQualifiedDomainName="example.com", SearchString=None, Disabled=True
    )
    watched = create_check(Type="HTTP", FullyQualifiedDomainName="example.com", SearchString=None)

    def checked_times() -> set[datetime]:
        return {o["StatusReport"]["CheckedTime"] for o in observations(watched)}

    seen: set[datetime] = set()

    def probed_three_more_times() -> bool:
        seen.update(checked_times())
        return len(seen) >= 3 * len(CHECKERS)

    # While the other check's checkers probed several times, the disabled one's never did.
    eventually(probed_three_more_times, "the enabled check to be probed repeatedly")
    assert observations(disabled) == []
