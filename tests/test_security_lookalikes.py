"""`down` never deletes what the stack does not own: untagged look-alikes of every kind.

Scenario 1: nothing of the stack exists, but every name it would use does,
made by "someone else" with boto3 (no ownership tags, or only half of them, or
another stack's): role, table (with an item under the seed's key and a
scaling target), a standalone table where the replica would be, log groups,
functions, REST APIs, certificates, custom domains with a base path mapping,
health checks tagged Name=<stack>-<R>, topic with an e-mail subscription,
alarms, and routing records with the stack's SetIdentifiers aimed elsewhere.
`down --yes` deletes nothing, exits 0, and lists every one as left alone (its
summary says how many); `up` refuses to take them over. Certificates are the
exception by design: ACM holds any number per name, so the stack's is the one
with its tags and others are simply not the stack's — never touched, never
listed, and `up` requests its own next to them.

Scenario 2: a deployed stack next to foreign resources that may share its
names (REST API and health check names, certificates, other records at the
domain): `down` removes the stack's and keeps every foreign one.

Kinds without tags follow the stack's own rules: a record is the stack's only
when it aims at the stack's custom domain or carries its health check; the
seed item, scaling targets and subscriptions belong to the stack only through
its owned table and topic.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e_helpers import Run, client, failover, write_config

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"
REGIONS = (EAST, WEST)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@dataclass
class Names:
    stack: str
    zone: str
    zone_id: str
    domain: str
    endpoint: str

    @property
    def role(self) -> str:
        return f"{self.stack}-function"

    @property
    def table(self) -> str:
        return f"{self.stack}.Hello"

    @property
    def function(self) -> str:
        return f"{self.stack}-fn"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function}"

    @property
    def topic(self) -> str:
        return f"{self.stack}-alarms"

    def aws(self, service: str, region: str = EAST) -> Any:
        return client(service, region, self.endpoint)


def _names(endpoint: str, prefix: str) -> Names:
    stack = f"{prefix}{uuid.uuid4().hex[:8]}"
    zone = f"{stack}.test"
    zone_id = client("route53", EAST, endpoint).create_hosted_zone(
        Name=zone, CallerReference=uuid.uuid4().hex
    )["HostedZone"]["Id"]
    return Names(stack, zone, zone_id, f"app.{zone}", endpoint)


def _config(folder: Path, names: Names) -> Path:
    return write_config(
        folder,
        names.stack,
        f"domain:\n  name: {names.domain}\n  hosted_zone: {names.zone}\n"
        "alarms:\n  email: ops@example.com\n",
    )


def _wait(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    """Poll `check` until it returns something truthy (a bounded wait, not a timing test)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def _issued_certificate(names: Names, region: str) -> str:
    """Someone else's certificate for the domain, validated through the zone (untagged)."""
    acm = names.aws("acm", region)
    arn = acm.request_certificate(DomainName=names.domain, ValidationMethod="DNS")["CertificateArn"]

    def record() -> dict[str, str] | None:
        options = acm.describe_certificate(CertificateArn=arn)["Certificate"].get(
            "DomainValidationOptions", []
        )
        return next((o["ResourceRecord"] for o in options if "ResourceRecord" in o), None)

    asked = _wait("ACM's validation record", record)
    names.aws("route53").change_resource_record_sets(
        HostedZoneId=names.zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": asked["Name"],
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": asked["Value"]}],
                    },
                }
            ]
        },
    )
    _wait(
        "the certificate to be issued",
        lambda: acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED",
    )
    return str(arn)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def _health_check(names: Names, region: str, tags: dict[str, str]) -> str:
    r53 = names.aws("route53")
    check_id = r53.create_health_check(
        CallerReference=uuid.uuid4().hex,
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": f"someone-else.{region}.example.org",
            "Port": 443,
            "ResourcePath": "/ping",
            "RequestInterval": 30,
            "FailureThreshold": 3,
        },
    )["HealthCheck"]["Id"]
    r53.change_tags_for_resource(
        ResourceType="healthcheck",
        ResourceId=check_id,
        AddTags=[
            {"Key": k, "Value": v} for k, v in {"Name": f"{names.stack}-{region}", **tags}.items()
        ],
    )
    return str(check_id)


def _alias_record(names: Names, identifier: str, region: str, target: str, check: str) -> None:
    names.aws("route53").change_resource_record_sets(
        HostedZoneId=names.zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": names.domain,
                        "Type": "A",
                        "SetIdentifier": identifier,
                        "Region": region,
                        "HealthCheckId": check,
                        "AliasTarget": {
                            "HostedZoneId": "Z1UJRXOUMOOFQ8",
                            "DNSName": target,
                            "EvaluateTargetHealth": False,
                        },
                    },
                }
            ]
        },
    )


@dataclass
class LookAlikes:
    """Ids of what someone else made under the stack's names, and how to see it still exists."""

    certificates: dict[str, str]
    apis: dict[str, str]
    checks: dict[str, str]
    domains: dict[str, str]  # region -> regional domain name (the alias target)


def _make_look_alikes(names: Names) -> LookAlikes:
    iam = names.aws("iam")
    role_arn = iam.create_role(
        RoleName=names.role,
        AssumeRolePolicyDocument=TRUST,
        Tags=[{"Key": "team", "Value": "someone-else"}],
    )["Role"]["Arn"]

    dynamo = names.aws("dynamodb", EAST)
    dynamo.create_table(
        TableName=names.table,
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        Tags=[{"Key": "failover:stack", "Value": names.stack}],  # half the ownership tags
    )
    _wait(
        "the table",
        lambda: dynamo.describe_table(TableName=names.table)["Table"]["TableStatus"] == "ACTIVE",
    )
    dynamo.put_item(
        TableName=names.table,
        Item={"HelloKey": {"S": "Hello"}, "Hello": {"S": "their data"}},
    )
    names.aws("application-autoscaling", EAST).register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{names.table}",
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=1,
        MaxCapacity=3,
    )
    names.aws("dynamodb", WEST).create_table(  # where the stack's replica would be
        TableName=names.table,
        KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    apis, certificates, domains, checks = {}, {}, {}, {}
    for region in REGIONS:
        names.aws("logs", region).create_log_group(
            logGroupName=names.log_group,
            tags={"failover:managed-by": "failover"} if region == WEST else {},
        )
        names.aws("lambda", region).create_function(
            FunctionName=names.function,
            Runtime="python3.13",
            Role=role_arn,
            Handler="handler.handler",
            Code={"ZipFile": _zip()},
            Tags={"failover:stack": "another-stack", "failover:managed-by": "failover"},
        )
        ag = names.aws("apigateway", region)
        api_id = ag.create_rest_api(
            name=names.stack, endpointConfiguration={"types": ["REGIONAL"]}
        )["id"]
        apis[region] = api_id
        certificates[region] = _issued_certificate(names, region)
        domain = ag.create_domain_name(
            domainName=names.domain,
            regionalCertificateArn=certificates[region],
            endpointConfiguration={"types": ["REGIONAL"]},
            securityPolicy="TLS_1_2",
        )
        domains[region] = domain["regionalDomainName"]
        root = ag.get_resources(restApiId=api_id)["items"][0]["id"]
        ag.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
        ag.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
        ag.create_deployment(restApiId=api_id, stageName="prod")
        ag.create_base_path_mapping(
            domainName=names.domain, basePath="v1", restApiId=api_id, stage="prod"
        )
        checks[region] = _health_check(names, region, {"team": "someone-else"})
        names.aws("cloudwatch", EAST).put_metric_alarm(
            AlarmName=f"{names.stack}-{region}-health",
            Namespace="AWS/Route53",
            MetricName="HealthCheckStatus",
            Dimensions=[{"Name": "HealthCheckId", "Value": checks[region]}],
            Statistic="Minimum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="LessThanThreshold",
            Tags=[{"Key": "failover:stack", "Value": "another-stack"}],
        )
        # The stack's SetIdentifier, but aimed at someone else's domain with their check.
        _alias_record(names, f"{names.stack}-{region}", region, domains[region], checks[region])
    _alias_record(names, "someone-else", "eu-west-1", "d-other.example.org", checks[EAST])

    sns = names.aws("sns", EAST)
    topic = sns.create_topic(Name=names.topic)["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    return LookAlikes(certificates, apis, checks, domains)


def _record_sets(names: Names) -> list[dict[str, Any]]:
    sets = names.aws("route53").list_resource_record_sets(HostedZoneId=names.zone_id)
    return [r for r in sets["ResourceRecordSets"] if r["Type"] not in ("NS", "SOA")]


def _snapshot(names: Names, made: LookAlikes) -> dict[str, Any]:
    """Everything someone else made, read back with boto3 (raises if something is gone)."""
    iam = names.aws("iam")
    seen: dict[str, Any] = {"role": iam.get_role(RoleName=names.role)["Role"]["Arn"]}
    seen["table"] = names.aws("dynamodb", EAST).describe_table(TableName=names.table)["Table"][
        "TableArn"
    ]
    seen["seed"] = names.aws("dynamodb", EAST).get_item(
        TableName=names.table, Key={"HelloKey": {"S": "Hello"}}
    )["Item"]
    seen["scaling"] = [
        t["ScalableDimension"]
        for t in names.aws("application-autoscaling", EAST).describe_scalable_targets(
            ServiceNamespace="dynamodb", ResourceIds=[f"table/{names.table}"]
        )["ScalableTargets"]
    ]
    seen["replica-table"] = names.aws("dynamodb", WEST).describe_table(TableName=names.table)[
        "Table"
    ]["TableArn"]
    for region in REGIONS:
        logs = names.aws("logs", region)
        groups = logs.describe_log_groups(logGroupNamePrefix=names.log_group)["logGroups"]
        seen[f"log_group {region}"] = [g["logGroupName"] for g in groups]
        seen[f"function {region}"] = names.aws("lambda", region).get_function(
            FunctionName=names.function
        )["Configuration"]["FunctionArn"]
        ag = names.aws("apigateway", region)
        seen[f"api {region}"] = ag.get_rest_api(restApiId=made.apis[region])["id"]
        seen[f"certificate {region}"] = names.aws("acm", region).describe_certificate(
            CertificateArn=made.certificates[region]
        )["Certificate"]["Status"]
        seen[f"domain_name {region}"] = ag.get_domain_name(domainName=names.domain)[
            "regionalDomainName"
        ]
        seen[f"base_path_mapping {region}"] = ag.get_base_path_mappings(domainName=names.domain)[
            "items"
        ]
        seen[f"health_check {region}"] = names.aws("route53").get_health_check(
            HealthCheckId=made.checks[region]
        )["HealthCheck"]["Id"]
    alarms = names.aws("cloudwatch", EAST).describe_alarms(AlarmNamePrefix=f"{names.stack}-")
    seen["alarms"] = sorted(a["AlarmName"] for a in alarms["MetricAlarms"])
    sns = names.aws("sns", EAST)
    topic = next(
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(f":{names.topic}")
    )
    seen["subscriptions"] = [
        (s["Protocol"], s["Endpoint"])
        for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    ]
    seen["records"] = sorted(json.dumps(r, sort_keys=True) for r in _record_sets(names))
    return seen


def _left_alone(run: Run) -> set[tuple[str, str, str]]:
    """(kind, name, region) of every resource `down` said it left alone (human output)."""
    found = set()
    for line in run.stdout.splitlines():
        if line.strip().startswith("left alone:"):
            words = line.split()
            found.add((words[2], words[3], words[-1]))
    return found


def _expected_skips(names: Names) -> set[tuple[str, str, str]]:
    """Every resource the stack would own, by (kind, name, region): all look-alikes here."""
    kinds = [
        ("log_group", names.log_group),
        ("function", names.function),
        ("api", names.stack),
        ("api_policy", names.stack),  # the allow-list's policy sits on the (look-alike) API
        ("domain_name", names.domain),
        ("base_path_mapping", names.domain),
        ("record", names.domain),
    ]
    found = {(kind, name, region) for region in REGIONS for kind, name in kinds}
    found |= {("health_check", f"{names.stack}-{region}", region) for region in REGIONS}
    # Alarms live where Route 53's metrics are, whatever region they watch.
    found |= {("alarm", f"{names.stack}-{region}-health", EAST) for region in REGIONS}
    return found | {
        ("role", names.role, "global"),
        ("table", names.table, EAST),
        ("seed_item", names.table, EAST),
        ("switch_item", names.table, EAST),  # the switch (issue 20) lives in the table too
        ("scaling", names.table, EAST),
        ("replica", names.table, WEST),
        ("topic", names.topic, EAST),
        ("subscription", f"{names.topic}-email", EAST),
    }


def test_down_leaves_every_untagged_look_alike_alone(sandbox_env: str, tmp_path: Path) -> None:
    names = _names(sandbox_env, "la")
    config = _config(tmp_path, names)
    made = _make_look_alikes(names)
    before = _snapshot(names, made)
    assert len(before["records"]) == 4  # 2 with our SetIdentifiers, 1 other, 1 validation CNAME

    refused = failover(config, "up")
    assert refused.exit_code == 1, refused.stderr
    assert "will not take them over" in refused.stderr and refused.mutating == []

    down = failover(config, "down", "--yes")
    assert down.exit_code == 0, down.stdout + down.stderr
    assert down.mutating == [], "down changed something it does not own"
    assert _snapshot(names, made) == before

    expected = _expected_skips(names)
    assert _left_alone(down) == expected, down.stdout
    assert (
        f"Stack {names.stack} is down (0 resources deleted; {len(expected)} with its names but "
        "without its ownership tags left alone)." in down.stdout
    )

    as_json = failover(config, "down", "--yes", "--json")
    assert as_json.exit_code == 0 and as_json.mutating == []
    report = json.loads(as_json.stdout)
    assert report["deleted"] == 0
    skipped = {(c["kind"], c["name"], c["region"]) for c in report["skipped"]}
    assert skipped == expected

    # The operational commands find the stack by the same rule: theirs is not touched either.
    names.aws("logs", EAST).create_log_stream(logGroupName=names.log_group, logStreamName="empty")
    gc = failover(config, "gc-logs", "--min-age", "0s")
    assert gc.exit_code == 0 and gc.mutating == [], gc.stdout + gc.stderr
    assert gc.stdout.count("not this stack's") == 2
    restore = failover(config, "force-fail", "--region", WEST, "--restore")
    assert "nothing to change" in restore.stderr and restore.mutating == []  # reads only
    for args in (("force-fail", "--region", EAST, "--allow-total-outage"), ("rotate-secret",)):
        touched = failover(config, *args)
        assert touched.exit_code == 1, (args, touched.stdout, touched.stderr)
        assert "not this stack's" in touched.stderr, touched.stderr
        assert touched.mutating == [], (args, touched.mutating)
    streams = names.aws("logs", EAST).describe_log_streams(logGroupName=names.log_group)
    assert [s["logStreamName"] for s in streams["logStreams"]] == ["empty"]
    for region in REGIONS:
        variables = (
            names.aws("lambda", region)
            .get_function_configuration(FunctionName=names.function)
            .get("Environment", {})
        )
        assert variables.get("Variables", {}) == {}, "their function's environment changed"
    assert _snapshot(names, made) == before


def _owned_by(tags: dict[str, str], stack: str) -> bool:
    return tags.get("failover:stack") == stack and tags.get("failover:managed-by") == "failover"


def test_down_removes_the_stack_and_keeps_foreign_resources_sharing_its_names(
    sandbox_env: str, tmp_path: Path
) -> None:
    names = _names(sandbox_env, "lb")
    config = _config(tmp_path, names)
    # Before `up`: things that may share the stack's names without blocking it.
    foreign_certificate = _issued_certificate(names, EAST)
    names.aws("route53").change_resource_record_sets(
        HostedZoneId=names.zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": names.domain,
                        "Type": "TXT",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": '"someone-else"'}],
                    },
                }
            ]
        },
    )
    for region in REGIONS:  # longer names that a prefix listing also returns
        names.aws("logs", region).create_log_group(logGroupName=f"{names.log_group}-old")
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr

    # After `up`: names that are not unique in AWS, reused by someone else.
    foreign_apis = {
        region: names.aws("apigateway", region).create_rest_api(name=names.stack)["id"]
        for region in REGIONS
    }
    foreign_checks = {region: _health_check(names, region, {}) for region in REGIONS}
    _alias_record(names, "someone-else", "eu-west-1", "d-other.example.org", foreign_checks[EAST])
    names.aws("cloudwatch", EAST).put_metric_alarm(
        AlarmName=f"{names.stack}-{EAST}-health-copy",
        Namespace="AWS/Route53",
        MetricName="HealthCheckStatus",
        Dimensions=[{"Name": "HealthCheckId", "Value": foreign_checks[EAST]}],
        Statistic="Minimum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
    )

    down = failover(config, "down", "--yes")
    assert down.exit_code == 0, down.stdout + down.stderr
    assert "left alone" not in down.stdout  # nothing under the stack's exact identity

    r53 = names.aws("route53")
    for region in REGIONS:
        ag = names.aws("apigateway", region)
        apis = {a["id"]: a.get("tags") or {} for a in ag.get_rest_apis()["items"]}
        stack_apis = [i for i, tags in apis.items() if _owned_by(tags, names.stack)]
        assert stack_apis == [] and foreign_apis[region] in apis
        assert r53.get_health_check(HealthCheckId=foreign_checks[region])["HealthCheck"]
        groups = names.aws("logs", region).describe_log_groups(logGroupNamePrefix=names.log_group)
        assert [g["logGroupName"] for g in groups["logGroups"]] == [f"{names.log_group}-old"]
        certificates = names.aws("acm", region).list_certificates()["CertificateSummaryList"]
        left = [c["CertificateArn"] for c in certificates if c["DomainName"] == names.domain]
        assert left == ([foreign_certificate] if region == EAST else [])
    ours = [
        c["Id"]
        for c in r53.list_health_checks()["HealthChecks"]
        if c["Id"] not in foreign_checks.values()
        and c["HealthCheckConfig"].get("FullyQualifiedDomainName", "").endswith(".amazonaws.com")
        and names.stack
        in json.dumps(r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=c["Id"]))
    ]
    assert ours == [], "the stack's own checks are gone"
    alarms = names.aws("cloudwatch", EAST).describe_alarms(AlarmNamePrefix=names.stack)
    assert [a["AlarmName"] for a in alarms["MetricAlarms"]] == [f"{names.stack}-{EAST}-health-copy"]
    kept = sorted((r["Type"], r.get("SetIdentifier", "")) for r in _record_sets(names))
    # The foreign certificate still needs the validation CNAME, so it stays as well.
    assert kept == [("A", "someone-else"), ("CNAME", ""), ("TXT", "")]
