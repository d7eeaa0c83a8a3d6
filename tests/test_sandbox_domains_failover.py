"""A region failure seen end to end in a sandbox at --time-scale 30, with plain boto3.

What `failover up` builds, made by hand in two regions: the shipped bundle as
the function, a REST API, a custom domain with a base path mapping, a
latency record per region with an HTTPS_STR_MATCH health check on the API,
and an alarm on the east check e-mailing a confirmed subscriber. Setting
FORCE_FAIL=true on the east function (as a user would, not through
`failover`) must turn its checks unhealthy, switch TestDNSAnswer and the
custom domain to the west, raise the alarm and mail it; restoring it must
undo all of that.

Needs every part of the sandbox: running functions, execute-api, the health
checkers, DNS, alarms and the outbox. Waits poll with generous deadlines;
nothing asserts how long anything took.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import SandboxProcess
from tests.e2e_helpers import internal_client
from tests.sandbox_api_helpers import (
    SECRET,
    api_host,
    create_api,
    eventually,
    health_function,
    http,
    set_force_fail,
    unique,
)
from tests.sandbox_outbox_helpers import CONFIRMATION, Outbox, body, link
from tests.test_sandbox_domains import BASE_PATH, EAST, WEST, custom_domain

pytestmark = pytest.mark.sandbox

DEADLINE_S = 90.0


@pytest.fixture
def sandbox(
    launch_sandbox: Callable[..., SandboxProcess],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[tuple[str, Outbox]]:
    folder = tmp_path / "outbox"
    process = launch_sandbox("--time-scale", "30", "--outbox", str(folder))
    process.wait_until_ready()
    monkeypatch.setenv("AWS_ENDPOINT_URL", process.endpoint)
    yield process.endpoint, Outbox(folder)


def client(service: Any, region: str = EAST) -> Any:
    return boto3.client(service, region_name=region)


def health_check(api_id: str, region: str) -> str:
    check_id: str = client("route53").create_health_check(
        CallerReference=uuid.uuid4().hex,
        HealthCheckConfig={
            "Type": "HTTPS_STR_MATCH",
            "FullyQualifiedDomainName": api_host(api_id, region),
            "Port": 443,
            "ResourcePath": f"/prod/health?healthCheckerId={SECRET}",
            "SearchString": "hello from",
            "RequestInterval": 10,
            "FailureThreshold": 2,
            "Regions": ["us-east-1", "us-west-1", "us-west-2"],
            "EnableSNI": True,
        },
    )["HealthCheck"]["Id"]
    return check_id


def test_forcing_a_region_to_fail_moves_dns_the_domain_and_raises_the_alarm(
    sandbox: tuple[str, Outbox],
) -> None:
    endpoint, outbox = sandbox
    zone = f"z{uuid.uuid4().hex[:10]}.test"
    zone_id = client("route53").create_hosted_zone(Name=zone, CallerReference=uuid.uuid4().hex)[
        "HostedZone"
    ]["Id"]
    domain = f"hello.{zone}"
    functions, checks, records = {}, {}, []
    for region in (EAST, WEST):
        functions[region] = unique("fn")
        api_id = create_api(region, health_function(region, functions[region]))
        target = custom_domain(region, domain, api_id)
        checks[region] = health_check(api_id, region)
        records.append(
            {
                "Action": "CREATE",
                "ResourceRecordSet": {
                    "Name": domain,
                    "Type": "A",
                    "SetIdentifier": f"hello-{region}",
                    "Region": region,
                    "HealthCheckId": checks[region],
                    "AliasTarget": {
                        "HostedZoneId": "Z2FDTNDATAQYW2",
                        "DNSName": target,
                        "EvaluateTargetHealth": False,
                    },
                },
            }
        )
    client("route53").change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": records}
    )
    to = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    sns = client("sns")
    topic_arn = sns.create_topic(Name=unique("alarms"))["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=to)
    assert http(link(outbox.wait_for(to, CONFIRMATION), "confirm")).status == 200
    alarm = f"{unique('hello')}-{EAST}-health"
    client("cloudwatch").put_metric_alarm(
        AlarmName=alarm,
        Namespace="AWS/Route53",
        MetricName="HealthCheckStatus",
        Dimensions=[{"Name": "HealthCheckId", "Value": checks[EAST]}],
        Statistic="Minimum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData="missing",
        AlarmActions=[topic_arn],
        OKActions=[topic_arn],
    )
    port = endpoint.rsplit(":", 1)[1]

    def dns_region() -> str:
        data = client("route53").test_dns_answer(
            HostedZoneId=zone_id, RecordName=domain, RecordType="A"
        )["RecordData"]
        return EAST if any(f".{EAST}." in entry for entry in data) else WEST

    def domain_region() -> str | None:
        answer = http(
            f"{endpoint}/{BASE_PATH}/hello?healthCheckerId={SECRET}",
            headers={"Host": f"{domain}.localhost:{port}"},
        )
        return answer.headers.get("X-Failover-Region") if answer.status == 200 else None

    def alarm_state() -> str:
        found = client("cloudwatch").describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]
        return str(found["StateValue"])

    def healthy(region: str) -> bool:
        # Polled: read outside the account's 1-a-second quota, as the sandbox's page does.
        watcher = internal_client("route53", EAST)
        observations = watcher.get_health_check_status(HealthCheckId=checks[region])[
            "HealthCheckObservations"
        ]
        return bool(observations) and all(
            o["StatusReport"]["Status"].startswith("Success") for o in observations
        )

    eventually(lambda: healthy(EAST) and healthy(WEST), "both regions healthy", DEADLINE_S)
    assert dns_region() == EAST and domain_region() == EAST
    eventually(lambda: alarm_state() == "OK", "the alarm to be OK", DEADLINE_S)

    set_force_fail(EAST, functions[EAST], "true")
    eventually(lambda: dns_region() == WEST, "DNS to answer the west", DEADLINE_S)
    eventually(lambda: domain_region() == WEST, "the domain to be served by the west", DEADLINE_S)
    eventually(lambda: alarm_state() == "ALARM", "the alarm to go off", DEADLINE_S)
    mail = outbox.wait_for(to, f'ALARM: "{alarm}" in US East (N. Virginia)')
    assert f"HealthCheckId = {checks[EAST]}" in body(mail)

    set_force_fail(EAST, functions[EAST], "false")
    eventually(lambda: dns_region() == EAST, "DNS to answer the east again", DEADLINE_S)
    eventually(lambda: domain_region() == EAST, "the domain back in the east", DEADLINE_S)
    eventually(lambda: alarm_state() == "OK", "the alarm to clear", DEADLINE_S)
    outbox.wait_for(to, f'OK: "{alarm}" in US East (N. Virginia)')
