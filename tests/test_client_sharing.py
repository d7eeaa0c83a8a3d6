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


def _named(handler: Any) -> Any:
    """A handler, or for a function made per session (boto3's `lazy_call` closures) its
    name and what it closes over."""
    cells = getattr(handler, "__closure__", None)
    if not cells:
        return handler
    held = [cell.cell_contents for cell in cells]
    return handler.__qualname__, [h if isinstance(h, str) else type(h).__name__ for h in held]


def _handlers(session: boto3.Session) -> dict[str, list[list[Any]]]:
    """Every event name of a session's emitter, with its handlers in calling order."""
    emitter: Any = session._session.get_component("event_emitter")._emitter
    found: dict[str, list[list[Any]]] = {}

    def walk(node: dict[str, Any], path: str) -> None:
        if node["values"]:
            found[path] = [[_named(h) for h in part] for part in node["values"]]
        for part, child in node["children"].items():
            walk(child, f"{path}.{part}" if path else part)

    walk(emitter._handlers._root, "")
    return found


def test_a_factory_session_holds_exactly_the_handlers_of_a_new_boto3_session() -> None:
    import moto  # noqa: F401  (moto adds built-in handlers when imported: both must see them)

    made = ClientFactory().session
    assert _handlers(made) == _handlers(boto3.Session())
    # A client registering its own hooks does not reach the next command's session.
    ClientFactory().client("sts", "us-east-1").meta.events.register(
        "before-call.sts.*", lambda **_: None
    )
    assert _handlers(ClientFactory().session) == _handlers(boto3.Session())


def test_event_names_are_aliased_as_botocore_does() -> None:
    import copy

    from botocore.hooks import EventAliaser, HierarchicalEmitter

    events: Any = ClientFactory().session._session.get_component("event_emitter")
    plain = EventAliaser(HierarchicalEmitter())
    for name in (
        "before-call.apigateway.GetRestApis",
        "before-parameter-build.autoscaling.DescribeScalableTargets",
        "creating-client-class.cloudwatchlogs",
    ):
        assert copy.copy(events)._alias_event_name(name) == plain._alias_event_name(name)


def test_a_handler_without_kwargs_is_still_refused() -> None:
    """botocore refuses a handler that cannot take its keyword arguments; the remembered
    answer per code object must refuse it too, every time, and accept one that can."""
    import pytest

    events = ClientFactory().client("sts", "us-east-1").meta.events

    def positional(event_name):  # type: ignore[no-untyped-def]
        return None

    def keywords(**_: Any) -> None:
        return None

    for _ in range(2):
        with pytest.raises(ValueError, match="must accept keyword"):
            events.register("before-call.sts.*", positional)
        events.register("before-call.sts.*", keywords)


def test_a_handler_registered_on_one_client_or_session_reaches_only_its_own_copies() -> None:
    """Clients and sessions share the tree of handlers until one of them changes it (copy
    on write): what one registers or removes must never show in another."""
    factory = ClientFactory()
    first, second = factory.client("sts", "us-east-1"), factory.client("sts", "us-west-2")
    heard: list[str] = []
    asked: list[Any] = []

    def listener(name: str) -> Any:
        def hear(**_: Any) -> None:
            heard.append(name)

        return hear

    def heard_by(events: Any) -> list[str]:
        heard.clear()  # a new name each time: an emitter caches what it found per name
        events.emit(f"failover-test.event.n{len(asked)}")
        asked.append(events)
        return sorted(heard)

    own, session_wide = listener("first's own"), listener("the session's")
    first.meta.events.register("failover-test.event", own)
    session_events: Any = factory.session._session.get_component("event_emitter")
    session_events.register("failover-test", session_wide)
    later = factory.client("sts", "eu-west-1")  # copied after the session's registration
    assert heard_by(first.meta.events) == ["first's own"]
    assert heard_by(second.meta.events) == []
    assert heard_by(session_events) == ["the session's"]
    assert heard_by(later.meta.events) == ["the session's"]
    first.meta.events.unregister("failover-test.event", own)
    later.meta.events.unregister("failover-test", session_wide)
    assert heard_by(first.meta.events) == [] and heard_by(later.meta.events) == []
    assert heard_by(session_events) == ["the session's"]
    assert heard_by(ClientFactory().session._session.get_component("event_emitter")) == []
