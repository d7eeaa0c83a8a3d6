"""Changing a stack's config in every direction on the sandbox: `up` converges, safely.

One stack with a custom domain and latency routing serves the module (building one takes
a while): two regions, then eu-west-1 added, then removed again. Each change is followed
by a second `up` that makes no mutating call, and an inventory (plain boto3, not the tool)
shows nothing owned where it should not be.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from tests.e2e_helpers import NO_BAKE, Run, failover, offline_aws
from tests.faults import Fault, FaultInjector, Rule
from tests.sandbox_api_helpers import http
from tests.sandbox_outbox_helpers import CONFIRMATION, Outbox, link
from tests.stack_inventory import inventory

# Two workers at most run the module, each building its stack (a module fixture) once
# (`--dist loadgroup`, pyproject's addopts): the region tests (REGIONS_GROUP) on one, the
# rest on another. On one worker the module alone took about as long as the suite's
# target (8 minutes on CI's 2 cores); every test starts from `reset`, so either split works.
pytestmark = [pytest.mark.sandbox, pytest.mark.xdist_group("e2e_shrink")]
# With the module's mark too, xdist names the group "e2e_shrink_e2e_shrink_regions".
REGIONS_GROUP = pytest.mark.xdist_group("e2e_shrink_regions")

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"


@dataclass
class Stack:
    name: str
    zone: str
    zone_id: str
    domain: str
    config: Path
    endpoint: str
    table: str = ""
    function: str = ""

    def __post_init__(self) -> None:
        self.table = self.table or f"t{self.name}"
        self.function = self.function or f"f{self.name}"

    def write(
        self,
        regions: tuple[str, ...],
        *,
        domain: bool = True,
        extra: str = "",
        domain_extra: str = "",
    ) -> None:
        text = (
            f"stack: {self.name}\n"
            f"regions: [{', '.join(regions)}]\n"
            f"table: {{name: {self.table}, billing: on-demand}}\n"
            f"function: {{name: {self.function}}}\n"
            # A renamed table is a release (the function's TABLE_NAME): not baked here.
            f"{NO_BAKE}"
        )
        if domain:
            text += f"domain:\n  name: {self.domain}\n  hosted_zone: {self.zone}\n"
            text += domain_extra
        self.config.write_text(text + extra)

    def run(self, *args: str) -> Run:
        run = failover(self.config, *args)
        assert run.exit_code == 0, (run.stdout, run.stderr, run.result.exception)
        return run

    def owned(self, *regions: str) -> dict[str, list[str]]:
        """What of the stack exists in `regions` (the alarms and checks of those regions;
        not the role and topic, which are global)."""
        found = self.everything(*regions)
        found["alarm"] = [a for a in found.get("alarm", []) if any(r in a for r in regions)]
        found["health_check"] = [
            c for c in found.get("health_check", []) if any(r in c for r in regions)
        ]
        found["record"] = [
            r for r in found.get("record", []) if any(r.endswith(g) for g in regions)
        ]
        return {k: names for k, names in found.items() if names and k not in ("role", "topic")}

    def everything(self, *regions: str) -> dict[str, list[str]]:
        """What of the stack exists in `regions`, the global role and topic included."""
        return inventory(
            self.endpoint,
            self.name,
            table=self.table,
            function=self.function,
            domain=self.domain,
            zone_id=self.zone_id,
            regions=regions,
        )

    def reset(self) -> None:
        """The module's starting point, whatever an earlier test left (tests may run in any
        order and on any worker): two regions with the domain, converged."""
        self.write((EAST, WEST))
        self.run("up", "--yes", "--allow-data-loss")

    def replicas(self) -> list[str]:
        table = boto3.client("dynamodb", EAST).describe_table(TableName=self.table)["Table"]
        return sorted(r["RegionName"] for r in table.get("Replicas", []))


@pytest.fixture(scope="module")
def stack(sandbox_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Two regions with a domain and latency routing, up; `down` at the end whatever happened."""
    with pytest.MonkeyPatch.context() as patch:
        offline_aws(patch, tmp_path_factory.mktemp("shrink-awshome"))
        patch.setenv("AWS_ENDPOINT_URL", sandbox_endpoint)
        patch.setenv("FAILOVER_RESOLVE", f"*={sandbox_endpoint}")
        name = f"s{uuid.uuid4().hex[:9]}"
        zone = f"{name}.test"
        zone_id = boto3.client("route53", EAST).create_hosted_zone(
            Name=zone, CallerReference=uuid.uuid4().hex
        )["HostedZone"]["Id"]
        folder = tmp_path_factory.mktemp("shrink")
        made = Stack(name, zone, zone_id, f"app.{zone}", folder / "failover.yaml", sandbox_endpoint)
        made.write((EAST, WEST))
        try:
            made.run("up")
            yield made
        finally:
            failover(made.config, "down", "--yes")  # finds every region the stack has


# (what changes in the config, the deletions plan lists as (kind, region, name) with "{domain}"
# and "{table}" standing for the deployed names). Replacements are not deletions.
CHANGES: list[tuple[str, dict[str, object], set[tuple[str, str, str]]]] = [
    ("nothing", {}, set()),
    ("a region added", {"regions": (EAST, WEST, EU)}, set()),
    (
        "the domain removed",
        {"domain": False},
        {
            (k, r, "{domain}")
            for k in ("record", "base_path_mapping", "domain_name", "certificate")
            for r in (EAST, WEST)
        },
    ),
    (
        "domain.name changed",
        {"domain_name": "www"},
        {
            (k, r, "{domain}")
            for k in ("record", "base_path_mapping", "domain_name", "certificate")
            for r in (EAST, WEST)
        },
    ),
    ("domain.base_path changed", {"extra": "  base_path: v2\n"}, set()),
    ("failover routing", {"extra": "  routing: failover\n"}, set()),
    ("a new interval (a replaced check)", {"extra": "health_check: {interval_s: 30}\n"}, set()),
    (
        "other checker regions",
        {"extra": "health_check: {checker_regions: [us-east-1, eu-west-1, ap-southeast-1]}\n"},
        set(),
    ),
    (
        "table.name changed",
        {"table": "2"},
        {("table", EAST, "{table}"), ("replica", WEST, "{table}")},
    ),
    (
        "function.name changed",
        {"function": "2"},
        {
            (kind, region, name)
            for region in (EAST, WEST)
            for kind, name in (("function", "{function}"), ("log_group", "/aws/lambda/{function}"))
        },
    ),
]


@pytest.mark.parametrize(("change", "edit", "deleted"), CHANGES, ids=[c[0] for c in CHANGES])
def test_plan_lists_exactly_the_deletions_a_change_makes(
    stack: Stack,
    sandbox_env: str,
    change: str,
    edit: dict[str, object],
    deleted: set[tuple[str, str, str]],
) -> None:
    stack.reset()
    base = Stack(**{**stack.__dict__})
    base.table = stack.table + str(edit.get("table", ""))
    base.function = stack.function + str(edit.get("function", ""))
    if "domain_name" in edit:
        base.domain = f"{edit['domain_name']}.{stack.zone}"
    regions = edit.get("regions", (EAST, WEST))
    assert isinstance(regions, tuple)
    extra = str(edit.get("extra", ""))
    if extra.startswith("  "):  # a domain setting
        base.write(regions, domain_extra=extra)
    else:
        base.write(regions, domain=edit.get("domain", True) is not False, extra=extra)
    try:
        plan = failover(stack.config, "plan", "--json", "--detailed-exitcode")
    finally:
        stack.write((EAST, WEST))
    # Every case but "nothing" changes the stack: changes pending, which plan's exit
    # code says (3); with none, 0.
    assert plan.exit_code == (3 if edit else 0), plan.stderr
    report = json.loads(plan.stdout)
    assert bool(report["changes"]) is bool(edit), report
    listed = {(d["kind"], d["region"], d["name"]) for d in report["deletions"]}
    names = {"{domain}": stack.domain, "{table}": stack.table, "{function}": stack.function}
    expected = set()
    for kind, region, name in deleted:
        for placeholder, value in names.items():
            name = name.replace(placeholder, value)
        expected.add((kind, region, name))
    assert listed == expected, change
    assert plan.mutating == []


@REGIONS_GROUP
def test_a_region_added_then_removed_leaves_nothing_owned_there(
    stack: Stack, sandbox_env: str
) -> None:
    stack.reset()
    stack.write((EAST, WEST, EU))
    added = stack.run("up")
    there = stack.owned(EU)
    for kind in ("table", "function", "api", "health_check", "record", "alarm", "log_group"):
        assert there.get(kind), (kind, there)
    # DNS took the region in only once its check reported healthy (the name was live).
    joined = " ".join(added.stderr.split())
    assert "waiting for the health check to report healthy first" in joined
    # The region's own probe (its switch readers and CALCULATED check are listed too).
    probe = [c for c in there["health_check"] if c.endswith(f"({stack.name}-{EU})")]
    check = probe[0].split()[0]
    seen = boto3.client("route53", EAST).get_health_check_status(HealthCheckId=check)
    reports = [o["StatusReport"]["Status"] for o in seen["HealthCheckObservations"]]
    assert sum(r.startswith("Success") for r in reports) / len(reports) > 0.18, reports
    assert stack.replicas() == [EU, WEST]
    assert stack.run("up").mutating == []

    stack.write((EAST, WEST))
    plan = failover(stack.config, "plan", "--detailed-exitcode")
    assert plan.exit_code == 3, plan.stderr
    section = plan.stdout.split("Deletions", 1)[1]
    for kind in ("record", "health_check", "replica", "function", "api", "alarm"):
        assert f"{kind} " in section and EU in section, (kind, section)
    assert f"loses the {EU} replica of {stack.table}" in " ".join(section.split())

    refused = failover(stack.config, "up")  # no TTY, no --yes
    assert refused.exit_code == 2, refused.stderr
    assert "--yes" in refused.stderr
    assert refused.calls and refused.mutating == []

    removed = stack.run("up", "--yes")
    assert stack.owned(EU) == {}, (removed.stdout, removed.stderr)
    assert stack.replicas() == [WEST]
    assert stack.run("up").mutating == []
    assert set(stack.owned(EAST, WEST)) >= {"function", "api", "record", "health_check"}


@REGIONS_GROUP
def test_a_region_removal_cut_short_converges_on_the_next_up(
    stack: Stack, sandbox_env: str
) -> None:
    stack.reset()
    stack.write((EAST, WEST, EU))
    stack.run("up")
    stack.write((EAST, WEST))
    # Cut once the region's record and every health check naming it are gone: the API's
    # delete (its answer lost) waits for the checks that probe it, and nothing waits for the
    # API but its function and what that holds, so only the replica and the tagged
    # resources still name eu-west-1. (A cut at the first DeleteHealthCheck landed where the
    # threads happened to be: on the region's calculated check, it held its children back.)
    patch = pytest.MonkeyPatch()
    try:
        rule = Rule(
            Fault.FAIL,
            operations=("apigateway:DeleteRestApi",),
            regions=(EU,),
            after=True,
            limit=1,
        )
        FaultInjector([rule]).install(patch)
        cut = failover(stack.config, "up", "--yes")
    finally:
        patch.undo()
    assert cut.exit_code == 1, cut.stderr
    half = stack.owned(EU)
    assert "health_check" not in half and "record" not in half
    assert half.get("function") or half.get("api") or half.get("table"), half

    stack.run("up", "--yes")
    assert stack.owned(EU) == {}
    assert stack.replicas() == [WEST]
    assert stack.run("up").mutating == []


@REGIONS_GROUP
def test_the_primary_moves_only_to_a_region_that_has_a_replica(
    stack: Stack, sandbox_env: str
) -> None:
    stack.reset()
    stack.write((EU, EAST, WEST))  # no replica in eu-west-1: a second, empty table
    refused = failover(stack.config, "up", "--yes")
    assert refused.exit_code == 2, refused.stderr
    assert "no replica in eu-west-1" in " ".join(refused.stderr.split())
    assert refused.calls and refused.mutating == []

    stack.write((WEST, EAST))  # us-west-2 holds a replica: only the order changes
    assert stack.run("up").mutating == []
    stack.write((EAST, WEST))
    assert stack.run("up").mutating == []


def _zone_records(stack: Stack) -> list[str]:
    sets = boto3.client("route53", EAST).list_resource_record_sets(HostedZoneId=stack.zone_id)
    return [
        f"{r['Name']} {r['Type']}"
        for r in sets["ResourceRecordSets"]
        if r["Type"] not in ("NS", "SOA")
    ]


def test_the_domain_removed_then_added_back_converges_each_time(
    stack: Stack, sandbox_env: str
) -> None:
    stack.reset()
    stack.write((EAST, WEST), domain=False)
    plan = failover(stack.config, "plan", "--json", "--detailed-exitcode")
    assert plan.exit_code == 3, plan.stderr
    deleted = {(d["kind"], d["region"]) for d in json.loads(plan.stdout)["deletions"]}
    for region in (EAST, WEST):
        for kind in ("record", "base_path_mapping", "domain_name", "certificate"):
            assert (kind, region) in deleted, (kind, region, deleted)
    refused = failover(stack.config, "up")
    assert refused.exit_code == 2 and refused.mutating == [], refused.stderr

    stack.run("up", "--yes")
    left = stack.owned(EAST, WEST)
    assert not {"certificate", "domain_name", "record"} & set(left), left
    assert _zone_records(stack) == []  # the alias records and the validation CNAME are gone
    assert stack.run("up").mutating == []

    stack.write((EAST, WEST))
    stack.run("up")
    back = stack.owned(EAST, WEST)
    assert len(back["certificate"]) == 2 and len(back["domain_name"]) == 2, back
    assert len(_zone_records(stack)) == 3  # an alias per region and the validation CNAME
    assert stack.run("up").mutating == []


def test_a_renamed_table_is_deleted_only_with_allow_data_loss(
    stack: Stack, sandbox_env: str
) -> None:
    stack.reset()
    old = stack.table
    stack.table = f"{old}2"
    stack.write((EAST, WEST))
    plan = failover(stack.config, "plan", "--json")
    deleted = {(d["kind"], d["name"], d["loses"]) for d in json.loads(plan.stdout)["deletions"]}
    assert ("table", old, f"table {old} and all its items") in deleted, deleted
    refused = failover(stack.config, "up", "--yes")
    assert refused.exit_code == 2 and refused.mutating == [], refused.stderr
    assert "--allow-data-loss" in refused.stderr

    stack.run("up", "--yes", "--allow-data-loss")
    for region in (EAST, WEST):  # the table and its replica
        ddb = boto3.client("dynamodb", region)
        with pytest.raises(ddb.exceptions.ResourceNotFoundException):
            ddb.describe_table(TableName=old)
    assert stack.replicas() == [WEST]  # of the new table
    assert stack.run("up").mutating == []


def test_a_renamed_function_leaves_no_old_function_behind(stack: Stack, sandbox_env: str) -> None:
    stack.reset()
    old = stack.function
    stack.function = f"{old}2"
    stack.write((EAST, WEST))
    stack.run("up", "--yes")
    for region in (EAST, WEST):
        lam = boto3.client("lambda", region)
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName=old)
        groups = boto3.client("logs", region).describe_log_groups(
            logGroupNamePrefix=f"/aws/lambda/{old}"
        )["logGroups"]
        assert [g["logGroupName"] for g in groups if g["logGroupName"].endswith(old)] == []
    assert set(stack.owned(EAST, WEST)) >= {"function", "log_group", "api"}
    assert stack.run("up").mutating == []


def test_a_new_base_path_then_a_new_domain_name_converge(stack: Stack, sandbox_env: str) -> None:
    stack.reset()
    stack.write((EAST, WEST), domain_extra="  base_path: v2\n")
    moved = stack.run("up")  # a moved mapping deletes nothing: no confirmation needed
    assert moved.mutating and stack.run("up").mutating == []

    old = stack.domain
    renamed = Stack(**{**stack.__dict__})
    renamed.domain = f"www.{stack.zone}"
    renamed.write((EAST, WEST))
    stack.run("up", "--yes")
    for region in (EAST, WEST):
        items = boto3.client("apigateway", region).get_domain_names()["items"]
        names = {d["domainName"] for d in items}
        assert renamed.domain in names and old not in names, names
    records = _zone_records(stack)
    assert all(old not in r for r in records) and len(records) == 3, records
    assert stack.run("up").mutating == []
    stack.write((EAST, WEST))  # back to the module's domain (the next reset converges)


def _email_subscriptions(stack: Stack) -> list[str]:
    sns = boto3.client("sns", EAST)
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if stack.name in t["TopicArn"])
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    return [s["Endpoint"] for s in subs if s["Protocol"] == "email"]


def test_removing_the_alarm_email_unsubscribes_it(
    stack: Stack, sandbox_env: str, sandbox_outbox: Path
) -> None:
    stack.reset()
    email = f"ops-{stack.name}@example.com"
    stack.write((EAST, WEST), extra=f"alarms:\n  email: {email}\n")
    stack.run("up")
    # The session's sandbox writes its e-mail to its own outbox; the link confirms.
    outbox = Outbox(sandbox_outbox)
    http(link(outbox.wait_for(email, CONFIRMATION), "confirm"))
    assert _email_subscriptions(stack) == [email]

    stack.write((EAST, WEST))
    plan = failover(stack.config, "plan", "--json")
    kinds = [d["kind"] for d in json.loads(plan.stdout)["deletions"]]
    assert kinds == ["subscription"], plan.stdout
    stack.run("up", "--yes")
    assert _email_subscriptions(stack) == []
    assert stack.run("up").mutating == []


@REGIONS_GROUP
def test_down_also_removes_a_region_the_config_no_longer_lists(
    stack: Stack, sandbox_env: str
) -> None:
    """It takes the stack down (the next test's reset builds it again)."""
    stack.reset()
    stack.write((EAST, WEST, EU))
    stack.run("up")
    stack.write((EAST, WEST))  # the region left the config before any `up --yes`
    stack.run("down", "--yes")
    assert stack.everything(EAST, WEST, EU) == {}
    assert failover(stack.config, "down", "--yes").mutating == []
