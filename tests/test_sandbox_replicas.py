"""DynamoDB global tables (2019.11.21) in the sandbox, end to end through boto3.

The session sandbox is shared: every test uses its own table names. Waits
poll with a generous deadline; nothing asserts how long anything took.
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.sandbox_api_helpers import eventually

pytestmark = pytest.mark.sandbox

EAST, WEST = "us-east-1", "us-west-2"


def unique(prefix: str = "replicas") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def dynamodb(region: str) -> Any:
    return boto3.client("dynamodb", region_name=region)


def create_table(
    client: Any,
    name: str,
    *,
    stream_view: str | None = "NEW_AND_OLD_IMAGES",
    range_key: bool = False,
) -> None:
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": "N"})
    extra: dict[str, Any] = {}
    if stream_view:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream_view}
    client.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=attributes,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 2},
        **extra,
    )
    # AWS adds replicas to a provisioned table only once its writes are auto-scaled.
    scaling = boto3.client("application-autoscaling", region_name=client.meta.region_name)
    scaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension="dynamodb:table:WriteCapacityUnits",
        MinCapacity=1,
        MaxCapacity=10,
    )


def add_replica(client: Any, name: str, region: str = WEST) -> dict[str, Any]:
    """UpdateTable Create, retried while DynamoDB does not see the write auto scaling yet
    (Application Auto Scaling is eventually consistent, and the sandbox says so)."""

    def attempt() -> dict[str, Any] | None:
        try:
            create = [{"Create": {"RegionName": region}}]
            return dict(client.update_table(TableName=name, ReplicaUpdates=create))
        except ClientError as error:
            if "AutoScaled" in error.response["Error"]["Message"]:
                return None
            raise

    return eventually(attempt, "the replica request to be accepted")


def replicas(client: Any, name: str) -> tuple[str, list[dict[str, str]]]:
    table = client.describe_table(TableName=name)["Table"]
    return table["TableStatus"], table.get("Replicas", [])


def replicated_table(*, range_key: bool = False) -> str:
    """A table in us-east-1 with an ACTIVE replica in us-west-2."""
    name = unique()
    create_table(dynamodb(EAST), name, range_key=range_key)
    add_replica(dynamodb(EAST), name)
    eventually(
        lambda: (
            replicas(dynamodb(EAST), name)
            == ("ACTIVE", [{"RegionName": WEST, "ReplicaStatus": "ACTIVE"}])
        ),
        "the replica to become ACTIVE",
    )
    return name


def item(client: Any, name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    found: dict[str, Any] | None = client.get_item(
        TableName=name, Key=key, ConsistentRead=True
    ).get("Item")
    return found


def test_replica_create_makes_a_real_table_listed_in_both_regions(sandbox_env: str) -> None:
    east, west = dynamodb(EAST), dynamodb(WEST)
    name = unique()
    create_table(east, name)
    east.put_item(TableName=name, Item={"pk": {"S": "seed"}, "hello": {"S": "Deep hello from "}})

    answer = add_replica(east, name)

    description = answer["TableDescription"]
    assert description["TableStatus"] == "UPDATING"
    assert description["Replicas"] == [{"RegionName": WEST, "ReplicaStatus": "CREATING"}]
    eventually(
        lambda: (
            replicas(east, name) == ("ACTIVE", [{"RegionName": WEST, "ReplicaStatus": "ACTIVE"}])
        ),
        "the east view to show the replica ACTIVE",
    )
    assert replicas(west, name) == ("ACTIVE", [{"RegionName": EAST, "ReplicaStatus": "ACTIVE"}])
    source = east.describe_table(TableName=name)["Table"]
    replica = west.describe_table(TableName=name)["Table"]
    assert source["GlobalTableVersion"] == replica["GlobalTableVersion"] == "2019.11.21"
    for field in ("KeySchema", "AttributeDefinitions", "StreamSpecification", "BillingModeSummary"):
        assert replica.get(field) == source.get(field), field
    assert replica["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert replica["ProvisionedThroughput"]["WriteCapacityUnits"] == 2
    assert replica["TableArn"].split(":")[3] == WEST
    # Items that existed before the replica was added were copied.
    assert item(west, name, {"pk": {"S": "seed"}}) == {
        "pk": {"S": "seed"},
        "hello": {"S": "Deep hello from "},
    }


def test_writes_in_either_region_reach_the_other(sandbox_env: str) -> None:
    east, west = dynamodb(EAST), dynamodb(WEST)
    name = replicated_table(range_key=True)
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}

    west.put_item(TableName=name, Item={**key, "v": {"S": "from west"}})
    eventually(lambda: item(east, name, key) == {**key, "v": {"S": "from west"}}, "put west→east")

    east.update_item(
        TableName=name,
        Key=key,
        UpdateExpression="SET v = :v, n = :n",
        ExpressionAttributeValues={":v": {"S": "from east"}, ":n": {"N": "7"}},
    )
    eventually(
        lambda: item(west, name, key) == {**key, "v": {"S": "from east"}, "n": {"N": "7"}},
        "update east→west",
    )

    west.delete_item(TableName=name, Key=key)
    eventually(lambda: item(east, name, key) is None, "delete west→east")


def test_batch_and_transaction_writes_replicate(sandbox_env: str) -> None:
    east, west = dynamodb(EAST), dynamodb(WEST)
    name = replicated_table()
    east.put_item(TableName=name, Item={"pk": {"S": "old"}})
    eventually(lambda: item(west, name, {"pk": {"S": "old"}}), "the first item to arrive")

    east.batch_write_item(
        RequestItems={
            name: [
                {"PutRequest": {"Item": {"pk": {"S": "b1"}, "data": {"B": b"\x00\x01"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "old"}}}},
            ]
        }
    )
    west.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": {"pk": {"S": "t1"}, "tags": {"SS": ["x", "y"]}}}},
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": {"S": "b1"}},
                    "UpdateExpression": "SET seen = :t",
                    "ExpressionAttributeValues": {":t": {"BOOL": True}},
                }
            },
        ]
    )

    def keys(client: Any) -> set[str]:
        return {i["pk"]["S"] for i in client.scan(TableName=name, ConsistentRead=True)["Items"]}

    eventually(lambda: keys(east) == keys(west) == {"b1", "t1"}, "both regions to hold b1, t1")
    assert item(east, name, {"pk": {"S": "b1"}}) == {
        "pk": {"S": "b1"},
        "data": {"B": b"\x00\x01"},
        "seen": {"BOOL": True},
    }


def test_partiql_writes_replicate(sandbox_env: str) -> None:
    east, west = dynamodb(EAST), dynamodb(WEST)
    name = replicated_table()

    east.execute_statement(Statement=f"INSERT INTO \"{name}\" VALUE {{'pk': 'partiql'}}")
    west.execute_statement(Statement=f'SELECT * FROM "{name}"')  # reads change nothing

    eventually(lambda: item(west, name, {"pk": {"S": "partiql"}}), "the PartiQL insert to arrive")


def test_replica_delete_removes_the_table_and_the_listing(sandbox_env: str) -> None:
    east, west = dynamodb(EAST), dynamodb(WEST)
    name = replicated_table()

    answer = east.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": WEST}}])

    assert answer["TableDescription"]["Replicas"] == [
        {"RegionName": WEST, "ReplicaStatus": "DELETING"}
    ]
    eventually(lambda: replicas(east, name) == ("ACTIVE", []), "the replica to disappear")
    assert "GlobalTableVersion" not in east.describe_table(TableName=name)["Table"]
    with pytest.raises(ClientError) as gone:
        west.describe_table(TableName=name)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # The table in us-east-1 is a plain table again: writes stay there.
    east.put_item(TableName=name, Item={"pk": {"S": "after"}})
    assert item(east, name, {"pk": {"S": "after"}})


def test_delete_table_in_the_replica_region_leaves_the_group(sandbox_env: str) -> None:
    east, west = dynamodb(EAST), dynamodb(WEST)
    name = replicated_table()

    west.delete_table(TableName=name)

    eventually(lambda: replicas(east, name) == ("ACTIVE", []), "the group to forget us-west-2")
    east.put_item(TableName=name, Item={"pk": {"S": "alone"}})
    assert item(east, name, {"pk": {"S": "alone"}})


def test_replica_updates_need_new_and_old_image_streams(sandbox_env: str) -> None:
    east = dynamodb(EAST)
    for stream_view in (None, "KEYS_ONLY"):
        name = unique("nostream")
        create_table(east, name, stream_view=stream_view)
        with pytest.raises(ClientError) as refused:
            east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert "NEW_AND_OLD_IMAGES" in refused.value.response["Error"]["Message"]
        assert replicas(east, name) == ("ACTIVE", [])
        with pytest.raises(ClientError):
            dynamodb(WEST).describe_table(TableName=name)


def test_streams_cannot_be_disabled_on_a_replica(sandbox_env: str) -> None:
    name = replicated_table()
    with pytest.raises(ClientError) as refused:
        dynamodb(WEST).update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_a_replica_that_exists_cannot_be_created_again(sandbox_env: str) -> None:
    name = replicated_table()
    with pytest.raises(ClientError) as refused:
        dynamodb(EAST).update_table(
            TableName=name, ReplicaUpdates=[{"Create": {"RegionName": WEST}}]
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_second_update_while_updating_is_refused(
    launch_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow clock (replicas take 1000 real seconds) keeps the table UPDATING
    # for the whole test, whatever the machine's speed.
    sandbox = launch_sandbox("--time-scale", "0.001")
    sandbox.wait_until_ready()
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint)
    east, west = dynamodb(EAST), dynamodb(WEST)
    name = unique()
    create_table(east, name)
    add_replica(east, name)

    assert replicas(east, name) == ("UPDATING", [{"RegionName": WEST, "ReplicaStatus": "CREATING"}])
    assert replicas(west, name) == ("CREATING", [{"RegionName": EAST, "ReplicaStatus": "ACTIVE"}])
    for attempt in (
        lambda: east.update_table(
            TableName=name, ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}]
        ),
        lambda: east.update_table(
            TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        ),
        lambda: east.delete_table(TableName=name),
    ):
        with pytest.raises(ClientError) as refused:
            attempt()
        assert refused.value.response["Error"]["Code"] == "ResourceInUseException"
    # Writes are accepted meanwhile and reach the replica being created.
    east.put_item(TableName=name, Item={"pk": {"S": "early"}})
    eventually(lambda: item(west, name, {"pk": {"S": "early"}}), "the early write to replicate")


def test_a_provisioned_table_without_write_auto_scaling_takes_no_replica(sandbox_env: str) -> None:
    """AWS: "Table write capacity should either be Pay-Per-Request or AutoScaled"."""
    east = dynamodb(EAST)
    name = unique("manual")
    east.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    with pytest.raises(ClientError) as refused:
        east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Pay-Per-Request or AutoScaled" in refused.value.response["Error"]["Message"]
    assert replicas(east, name) == ("ACTIVE", [])
