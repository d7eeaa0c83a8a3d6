"""Lambda function handler against moto: created, converged, merged environment, deleted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from failover_cli.aws.retry import Clock
from failover_cli.bundle import CodeBundle, build_bundle
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.errors import ConflictError
from failover_cli.resources.function import HANDLER, desired, role_not_ready
from tests.engine_helpers import context, make_config

NAME = "thelambda"
ROLE = "hello-function"
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


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _make_role() -> None:
    boto3.client("iam", "us-east-1").create_role(
        RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST)
    )


@pytest.fixture
def role(aws: None) -> None:
    _make_role()


def _bundle(tmp_path: Path, text: str = "hello") -> CodeBundle:
    source = tmp_path / f"src-{text}"
    source.mkdir(exist_ok=True)
    (source / "handler.py").write_text(f"def handler(event, context):\n    return {text!r}\n")
    return build_bundle(source)


def _spec(code: CodeBundle, secret: str = "s3cret", **config: Any) -> Spec:
    return desired(DesiredInputs(make_config(**config), secret, code))[0]


def _environment() -> dict[str, str]:
    conf = boto3.client("lambda", "us-east-1").get_function_configuration(FunctionName=NAME)
    variables: dict[str, str] = conf["Environment"]["Variables"]
    return variables


def _set_environment(variables: dict[str, str]) -> None:
    boto3.client("lambda", "us-east-1").update_function_configuration(
        FunctionName=NAME, Environment={"Variables": variables}
    )


def test_desired_environment_and_dependencies(tmp_path: Path) -> None:
    from failover_cli.config.schema import FunctionConfig

    code = _bundle(tmp_path)
    specs = desired(
        DesiredInputs(make_config(function=FunctionConfig(environment={"MODE": "x"})), "id", code)
    )
    assert [s.region for s in specs] == ["us-east-1", "us-west-2"]
    spec = specs[1]
    assert spec.depends_on == (
        "role:global:hello-function",
        "log_group:us-west-2:/aws/lambda/thelambda",
    )
    assert dict(spec.props.environment) == {
        "TABLE_NAME": "prod.Hello",
        "DEEP_PING_PERCENT": "10",
        "FORCE_FAIL": "false",
        "HEALTH_CHECKER_ID": "id",
        "DEEP_PING_KEY": '{"HelloKey":"Hello"}',
        "DEEP_PING_ATTRIBUTE": "Hello",
        "MODE": "x",
    }
    assert spec.props.handler == "handler.handler"
    assert spec.props.code_sha256 == code.sha256


def test_create_then_observe_shows_no_diff(role: None, tmp_path: Path) -> None:
    code = _bundle(tmp_path)
    spec = _spec(code)
    with context() as (ctx, _):
        assert not HANDLER.observe(ctx, spec).exists
        HANDLER.create(ctx, spec)
        seen = HANDLER.observe(ctx, spec)
    assert seen.exists and seen.owned
    assert HANDLER.diff(spec, seen) == []
    conf = boto3.client("lambda", "us-east-1").get_function_configuration(FunctionName=NAME)
    assert conf["Role"] == f"arn:aws:iam::123456789012:role/{ROLE}"
    assert conf["Architectures"] == ["arm64"]
    assert conf["CodeSha256"] == code.sha256
    assert _environment()["FORCE_FAIL"] == "false"
    assert not any(k.startswith("AWS_") for k in _environment())


def test_planning_reads_each_function_once(role: None, tmp_path: Path) -> None:
    spec = _spec(_bundle(tmp_path))
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
    with context() as (ctx, recorder):
        HANDLER.observe(ctx, spec)
        HANDLER.observe(ctx, spec)
    assert [c[2] for c in recorder.calls].count("GetFunction") == 1
    assert recorder.mutating == []


def test_code_is_uploaded_only_when_its_hash_changes(role: None, tmp_path: Path) -> None:
    with context() as (ctx, recorder):
        HANDLER.create(ctx, _spec(_bundle(tmp_path)))

        from failover_cli.config.schema import FunctionConfig

        bigger = _spec(_bundle(tmp_path), function=FunctionConfig(memory_mb=256))
        seen = HANDLER.observe(ctx, bigger)
        assert [c.field for c in HANDLER.diff(bigger, seen)] == ["memory"]
        recorder.calls.clear()
        HANDLER.update(ctx, bigger, seen, HANDLER.diff(bigger, seen))
        assert ("lambda", "us-east-1", "UpdateFunctionCode") not in recorder.calls

        new_code = _bundle(tmp_path, "changed")
        changed = _spec(new_code, function=FunctionConfig(memory_mb=256))
        seen = HANDLER.observe(ctx, changed)
        assert [c.field for c in HANDLER.diff(changed, seen)] == ["code_sha256"]
        recorder.calls.clear()
        HANDLER.update(ctx, changed, seen, HANDLER.diff(changed, seen))
        assert ("lambda", "us-east-1", "UpdateFunctionCode") in recorder.calls
        assert HANDLER.diff(changed, HANDLER.observe(ctx, changed)) == []
    conf = boto3.client("lambda", "us-east-1").get_function_configuration(FunctionName=NAME)
    assert conf["CodeSha256"] == new_code.sha256
    assert conf["MemorySize"] == 256


def test_environment_merge_keeps_force_fail_and_hand_added_variables(
    role: None, tmp_path: Path
) -> None:
    spec = _spec(_bundle(tmp_path))
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
    # force-fail and rotate-secret set their variables; a person adds one; one is damaged.
    _set_environment(
        {
            **_environment(),
            "FORCE_FAIL": "true",
            "HEALTH_CHECKER_ID_NEXT": "next",
            "TEAM": "ops",
            "TABLE_NAME": "wrong",
        }
    )
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        changes = HANDLER.diff(spec, seen)
        assert [c.field for c in changes] == ["environment"]
        HANDLER.update(ctx, spec, seen, changes)
    env = _environment()
    assert env["TABLE_NAME"] == "prod.Hello"
    assert env["FORCE_FAIL"] == "true"
    assert env["HEALTH_CHECKER_ID_NEXT"] == "next"
    assert env["TEAM"] == "ops"
    with context() as (ctx, _):
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []


def test_forced_failure_alone_is_not_a_difference_but_a_missing_flag_is(
    role: None, tmp_path: Path
) -> None:
    spec = _spec(_bundle(tmp_path))
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
    _set_environment({**_environment(), "FORCE_FAIL": "true"})
    with context() as (ctx, _):
        assert HANDLER.diff(spec, HANDLER.observe(ctx, spec)) == []
    _set_environment({k: v for k, v in _environment().items() if k != "FORCE_FAIL"})
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, spec)
        HANDLER.update(ctx, spec, seen, HANDLER.diff(spec, seen))
    assert _environment()["FORCE_FAIL"] == "false"


def test_create_retries_while_the_new_role_is_not_assumable(aws: None, tmp_path: Path) -> None:
    # moto answers CreateFunction exactly as AWS does before IAM has propagated the role
    # ("The role defined for the function cannot be assumed by Lambda"); the role
    # "propagates" on the second back-off.
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            _make_role()

    clock = Clock(now=lambda: sum(sleeps), sleep=sleep)
    with context(clock=clock) as (ctx, recorder):
        HANDLER.create(ctx, _spec(_bundle(tmp_path)))
    assert [c[2] for c in recorder.calls].count("CreateFunction") == 3
    assert boto3.client("lambda", "us-east-1").get_function(FunctionName=NAME)


def test_only_the_role_propagation_error_is_retried() -> None:
    def error(code: str, message: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message}}, "CreateFunction")

    assert role_not_ready(
        error(
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.",
        )
    )
    assert not role_not_ready(error("InvalidParameterValueException", "Unzipped size too big"))
    assert not role_not_ready(error("AccessDeniedException", "cannot be assumed by Lambda"))


def test_create_over_an_existing_owned_function_converges(role: None, tmp_path: Path) -> None:
    from failover_cli.config.schema import FunctionConfig

    with context() as (ctx, _):
        HANDLER.create(ctx, _spec(_bundle(tmp_path)))
        longer = _spec(_bundle(tmp_path), function=FunctionConfig(timeout_s=9))
        HANDLER.create(ctx, longer)  # as after an interrupted run
        assert HANDLER.diff(longer, HANDLER.observe(ctx, longer)) == []


def test_untagged_look_alike_is_not_owned_and_create_refuses_it(role: None, tmp_path: Path) -> None:
    code = _bundle(tmp_path)
    boto3.client("lambda", "us-east-1").create_function(
        FunctionName=NAME,
        Runtime="python3.13",
        Role=f"arn:aws:iam::123456789012:role/{ROLE}",
        Handler="handler.handler",
        Code={"ZipFile": code.zip_bytes},
    )
    with context() as (ctx, _):
        seen = HANDLER.observe(ctx, _spec(code))
        assert seen.exists and not seen.owned
        with pytest.raises(ConflictError):
            HANDLER.create(ctx, _spec(code))


def test_delete_twice_is_fine(role: None, tmp_path: Path) -> None:
    spec = _spec(_bundle(tmp_path))
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
        seen = HANDLER.observe(ctx, spec)
        HANDLER.delete(ctx, spec, seen)
        HANDLER.delete(ctx, spec, seen)
        assert not HANDLER.observe(ctx, spec).exists
