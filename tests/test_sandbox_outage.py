"""The sandbox's outage switch: each mode as a client of the region sees it, and the end of it.

One sandbox subprocess for the module (started with `--outage eu-west-1:refuse`
to show the option), at --time-scale 10; each test starts with no outage and
ends the ones it made. Clients use short
time-outs and a single attempt: a hanging region must show as a time-out,
never as a slow test. Nothing asserts how long anything took.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from tests.conftest import SandboxProcess, launch_sandbox_process
from tests.sandbox_api_helpers import (
    SECRET,
    api_host,
    bundle_zip,
    create_api,
    create_function,
    eventually,
    unique,
)

# One worker runs the whole module: its stack (a module fixture) is then built once
# (`--dist loadgroup`, pyproject's addopts).
pytestmark = [pytest.mark.sandbox, pytest.mark.xdist_group("sandbox_outage")]

WEST, EAST = "us-west-2", "us-east-1"
# One attempt each; a short read time-out only where a hang is expected (a busy
# machine can take seconds to answer anything else).
ONCE = Config(connect_timeout=10, read_timeout=60, retries={"total_max_attempts": 1})
QUICK = Config(connect_timeout=2, read_timeout=2, retries={"total_max_attempts": 1})
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    started = launch_sandbox_process(
        tmp_path_factory.mktemp("outage"),
        *("--time-scale", "10", "--outage", "eu-west-1:refuse"),
        global_args=("--json",),
    )
    try:
        started.wait_until_ready()
        yield started
    finally:
        started.stop()


@pytest.fixture
def sandbox(process: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The module's sandbox with no outage (whatever ran before); none is left after."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", process.endpoint)
    switch(process.endpoint, "DELETE")
    try:
        yield process.endpoint
    finally:
        switch(process.endpoint, "DELETE")


def switch(endpoint: str, method: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{endpoint}/_sandbox/outage", data=data, method=method)
    try:
        with _OPENER.open(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def outage(endpoint: str, region: str, mode: str) -> None:
    status, _ = switch(endpoint, "POST", {"region": region, "mode": mode})
    assert status == 200


def client(service: str, region: str, config: Config = ONCE) -> Any:
    return boto3.client(service, region_name=region, config=config)


def test_outage_given_at_start_is_in_place(process: SandboxProcess) -> None:
    printed = json.loads(process.stdout().splitlines()[0])
    assert [(o["region"], o["mode"]) for o in printed["outages"]] == [("eu-west-1", "refuse")]


def test_the_switch_lists_starts_changes_and_ends_outages(sandbox: str) -> None:
    outage(sandbox, "eu-west-1", "refuse")
    outage(sandbox, WEST, "hang")
    outage(sandbox, WEST, "dataplane")  # a change, not a second outage
    status, listed = switch(sandbox, "POST", {"region": "us-east-2"})  # mode defaults to hang
    modes = {o["region"]: o["mode"] for o in listed["outages"]}
    assert modes == {"eu-west-1": "refuse", WEST: "dataplane", "us-east-2": "hang"}
    _, listed = switch(sandbox, "POST", {"region": "us-east-2", "mode": "none"})
    status, listed = switch(sandbox, "GET")
    assert status == 200 and [o["region"] for o in listed["outages"]] == ["eu-west-1", WEST]
    _, listed = switch(sandbox, "DELETE", {"region": WEST})
    assert [o["region"] for o in listed["outages"]] == ["eu-west-1"]
    _, listed = switch(sandbox, "DELETE")
    assert listed["outages"] == []


@pytest.mark.parametrize(
    "body, error",
    [
        ({"region": WEST, "mode": "sideways"}, "'sideways' is not an outage mode"),
        ({"region": "west", "mode": "hang"}, "'west' is not an AWS region name"),
        ({"mode": "hang"}, 'the body needs a "region"'),
        (["us-west-2"], "the body must be a JSON object"),
    ],
)
def test_a_bad_switch_request_is_a_400_and_changes_nothing(
    sandbox: str, body: Any, error: str
) -> None:
    status, answer = switch(sandbox, "POST", body)
    assert status == 400 and error in answer["error"]
    assert switch(sandbox, "GET")[1]["outages"] == []


def test_hang_accepts_and_never_answers_until_the_outage_ends(sandbox: str) -> None:
    outage(sandbox, WEST, "hang")
    try:
        with pytest.raises(ReadTimeoutError):
            client("dynamodb", WEST, QUICK).list_tables()
        # The other region, and the global services signed for us-east-1, still answer.
        assert "TableNames" in client("dynamodb", EAST).list_tables()
        assert "HostedZones" in client("route53", EAST).list_hosted_zones()
    finally:
        switch(sandbox, "DELETE", {"region": WEST})
    assert "TableNames" in client("dynamodb", WEST).list_tables()


def test_refuse_resets_the_connection_without_an_answer(sandbox: str) -> None:
    outage(sandbox, WEST, "refuse")
    with pytest.raises(ConnectionClosedError):
        client("lambda", WEST).list_functions()
    assert "Functions" in client("lambda", EAST).list_functions()


@pytest.mark.parametrize(
    "service, call",
    [
        ("dynamodb", lambda api: api.list_tables()),  # JSON 1.0
        ("lambda", lambda api: api.list_functions()),  # REST-JSON
        ("sns", lambda api: api.list_topics()),  # query (XML)
        ("cloudwatch", lambda api: api.describe_alarms()),  # Smithy RPC v2 CBOR
        ("apigateway", lambda api: api.get_rest_apis()),  # REST-JSON
    ],
)
def test_5xx_answers_service_unavailable_in_each_protocols_shape(
    sandbox: str, service: str, call: Any
) -> None:
    outage(sandbox, WEST, "5xx")
    with pytest.raises(ClientError) as raised:
        call(client(service, WEST))
    error = raised.value.response
    assert error["Error"]["Code"] == "ServiceUnavailable"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 503
    call(client(service, EAST))  # no error: only the region in outage


def test_global_services_fall_only_with_us_east_1(sandbox: str) -> None:
    outage(sandbox, WEST, "5xx")
    client("route53", WEST).list_hosted_zones()  # Route 53 signs for us-east-1: still up
    client("iam", WEST).list_roles()
    outage(sandbox, EAST, "5xx")
    for service, call in [("route53", "list_hosted_zones"), ("iam", "list_roles")]:
        with pytest.raises(ClientError) as raised:
            getattr(client(service, WEST), call)()
        assert raised.value.response["Error"]["Code"] == "ServiceUnavailable"


def test_dataplane_keeps_the_apis_but_not_the_apps_traffic_checks_or_table(sandbox: str) -> None:
    name = unique("dp")
    table = client("dynamodb", WEST)
    table.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table.put_item(TableName=name, Item={"HelloKey": {"S": "Hello"}, "Hello": {"S": "Deep "}})
    environment = {"HEALTH_CHECKER_ID": SECRET, "FORCE_FAIL": "false", "TABLE_NAME": name}
    arn = create_function(WEST, name, bundle_zip(), environment)
    api_id = create_api(WEST, arn)
    check = client("route53", EAST).create_health_check(
        CallerReference=str(uuid.uuid4()),
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": api_host(api_id, WEST),
            "ResourcePath": f"/prod/health?healthCheckerId={SECRET}",
            "RequestInterval": 10,
            "FailureThreshold": 1,
            "Regions": ["us-east-1", "us-west-1", "us-west-2"],
        },
    )["HealthCheck"]["Id"]
    eventually(lambda: all_say(check, "Success"), "the checkers to see the API answer")
    outage(sandbox, WEST, "dataplane")
    # The control plane answers ...
    assert client("lambda", WEST).get_function(FunctionName=name)["Configuration"]["State"]
    # ... the API's own traffic does not, the checkers cannot connect ...
    with pytest.raises(TimeoutError):
        execute_api(sandbox, api_id, f"/prod/health?healthCheckerId={SECRET}")
    eventually(lambda: all_say(check, "Failure: Connection timed out"), "checks to fail")
    # ... and the function cannot reach the table: its deep ping says 503.
    answer = invoke_health(name, deep="true")
    assert answer["statusCode"] == 503
    switch(sandbox, "DELETE", {"region": WEST})
    assert invoke_health(name, deep="true")["statusCode"] == 200
    eventually(lambda: all_say(check, "Success"), "the checkers to see the API again")


def test_replication_pauses_during_an_outage_and_catches_up_after(sandbox: str) -> None:
    name = unique("rep")
    east = client("dynamodb", EAST)
    east.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])
    eventually(lambda: _replica_active(east, name), "the replica to become ACTIVE")
    west = client("dynamodb", WEST)
    outage(sandbox, WEST, "dataplane")  # the APIs answer, so the test can look
    east.put_item(TableName=name, Item={"k": {"S": "during"}, "v": {"S": "1"}})
    west.put_item(TableName=name, Item={"k": {"S": "west-side"}, "v": {"S": "2"}})
    assert "Item" not in west.get_item(TableName=name, Key={"k": {"S": "during"}})
    assert "Item" not in east.get_item(TableName=name, Key={"k": {"S": "west-side"}})
    switch(sandbox, "DELETE", {"region": WEST})
    assert west.get_item(TableName=name, Key={"k": {"S": "during"}})["Item"]["v"] == {"S": "1"}
    assert east.get_item(TableName=name, Key={"k": {"S": "west-side"}})["Item"]["v"] == {"S": "2"}


def _replica_active(east: Any, name: str) -> bool:
    replicas = east.describe_table(TableName=name)["Table"].get("Replicas", [])
    return any(r["RegionName"] == WEST and r["ReplicaStatus"] == "ACTIVE" for r in replicas)


def all_say(check_id: str, status: str) -> bool:
    try:
        found = client("route53", EAST).get_health_check_status(HealthCheckId=check_id)
    except ClientError as error:  # the sandbox throttles this read as Route 53 does
        if error.response["Error"]["Code"] == "Throttling":
            return False
        raise
    reports = [o["StatusReport"]["Status"] for o in found["HealthCheckObservations"]]
    return len(reports) == 3 and all(report.startswith(status) for report in reports)


def execute_api(endpoint: str, api_id: str, path: str) -> int:
    request = urllib.request.Request(endpoint + path, headers={"Host": api_host(api_id, WEST)})
    with _OPENER.open(request, timeout=3) as answer:
        return int(answer.status)


def invoke_health(function: str, **query: str) -> dict[str, Any]:
    event = {
        "resource": "/{proxy+}",
        "path": "/health",
        "httpMethod": "GET",
        "headers": {},
        "queryStringParameters": {"healthCheckerId": SECRET, **query},
        "pathParameters": {"proxy": "health"},
        "requestContext": {"stage": "prod", "httpMethod": "GET", "path": "/prod/health"},
        "body": None,
        "isBase64Encoded": False,
    }
    answer = client("lambda", WEST).invoke(
        FunctionName=function, Payload=json.dumps(event).encode()
    )
    payload: dict[str, Any] = json.loads(answer["Payload"].read())
    return payload
