"""Fakes and moto setup for the force-fail and drill tests (in-process, no sandbox)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import boto3

from failover_cli.config.schema import Config
from failover_cli.ops.failover_observer import (
    CheckSettings,
    DnsReading,
    HealthReading,
    RequestReading,
)

REGIONS = ("us-east-1", "us-west-2")
FUNCTION = "thelambda"
SECRET = "0123456789abcdef0123456789abcdef"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def deploy_switch(config: Config) -> None:
    """The stack's table in every region with the switch item `up` seeds. moto has no
    replication: one table per region stands for the replicas, each written on its own."""
    key = {config.table.partition_key: {"S": "failover:switch"}}
    for region in config.regions:
        dynamo = boto3.client("dynamodb", region)
        dynamo.create_table(
            TableName=config.table.name,
            KeySchema=[{"AttributeName": config.table.partition_key, "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": config.table.partition_key, "AttributeType": "S"}
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamo.put_item(
            TableName=config.table.name,
            Item={**key, "forced_out": {"M": {}}, "revision": {"N": "0"}},
        )
    _SWITCHED.clear()
    _SWITCHED.append(config)


_SWITCHED: list[Config] = []  # the config whose switch deploy_switch made


def forced_out_in(replica: str, config: Config | None = None) -> set[str]:
    """The regions one replica's switch item has forced out."""
    config = config or _SWITCHED[-1]
    key = {config.table.partition_key: {"S": "failover:switch"}}
    item = boto3.client("dynamodb", replica).get_item(TableName=config.table.name, Key=key)
    return set(item.get("Item", {}).get("forced_out", {}).get("M", {}))


def replicate(replica: str, config: Config | None = None) -> None:
    """What a global table does (moto does not): copy `replica`'s switch item to the others."""
    config = config or _SWITCHED[-1]
    key = {config.table.partition_key: {"S": "failover:switch"}}
    item = boto3.client("dynamodb", replica).get_item(TableName=config.table.name, Key=key)
    for other in config.regions:
        if other != replica:
            boto3.client("dynamodb", other).put_item(TableName=config.table.name, Item=item["Item"])


def deploy_functions(config: Config, extra: dict[str, str] | None = None) -> None:
    """The stack's function in every region, with the variables `up` sets plus `extra`,
    and its switch (deploy_switch)."""
    deploy_switch(config)
    role = boto3.client("iam", "us-east-1").create_role(
        RoleName=config.role_name, AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    for region in config.regions:
        boto3.client("lambda", region).create_function(
            FunctionName=config.function.name,
            Runtime="python3.13",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": buffer.getvalue()},
            Environment={
                "Variables": {
                    "TABLE_NAME": config.table.name,
                    "FORCE_FAIL": "false",
                    "HEALTH_CHECKER_ID": SECRET,
                    **(extra or {}),
                }
            },
            Tags=config.ownership_tags(),  # as `up` tags it: operations edit owned functions only
        )


def environment(region: str, name: str = FUNCTION) -> dict[str, str]:
    answer = boto3.client("lambda", region).get_function_configuration(FunctionName=name)
    variables: dict[str, str] = answer["Environment"]["Variables"]
    return variables


def force_failed(region: str) -> bool:
    """Forced out in the switch as any replica holds it (moto does not replicate)."""
    config = _SWITCHED[-1]
    return any(region in forced_out_in(r, config) for r in config.regions)


@dataclass
class FollowingObserver:
    """Readings that follow the switch at once (what Route 53 does, minus the waiting).

    `unhealthy` regions always read unhealthy; `hook(kind, region)` runs before each
    reading (tests raise from it to simulate an interrupt).
    """

    regions: tuple[str, ...] = REGIONS
    has_domain: bool = True
    unhealthy: set[str] = field(default_factory=set)
    hook: Callable[[str, str], None] | None = None
    calls: list[str] = field(default_factory=list)

    def _serving(self) -> str | None:
        up = [r for r in self.regions if not force_failed(r) and r not in self.unhealthy]
        return up[0] if up else None

    def _before(self, kind: str, region: str = "") -> None:
        self.calls.append(kind)
        if self.hook is not None:
            self.hook(kind, region)

    def health(self, region: str) -> HealthReading:
        self._before("health", region)
        healthy = not force_failed(region) and region not in self.unhealthy
        return HealthReading(region, f"check-{region}", healthy, 3 if healthy else 0, 3)

    def dns(self) -> DnsReading:
        self._before("dns")
        serving = self._serving() or self.regions[0]
        return DnsReading((f"d-{serving}.example",), frozenset({serving}))

    def request(self) -> RequestReading:
        self._before("request")
        serving = self._serving()
        return RequestReading(200 if serving else 503, serving)

    def settings(self, region: str) -> CheckSettings:
        return CheckSettings(10, 2)

    def unreachable(self) -> str | None:
        return None  # the fake's requests always find their way
