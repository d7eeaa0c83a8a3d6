"""Published versions and aliases on the sandbox, held to Lambda's rules.

A version is an immutable snapshot of code *and* configuration, numbered once
and never again; PublishVersion and the updates honour RevisionId/CodeSha256;
aliases are validated as Lambda validates them and route invocations (weights
included); a version an alias routes to cannot be deleted. Everything through
plain boto3 on the session sandbox, as a release would call it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.sandbox_api_helpers import create_function, source_zip, unique

pytestmark = pytest.mark.sandbox

EAST = "us-east-1"
RELEASE = """
import os
def handler(event, context):
    colour = os.environ.get("COLOUR")
    return {{"release": {n}, "colour": colour, "version": context.function_version}}
"""


def lam() -> Any:
    return boto3.client("lambda", region_name=EAST)


def release(n: int) -> bytes:
    return source_zip(RELEASE.format(n=n))


def invoke(function: str, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(decoded payload, the whole answer)."""
    import json

    answer = lam().invoke(FunctionName=function, Payload=b"{}", **extra)
    return json.loads(answer["Payload"].read()), answer


def error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def update(name: str, **changes: Any) -> dict[str, Any]:
    client = lam()
    if "ZipFile" in changes:
        answer = client.update_function_code(FunctionName=name, **changes)
    else:
        answer = client.update_function_configuration(FunctionName=name, **changes)
    client.get_waiter("function_updated_v2").wait(FunctionName=name)
    return dict(answer)


@pytest.fixture
def function(sandbox_env: str) -> str:
    name = unique("rel")
    create_function(EAST, name, release(1), {"COLOUR": "blue"})
    return name


def test_a_version_keeps_the_code_and_configuration_it_was_published_with(function: str) -> None:
    first = lam().publish_version(FunctionName=function)
    assert first["Version"] == "1"
    update(function, ZipFile=release(2))
    update(function, Environment={"Variables": {"COLOUR": "green"}}, Timeout=7)
    assert invoke(function)[0] == {"release": 2, "colour": "green", "version": "$LATEST"}
    payload, answer = invoke(function, Qualifier="1")
    assert payload == {"release": 1, "colour": "blue", "version": "1"}
    assert answer["ExecutedVersion"] == "1"
    old = lam().get_function_configuration(FunctionName=function, Qualifier="1")
    assert (old["CodeSha256"], old["Environment"]["Variables"]) == (
        first["CodeSha256"],
        {"COLOUR": "blue"},
    )
    assert old["Timeout"] == first["Timeout"] != 7
    second = lam().publish_version(FunctionName=function)
    assert second["Version"] == "2"
    assert invoke(f"{function}:2")[0] == {"release": 2, "colour": "green", "version": "2"}


def test_publishing_an_unchanged_function_answers_the_newest_version(function: str) -> None:
    assert lam().publish_version(FunctionName=function)["Version"] == "1"
    update(function, Environment={"Variables": {"COLOUR": "blue"}})  # written, not changed
    assert lam().publish_version(FunctionName=function)["Version"] == "1"
    versions = lam().list_versions_by_function(FunctionName=function)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]


def test_version_numbers_are_never_handed_out_twice(function: str) -> None:
    lam().publish_version(FunctionName=function)
    update(function, ZipFile=release(2))
    assert lam().publish_version(FunctionName=function)["Version"] == "2"
    lam().delete_function(FunctionName=function, Qualifier="2")
    update(function, ZipFile=release(3), Publish=False)
    published = update(function, ZipFile=release(4), Publish=True)
    assert published["Version"] == "3"
    assert invoke(function, Qualifier="3")[0]["release"] == 4
    versions = lam().list_versions_by_function(FunctionName=function)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "3"]


def test_publish_and_updates_hold_to_revision_id_and_code_sha(function: str) -> None:
    current = lam().get_function_configuration(FunctionName=function)
    assert current["RevisionId"]
    update(function, Environment={"Variables": {"COLOUR": "red"}})
    stale = current["RevisionId"]
    assert error_code(lambda: lam().publish_version(FunctionName=function, RevisionId=stale)) == (
        "PreconditionFailedException"
    )
    assert error_code(
        lambda: lam().update_function_configuration(
            FunctionName=function, Timeout=9, RevisionId=stale
        )
    ) == ("PreconditionFailedException")
    assert error_code(
        lambda: lam().publish_version(FunctionName=function, CodeSha256="bm90IHRoaXMgY29kZQ==")
    ) == ("InvalidParameterValueException")
    fresh = lam().get_function(FunctionName=function)["Configuration"]
    published = lam().publish_version(
        FunctionName=function, RevisionId=fresh["RevisionId"], CodeSha256=fresh["CodeSha256"]
    )
    assert published["Version"] == "1"
    after = lam().get_function_configuration(FunctionName=function)["RevisionId"]
    assert after != fresh["RevisionId"]  # publishing is a change of $LATEST too


def test_a_published_version_cannot_be_updated(function: str) -> None:
    lam().publish_version(FunctionName=function)
    assert error_code(
        lambda: lam().update_function_configuration(FunctionName=f"{function}:1", Timeout=9)
    ) == ("InvalidParameterValueException")
    assert error_code(
        lambda: lam().update_function_code(FunctionName=f"{function}:1", ZipFile=release(9))
    ) == ("InvalidParameterValueException")
    assert invoke(function, Qualifier="1")[0]["release"] == 1


def test_an_alias_routes_to_its_version_and_moves_with_its_revision_id(function: str) -> None:
    lam().publish_version(FunctionName=function)
    update(function, ZipFile=release(2))
    lam().publish_version(FunctionName=function)
    alias = lam().create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    payload, answer = invoke(f"{function}:live")
    assert (payload["release"], answer["ExecutedVersion"]) == (1, "1")
    assert invoke(function, Qualifier="live")[0]["release"] == 1
    moved = lam().update_alias(
        FunctionName=function, Name="live", FunctionVersion="2", RevisionId=alias["RevisionId"]
    )
    assert moved["RevisionId"] != alias["RevisionId"]
    assert lam().get_alias(FunctionName=function, Name="live")["RevisionId"] == moved["RevisionId"]
    assert invoke(f"{function}:live")[0]["release"] == 2
    assert error_code(
        lambda: lam().update_alias(
            FunctionName=function, Name="live", FunctionVersion="1", RevisionId=alias["RevisionId"]
        )
    ) == ("PreconditionFailedException")
    assert invoke(f"{function}:live")[0]["release"] == 2


def test_a_weighted_alias_sends_calls_to_both_versions(function: str) -> None:
    lam().publish_version(FunctionName=function)
    update(function, ZipFile=release(2))
    lam().publish_version(FunctionName=function)
    lam().create_alias(
        FunctionName=function,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    seen = {invoke(f"{function}:live")[1]["ExecutedVersion"] for _ in range(40)}
    assert seen == {"1", "2"}  # both, with odds of 2 in 2**40 against
    lam().update_alias(FunctionName=function, Name="live", RoutingConfig={})
    seen = {invoke(f"{function}:live")[1]["ExecutedVersion"] for _ in range(10)}
    assert seen == {"1"}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"Name": "7"}, "ValidationException"),  # a number is a version, not an alias
        ({"FunctionVersion": "live"}, "ValidationException"),  # never an alias of an alias
        ({"FunctionVersion": "9"}, "ResourceNotFoundException"),
        ({"RoutingConfig": {"AdditionalVersionWeights": {"1": 0.1}}}, "InvalidParameterValue"),
        ({"RoutingConfig": {"AdditionalVersionWeights": {"2": 1.0}}}, "ValidationException"),
        ({"RoutingConfig": {"AdditionalVersionWeights": {"9": 0.1}}}, "ResourceNotFound"),
        (
            {
                "FunctionVersion": "$LATEST",
                "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1}},
            },
            "InvalidParameterValue",
        ),
    ],
)
def test_aliases_are_validated_as_lambda_does(
    function: str, changes: dict[str, Any], code: str
) -> None:
    lam().publish_version(FunctionName=function)
    update(function, ZipFile=release(2))
    lam().publish_version(FunctionName=function)
    lam().create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    wanted = {"FunctionName": function, "Name": "canary", "FunctionVersion": "1", **changes}
    assert error_code(lambda: lam().create_alias(**wanted)).startswith(code)
    again = {"FunctionName": function, "Name": "live", "FunctionVersion": "2"}
    assert error_code(lambda: lam().create_alias(**again)) == "ResourceConflictException"


def test_deleting_versions_follows_lambdas_rules(function: str) -> None:
    for n in (2, 3):
        lam().publish_version(FunctionName=function)
        update(function, ZipFile=release(n))
    lam().publish_version(FunctionName=function)  # versions 1, 2, 3
    lam().create_alias(
        FunctionName=function,
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"3": 0.2}},
    )
    delete = lam().delete_function
    for qualifier in ("2", "3"):
        with pytest.raises(ClientError) as held:
            delete(FunctionName=function, Qualifier=qualifier)
        assert held.value.response["Error"]["Code"] == "ResourceConflictException"
        assert "[live]" in held.value.response["Error"]["Message"]
    assert error_code(lambda: delete(FunctionName=function, Qualifier="$LATEST")) == (
        "InvalidParameterValueException"
    )
    assert error_code(lambda: delete(FunctionName=f"{function}:live")) == (
        "InvalidParameterValueException"
    )
    delete(FunctionName=function, Qualifier="1")
    delete(FunctionName=function, Qualifier="42")  # no such version: Lambda answers 204 too
    versions = lam().list_versions_by_function(FunctionName=function)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "2", "3"]
    assert invoke(f"{function}:live")[0]["release"] in (2, 3)


def test_versions_and_aliases_are_listed_in_pages(function: str) -> None:
    for n in range(2, 5):
        lam().publish_version(FunctionName=function)
        update(function, ZipFile=release(n))
    lam().publish_version(FunctionName=function)  # versions 1 to 4
    for name, version in (("a", "1"), ("b", "2"), ("c", "2")):
        lam().create_alias(FunctionName=function, Name=name, FunctionVersion=version)
    first = lam().list_versions_by_function(FunctionName=function, MaxItems=2)
    assert [v["Version"] for v in first["Versions"]] == ["$LATEST", "1"]
    rest = lam().list_versions_by_function(FunctionName=function, Marker=first["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["2", "3", "4"]
    assert "NextMarker" not in rest
    paginator = lam().get_paginator("list_versions_by_function")
    pages = paginator.paginate(FunctionName=function, PaginationConfig={"PageSize": 3})
    assert [v["Version"] for page in pages for v in page["Versions"]][-1] == "4"
    on_two = lam().list_aliases(FunctionName=function, FunctionVersion="2")["Aliases"]
    assert sorted(a["Name"] for a in on_two) == ["b", "c"]
