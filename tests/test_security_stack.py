"""Security of a deployed stack, checked from the outside with boto3 against a sandbox.

One stack (custom domain, failover routing, alarm e-mail) in a time-scaled
sandbox serves both checks:

- the function's role allows exactly what SPEC §4.1 lists: the set of
  (action, resource) pairs of its policies is compared whole, the trust policy
  names only lambda.amazonaws.com, nothing is attached, and drift (an extra
  inline policy, an attached managed one) is removed by the next `up`;
- the health-checker secret, read from the functions before and after every
  rotation, never appears in the output of any command (human, --json, -v),
  nor in an error path (an injected AccessDenied), nor in FAILOVER_CALL_LOG,
  nor in the functions' own log events.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from failover_cli.aws.clients import ClientFactory
from failover_cli.aws.errors import iam_action
from failover_cli.cli.state import AppState
from tests.conftest import launch_sandbox_process
from tests.e2e_helpers import Run, failover, offline_aws, write_config

# One worker runs the whole module: its stack (a module fixture) is then built once
# (`--dist loadgroup`, pyproject's addopts).
pytestmark = [pytest.mark.sandbox, pytest.mark.xdist_group("security_stack")]
EAST, WEST = "us-east-1", "us-west-2"
REGIONS = (EAST, WEST)
TIME_SCALE = 20
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
SECRET_VARIABLES = ("HEALTH_CHECKER_ID", "HEALTH_CHECKER_ID_NEXT")


@dataclass
class Stack:
    name: str
    domain: str
    config: Path
    endpoint: str
    runs: list[tuple[str, Run]] = field(default_factory=list)

    @property
    def function(self) -> str:
        return f"{self.name}-fn"

    @property
    def table(self) -> str:
        return f"{self.name}.Hello"

    def client(self, service: str, region: str = EAST) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint)

    def run(self, *args: str, expect: tuple[int, ...] = (0,)) -> Run:
        """`failover <args>`, kept for the leak check; its exit code must be one of `expect`."""
        result = failover(self.config, *args)
        self.runs.append((" ".join(args), result))
        assert result.exit_code in expect, (args, result.exit_code, result.stdout, result.stderr)
        crash = result.result.exception
        assert crash is None or isinstance(crash, SystemExit), (args, crash)
        assert "Traceback" not in result.stderr or "-v" in args, result.stderr
        return result

    def secrets(self) -> set[str]:
        """Every secret the functions accept right now (current and, mid-rotation, next)."""
        found = set()
        for region in REGIONS:
            conf = self.client("lambda", region).get_function_configuration(
                FunctionName=self.function
            )
            variables = conf["Environment"]["Variables"]
            found |= {variables[v] for v in SECRET_VARIABLES if variables.get(v)}
        return found


@pytest.fixture
def stack(deployed: Stack, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """The module's stack, with this test's environment pointed at its sandbox again
    (conftest clears AWS_* and FAILOVER_* before every test)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", deployed.endpoint)
    monkeypatch.setenv("FAILOVER_RESOLVE", _resolve(deployed.endpoint, deployed.domain))
    return deployed


def _resolve(endpoint: str, domain: str) -> str:
    return ",".join(f"{h}={endpoint}" for h in ("*.amazonaws.com", "*.localhost", domain))


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A deployed stack in its own time-scaled sandbox; `down` at the end whatever happened."""
    sandbox = launch_sandbox_process(
        tmp_path_factory.mktemp("sec-sandbox"), "--time-scale", str(TIME_SCALE)
    )
    with pytest.MonkeyPatch.context() as patch:
        offline_aws(patch, tmp_path_factory.mktemp("sec-awshome"))
        try:
            sandbox.wait_until_ready()
            name = f"sec{uuid.uuid4().hex[:8]}"
            zone, domain = f"{name}.test", f"app.{name}.test"
            patch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint)
            patch.setenv("FAILOVER_RESOLVE", _resolve(sandbox.endpoint, domain))
            boto3.client("route53", EAST, endpoint_url=sandbox.endpoint).create_hosted_zone(
                Name=zone, CallerReference=uuid.uuid4().hex
            )
            folder = tmp_path_factory.mktemp("sec-stack")
            config = write_config(
                folder,
                name,
                f"domain:\n  name: {domain}\n  hosted_zone: {zone}\n  routing: failover\n"
                "health_check:\n  interval_s: 10\n  failure_threshold: 1\n"
                "alarms:\n  email: ops@example.com\n",
            )
            made = Stack(name, domain, config, sandbox.endpoint)
            made.run("up")
            yield made
        finally:
            try:
                if "made" in locals():
                    failover(made.config, "down", "--yes")
            finally:
                sandbox.stop()


# --- the role ---------------------------------------------------------------------------


def _statements(document: dict[str, Any] | str) -> list[dict[str, Any]]:
    if isinstance(document, str):
        document = json.loads(document)
    assert isinstance(document, dict)
    statements = document["Statement"]
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _granted(iam: Any, role: str) -> set[tuple[str, str]]:
    """Every (action, resource) pair the role's inline policies allow."""
    pairs: set[tuple[str, str]] = set()
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for statement in _statements(document):
            assert statement["Effect"] == "Allow", statement
            assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, (
                f"only plain Action/Resource grants (no NotAction, NotResource, Principal, "
                f"Condition): {statement}"
            )
            for action in _as_list(statement["Action"]):
                for resource in _as_list(statement["Resource"]):
                    pairs.add((action, resource))
    return pairs


def _expected_pairs(stack: Stack, account: str) -> set[tuple[str, str]]:
    group = f"/aws/lambda/{stack.function}"
    return {
        ("dynamodb:GetItem", f"arn:aws:dynamodb:{r}:{account}:table/{stack.table}") for r in REGIONS
    } | {
        (action, f"arn:aws:logs:{r}:{account}:log-group:{group}:*")
        for r in REGIONS
        for action in LOG_ACTIONS
    }


def _assert_least_privilege(stack: Stack) -> None:
    iam = stack.client("iam")
    role_name = f"{stack.name}-function"
    role = iam.get_role(RoleName=role_name)["Role"]
    account = role["Arn"].split(":")[4]

    [trust] = _statements(role["AssumeRolePolicyDocument"])
    assert trust["Effect"] == "Allow" and _as_list(trust["Action"]) == ["sts:AssumeRole"]
    principal = {kind: _as_list(who) for kind, who in trust["Principal"].items()}
    assert principal == {"Service": ["lambda.amazonaws.com"]}, "only Lambda may assume it"
    assert "Condition" not in trust and "NotPrincipal" not in trust

    granted = _granted(iam, role_name)
    assert granted == _expected_pairs(stack, account)
    assert not [a for a, _ in granted if "*" in a or "?" in a], "wildcard actions"
    for _, resource in granted:
        # The only wildcard: any log stream inside the function's own log group.
        assert "*" not in resource.removesuffix(":*") and "?" not in resource, resource
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    assert "PermissionsBoundary" not in role or role["PermissionsBoundary"] is None

    for region in REGIONS:
        lam = stack.client("lambda", region)
        conf = lam.get_function_configuration(FunctionName=stack.function)
        assert conf["Role"] == role["Arn"], "the function runs as this role, and only it"
        # Who may invoke the function: API Gateway, from the stack's own API only, and only
        # through the `live` alias it invokes (issue 21); $LATEST grants nobody anything.
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_policy(FunctionName=stack.function)
        alias_policy = lam.get_policy(FunctionName=stack.function, Qualifier="live")["Policy"]
        [permission] = _statements(alias_policy)
        invokers = {kind: _as_list(who) for kind, who in permission["Principal"].items()}
        assert invokers == {"Service": ["apigateway.amazonaws.com"]}
        assert _as_list(permission["Action"]) == ["lambda:InvokeFunction"]
        api_id = next(
            a["id"]
            for a in stack.client("apigateway", region).get_rest_apis()["items"]
            if a["name"] == stack.name
        )
        source = permission["Condition"]["ArnLike"]["AWS:SourceArn"]
        assert source == f"arn:aws:execute-api:{region}:{account}:{api_id}/*/*/*"


def test_the_function_role_allows_exactly_spec_4_1(stack: Stack) -> None:
    _assert_least_privilege(stack)

    # Someone widens the role by hand: the next `up` takes it back to exactly §4.1.
    iam = stack.client("iam")
    role_name = f"{stack.name}-function"
    wide = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    )
    iam.put_role_policy(RoleName=role_name, PolicyName="extra", PolicyDocument=wide)
    policy_arn = iam.create_policy(PolicyName=f"{stack.name}-admin", PolicyDocument=wide)["Policy"][
        "Arn"
    ]
    iam.attach_role_policy(RoleName=role_name, PolicyArn=policy_arn)
    plan = stack.run("--json", "plan", "--detailed-exitcode", expect=(3,))
    updates = [c for c in json.loads(plan.stdout)["changes"] if c["kind"] == "role"]
    assert [c["action"] for c in updates] == ["update"]
    assert {"extra_policies", "managed_policies"} <= set(updates[0]["fields"])
    stack.run("up")
    _assert_least_privilege(stack)
    iam.delete_policy(PolicyArn=policy_arn)  # detached by `up`: deletable
    stack.run("plan", "--detailed-exitcode")  # converged again


# --- the secret -------------------------------------------------------------------------


def _healthy_with_primary_serving(stack: Stack, timeout: float = 90) -> None:
    """`status --json` until every region is healthy and the primary serves (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        run = failover(stack.config, "status", "--json")
        stack.runs.append(("status --json (poll)", run))
        data = json.loads(run.stdout) if run.stdout.strip() else {}
        if run.exit_code == 0 and data.get("serving_region") == EAST:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the stack never settled: {run.stdout}{run.stderr}")
        time.sleep(0.5)


def _deny(monkeypatch: pytest.MonkeyPatch, operation: str) -> None:
    """Every `operation` call of the next commands fails with a realistic AccessDenied."""

    def refuse(service: str, op: str, request: dict[str, Any]) -> ClientError:
        target = request.get("url_path", "*")
        message = (  # as AWS words it: the action, and the resource by id
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
            f"{iam_action(service, op)} on resource: {target}"
        )
        return ClientError({"Error": {"Code": "AccessDenied", "Message": message}}, op)  # type: ignore[arg-type]

    _fail(monkeypatch, operation, refuse)


def _echo(monkeypatch: pytest.MonkeyPatch, operation: str) -> set[str]:
    """`operation` fails with an error that quotes the request, as some AWS validation
    errors do (Lambda's 4 KB environment limit prints the whole environment). Returns the
    secrets those requests carried (a refused new one exists nowhere else)."""
    quoted: set[str] = set()

    def refuse(_service: str, op: str, request: dict[str, Any]) -> ClientError:
        sent = json.loads(request["body"])  # the serialised request: {"Environment": …}
        variables = sent["Environment"]["Variables"]
        quoted.update(variables[v] for v in SECRET_VARIABLES if variables.get(v))
        message = (
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided exceeded the 4KB limit. String measured: "
            + json.dumps(variables)
        )
        error = {"Error": {"Code": "InvalidParameterValueException", "Message": message}}
        return ClientError(error, op)  # type: ignore[arg-type]

    _fail(monkeypatch, operation, refuse)
    return quoted


def _fail(
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    error: Callable[[str, str, dict[str, Any]], ClientError],
) -> None:
    def clients(self: AppState, original: Callable[[AppState], ClientFactory]) -> ClientFactory:
        factory = original(self)

        def hook(service: str, _region: str, op: str, request: dict[str, Any]) -> None:
            if op == operation:  # `request` is botocore's serialised request dict
                raise error(service, op, request)

        factory.add_hook(hook)
        return factory

    original = AppState.clients
    monkeypatch.setattr(AppState, "clients", lambda self: clients(self, original))


def _function_log_text(stack: Stack) -> str:
    """Every event the functions wrote to their log groups, as one text."""
    texts = []
    for region in REGIONS:
        logs = stack.client("logs", region)
        group = f"/aws/lambda/{stack.function}"
        for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=group):
            for log_stream in page["logStreams"]:
                events = logs.get_log_events(
                    logGroupName=group, logStreamName=log_stream["logStreamName"]
                )["events"]
                texts.extend(e["message"] for e in events)
    return "\n".join(texts)


# About forty commands, two drills and four rotations (each waiting for every checker to
# probe the new secret): 140-180 s on a loaded two-core run, past the default 300 s once.
@pytest.mark.timeout(600)
def test_the_secret_never_appears_in_any_output_or_log(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = stack.secrets()
    assert len(secrets) == 1 and all(len(s) >= 32 for s in secrets)
    # Control: this is the value on the wire (the health checks' path carries it).
    r53 = stack.client("route53")
    paths = [
        c["HealthCheckConfig"].get("ResourcePath", "")
        for c in r53.list_health_checks()["HealthChecks"]
    ]
    assert any(next(iter(secrets)) in path for path in paths)

    for args in (
        ("validate",), ("--json", "validate"), ("-v", "validate"),
        ("up",), ("-v", "up"), ("up", "--json"),
        ("plan",), ("plan", "--json"), ("-v", "plan"),
    ):  # fmt: skip
        stack.run(*args)
    _healthy_with_primary_serving(stack)
    for args in (("status",), ("status", "--json"), ("-v", "status", "--json")):
        stack.run(*args)

    stack.run("force-fail", "--region", EAST, "--wait", "--json", "--timeout", "2m")
    stack.run("-v", "force-fail", "--region", EAST, "--restore", "--wait", "--timeout", "2m")
    _healthy_with_primary_serving(stack)
    stack.run("drill", "--region", EAST, "--json", "--timeout", "2m")
    stack.run("-v", "drill", "--region", EAST, "--timeout", "2m")
    _healthy_with_primary_serving(stack)
    stack.run("gc-logs", "--dry-run", "--min-age", "0s")
    stack.run("-v", "gc-logs", "--json")

    # Drift: one function's environment as an older deployment (or a hand edit) left it, so
    # plan and up show an environment change whose old and new values hold the secret.
    lam = stack.client("lambda", WEST)
    [secret] = secrets
    lam.update_function_configuration(
        FunctionName=stack.function,
        Environment={"Variables": {"HEALTH_CHECKER_ID": secret, "TABLE_NAME": stack.table}},
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=stack.function)
    stack.run("plan", "--detailed-exitcode", expect=(3,))
    stack.run("plan", "--json", "--detailed-exitcode", expect=(3,))
    stack.run("-v", "up")
    stack.run("plan")

    stack.run("rotate-secret", "--json")
    secrets |= stack.secrets()
    stack.run("-v", "rotate-secret")
    secrets |= stack.secrets()
    assert len(secrets) == 3, "two rotations, three secrets"

    # Error paths: the rotation is denied after the functions accept a second secret.
    with monkeypatch.context() as patched:
        _deny(patched, "UpdateHealthCheck")
        denied = stack.run("rotate-secret", expect=(1,))
        denied_verbose = stack.run("-v", "rotate-secret", "--json", expect=(1,))
    secrets |= stack.secrets()  # the pending next secret
    assert len(secrets) == 4
    for run in (denied, denied_verbose):
        assert "Access denied" in run.stderr and "route53:UpdateHealthCheck" in run.stderr
    assert "Traceback" in denied_verbose.stderr  # -v shows it: the secret still must not be in it
    with monkeypatch.context() as patched:
        _deny(patched, "UpdateItem")  # the switch write
        stack.run("-v", "force-fail", "--region", WEST, expect=(1,))
    stack.run("rotate-secret")  # resumes the pending one
    secrets |= stack.secrets()
    # An AWS error that quotes the request (here: the environment holding both secrets).
    with monkeypatch.context() as patched:
        quoted = _echo(patched, "UpdateFunctionConfiguration")
        echoed = stack.run("rotate-secret", expect=(1,))
        assert "InvalidParameterValueException" in echoed.stderr, echoed.stderr
        stack.run("-v", "rotate-secret", expect=(1,))
        stack.run("--json", "rotate-secret", expect=(1,))
    assert len(quoted - secrets) == 3, "each refused run tried a new secret, quoted back"
    secrets |= quoted | stack.secrets()
    stack.run("rotate-secret")
    secrets |= stack.secrets()
    for args in (("plan",), ("status",), ("-v", "status", "--json")):
        stack.run(*args, expect=(0, 3))

    function_logs = _function_log_text(stack)
    stack.run("-v", "down", "--yes", "--keep-table")
    stack.run("down", "--yes", "--json")

    assert len(stack.runs) >= 30
    assert function_logs.strip(), "the functions wrote logs to look into"
    for secret in secrets:
        for label, run in stack.runs:
            assert secret not in run.stdout, f"{label} printed a secret on stdout"
            assert secret not in run.stderr, f"{label} printed a secret on stderr"
            assert secret[:12] not in run.stdout + run.stderr, f"{label} showed too much of it"
        for call_log in stack.config.parent.glob("calls-*.jsonl"):
            assert secret not in call_log.read_text(), f"{call_log.name} holds a secret"
        assert secret not in function_logs, "a function logged a secret"
    assert list(stack.config.parent.glob("calls-*.jsonl")), "the call log was written"
