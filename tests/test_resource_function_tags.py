"""GetFunction without `lambda:ListTags`: ownership unknown stops the command, never "not owned".

AWS answers GetFunction to a caller lacking lambda:ListTags with a `TagsError` and no
`Tags`, and succeeds. Read as "no tags", every function would look like a look-alike:
`down` would silently leave them and `up` never update them. Here moto's answers are
rewritten the way AWS's would be.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto import mock_aws

from failover_cli.aws.errors import translate
from failover_cli.bundle import build_bundle
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.errors import AwsError
from failover_cli.ops.function_environment import require_owned
from failover_cli.resources.function import HANDLER, desired
from tests.engine_helpers import context, make_config
from tests.test_resource_function import ROLE, TRUST

NAME = "thelambda"
REGION = "us-east-1"
DENIED = "User: arn:aws:iam::123456789012:user/op is not authorized to perform: lambda:ListTags"


@pytest.fixture
def spec(tmp_path: Path) -> Iterator[Spec]:
    with mock_aws():
        boto3.client("iam", REGION).create_role(
            RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST)
        )
        (tmp_path / "handler.py").write_text("def handler(event, context):\n    return 1\n")
        code = build_bundle(tmp_path)
        yield desired(DesiredInputs(make_config(), "s3cret", code))[0]


def _without_tags_permission(ctx: Any) -> None:
    """Make GetFunction answer as AWS does to a caller without lambda:ListTags."""

    def strip(parsed: dict[str, Any], **_: Any) -> None:
        parsed.pop("Tags", None)
        parsed["TagsError"] = {"ErrorCode": "AccessDeniedException", "Message": DENIED}

    ctx.client("lambda", REGION).meta.events.register("after-call.lambda.GetFunction", strip)


def _look_alike() -> None:
    """A function of the stack's name created by someone else, with no tags at all."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    boto3.client("lambda", REGION).create_function(
        FunctionName=NAME,
        Runtime="python3.13",
        Role=f"arn:aws:iam::123456789012:role/{ROLE}",
        Handler="handler.handler",
        Code={"ZipFile": buffer.getvalue()},
    )


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def _deny_list_tags(ctx: Any) -> None:
    def deny(request: Any, **_: Any) -> AWSResponse:
        body = json.dumps({"Message": DENIED}).encode()
        headers = {"x-amzn-ErrorType": "AccessDeniedException"}
        return AWSResponse(request.url, 403, headers, _Body(body))

    ctx.client("lambda", REGION).meta.events.register("before-send.lambda.ListTags", deny)


def test_an_owned_function_read_without_list_tags_is_an_error_naming_the_action(
    spec: Spec,
) -> None:
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
    with context() as (ctx, recorder):
        _without_tags_permission(ctx)
        with pytest.raises(AwsError) as raised:
            HANDLER.observe(ctx, spec)
    assert "lambda:ListTags" in raised.value.render()
    assert "cannot tell whether the function is this stack's" in raised.value.render()
    assert recorder.mutating == []


def test_force_fail_refuses_too_instead_of_calling_the_function_foreign(spec: Spec) -> None:
    with context() as (ctx, _):
        HANDLER.create(ctx, spec)
    with context() as (ctx, _):
        _without_tags_permission(ctx)
        with pytest.raises(AwsError, match="lambda:ListTags"):
            require_owned(ctx, REGION)


def test_an_untagged_look_alike_is_settled_by_list_tags(spec: Spec) -> None:
    _look_alike()
    with context() as (ctx, recorder):
        seen = HANDLER.observe(ctx, spec)
    assert seen.exists and not seen.owned
    assert [c[2] for c in recorder.calls if c[0] == "lambda"] == ["GetFunction", "ListTags"]


def test_an_untagged_function_whose_tags_are_denied_is_an_error_naming_the_action(
    spec: Spec,
) -> None:
    _look_alike()
    with context() as (ctx, _):
        _deny_list_tags(ctx)
        with pytest.raises(ClientError) as raised:
            HANDLER.observe(ctx, spec)
    error = translate(raised.value, region=REGION)
    assert error is not None and "lambda:ListTags" in error.render()
