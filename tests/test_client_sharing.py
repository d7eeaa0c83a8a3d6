"""What the client factory shares between commands in one process, and what it must not.

Shared: botocore's parsed service models, exception classes and client classes (pure
functions of the service model). Never shared: a client, its event hooks (the call log,
the pacing, the budget) and its retry state: each command's clients stay its own.
"""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from failover_cli.aws.clients import ClientFactory


def _calls(factory: ClientFactory) -> list[tuple[str, str, str]]:
    seen: list[tuple[str, str, str]] = []
    factory.add_hook(lambda service, region, op, _params: seen.append((service, region, op)))
    return seen


@mock_aws
def test_two_commands_share_a_client_class_but_not_clients_or_hooks() -> None:
    first, second = ClientFactory(), ClientFactory()
    first_calls, second_calls = _calls(first), _calls(second)
    a: Any = first.client("sns", "us-east-1")
    b: Any = second.client("sns", "us-east-1")
    assert type(a) is type(b)  # built once
    assert a is not b and a.meta.events is not b.meta.events
    a.list_topics()
    assert first_calls == [("sns", "us-east-1", "ListTopics")] and second_calls == []
    b.create_topic(Name="shared-class")
    assert second_calls == [("sns", "us-east-1", "CreateTopic")] and len(first_calls) == 1
    # Each client still talks to its own region, with its own service's operations.
    assert first.client("sns", "us-west-2").list_topics()["Topics"] == []
    assert not hasattr(a, "describe_table")


@mock_aws
def test_each_service_gets_its_own_class_and_its_own_errors() -> None:
    factory = ClientFactory()
    sns: Any = factory.client("sns", "us-east-1")
    lam: Any = factory.client("lambda", "us-east-1")
    assert type(sns) is not type(lam)
    try:
        lam.get_function(FunctionName="none")
    except lam.exceptions.ResourceNotFoundException as error:
        assert error.operation_name == "GetFunction"
    else:
        raise AssertionError("moto should have said the function does not exist")


def test_clients_made_outside_the_factory_keep_botocore_s_own_classes() -> None:
    ClientFactory().client("sts", "us-east-1")
    own = boto3.Session().client("sts", region_name="us-east-1")
    made = ClientFactory().client("sts", "us-east-1")
    assert type(own) is not type(made)
    assert type(own) is not type(boto3.Session().client("sts", region_name="us-east-1"))
