"""The fault harness itself, against moto in-process: botocore must take its faults for real.

Throttles in every protocol the tool's services speak are retried by botocore
(a 400 or 429 with an unknown code would not be), 500s and dropped connections
too; call faults strike exactly the chosen call, before or after it took effect;
a seed fixes which calls are struck; and an error that exhausts botocore's
attempts reaches the user naming its operation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError
from botocore.parsers import create_parser
from moto import mock_aws

from failover_cli.aws.clients import ClientFactory
from failover_cli.aws.errors import translate
from tests.faults import (
    INJECTED_CODE,
    Fault,
    FaultInjector,
    Rule,
    Step,
    error_response,
    shorten_botocore_backoff,
    steps_of,
)

REGION = "us-east-1"

# One cheap read per service the tool uses, with the protocol its model resolves to.
READS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "dynamodb": ("json", lambda c: c.list_tables()),
    "lambda": ("rest-json", lambda c: c.list_functions()),
    "logs": ("json", lambda c: c.describe_log_groups()),
    "application-autoscaling": (
        "json",
        lambda c: c.describe_scalable_targets(ServiceNamespace="dynamodb"),
    ),
    "iam": ("query", lambda c: c.list_roles()),
    "sts": ("query", lambda c: c.get_caller_identity()),
    "route53": ("rest-xml", lambda c: c.list_health_checks()),
    "cloudwatch": ("json", lambda c: c.describe_alarms()),
    "sns": ("query", lambda c: c.list_topics()),
    "acm": ("json", lambda c: c.list_certificates()),
    "apigateway": ("rest-json", lambda c: c.get_rest_apis()),
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    shorten_botocore_backoff(monkeypatch)
    with mock_aws():
        yield


def _factory(injector: FaultInjector) -> ClientFactory:
    factory = ClientFactory()
    injector.attach(factory)
    return factory


@pytest.mark.parametrize("fault", [Fault.THROTTLE, Fault.SERVER_ERROR, Fault.DROP])
def test_botocore_retries_each_fault_in_every_protocol(aws: None, fault: Fault) -> None:
    # The first two attempts of every service's call are struck; the third gets through.
    injector = FaultInjector([Rule(fault, nth=n) for n in (1, 2)])
    factory = _factory(injector)

    def read(service: str) -> tuple[str, int]:
        protocol, call = READS[service]
        client = factory.client(service, REGION)
        assert client.meta.service_model.resolved_protocol == protocol
        return protocol, call(client)["ResponseMetadata"]["RetryAttempts"]

    with ThreadPoolExecutor(len(READS)) as pool:  # each client waits out its own backoff
        answers = dict(zip(READS, pool.map(read, READS), strict=True))
    assert {s: retries for s, (_, retries) in answers.items()} == dict.fromkeys(READS, 2)
    assert injector.total(fault) == 2 * len(READS)
    assert injector.attempts == 3 * len(READS)


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [
        ("dynamodb", "ThrottlingException", 400),
        ("lambda", "TooManyRequestsException", 429),
        ("iam", "Throttling", 400),
        ("route53", "Throttling", 400),
        ("cloudwatch", "ThrottlingException", 400),
        ("apigateway", "TooManyRequestsException", 429),
    ],
)
def test_botocore_reads_the_injected_answers_as_that_services_errors(
    service: str, code: str, status: int
) -> None:
    model = boto3.Session(region_name=REGION).client(service).meta.service_model
    parser = create_parser(model.resolved_protocol)
    for fault, wanted in ((Fault.THROTTLE, (code, status)), (Fault.SERVER_ERROR, None)):
        answer = error_response("https://example.org/", model.resolved_protocol, fault)
        parsed = parser.parse(
            {"status_code": answer.status_code, "headers": answer.headers, "body": answer.content},
            None,
        )
        seen = (parsed["Error"]["Code"], answer.status_code)
        assert seen == (wanted or ("InternalFailure", 500))


def test_call_faults_strike_the_chosen_call_before_or_after_it_took_effect(aws: None) -> None:
    injector = FaultInjector(
        [
            Rule.at_step(Step("sns", REGION, "CreateTopic", 1)),
            Rule.at_step(Step("sns", REGION, "CreateTopic", 2), after=True),
            Rule(Fault.INTERRUPT, operations=("sns:DeleteTopic",)),
        ]
    )
    sns = _factory(injector).client("sns", REGION)
    with pytest.raises(ClientError) as before:
        sns.create_topic(Name="first")
    assert before.value.response["Error"]["Code"] == INJECTED_CODE
    assert sns.list_topics()["Topics"] == []  # never sent
    with pytest.raises(ClientError):
        sns.create_topic(Name="second")
    (topic,) = sns.list_topics()["Topics"]  # it took effect, and still the caller saw an error
    assert topic["TopicArn"].endswith(":second")
    sns.create_topic(Name="third")  # the third is left alone
    with pytest.raises(KeyboardInterrupt):
        sns.delete_topic(TopicArn=topic["TopicArn"])
    assert injector.summary() == ("fail sns:CreateTopic x2, interrupt sns:DeleteTopic x1")


def test_a_seed_fixes_which_calls_are_struck(aws: None) -> None:
    def run(seed: int) -> list[str]:
        injector = FaultInjector([Rule(Fault.FAIL, rate=0.5)], seed=seed)
        sns = _factory(injector).client("sns", REGION)
        for _ in range(20):
            with contextlib.suppress(ClientError):
                sns.list_topics()
        return [line.split(" ", 1)[1] for line in injector.log]

    assert run(7) == run(7)
    assert 0 < len(run(7)) < 20 and run(7) != run(8)


def test_armed_after_waits_for_another_call_to_complete(aws: None) -> None:
    injector = FaultInjector(
        [Rule(Fault.FAIL, operations=("ListTopics",), armed_after=("sns:CreateTopic", 1))]
    )
    sns = _factory(injector).client("sns", REGION)
    sns.list_topics()
    sns.create_topic(Name="armed")
    with pytest.raises(ClientError):
        sns.list_topics()


def test_a_connection_that_keeps_dropping_is_reported_with_its_operation(aws: None) -> None:
    injector = FaultInjector([Rule(Fault.DROP, operations=("DescribeTable",))])
    dynamo = _factory(injector).client("dynamodb", "us-west-2")
    with pytest.raises(ConnectionClosedError) as raised:
        dynamo.describe_table(TableName="anything")
    assert injector.total() == 11  # the first attempt and botocore's 10 retries
    error = translate(raised.value, region="us-west-2")
    assert error is not None and error.exit_code == 1
    text = error.render()
    assert text.startswith("DescribeTable failed: Connection was closed")
    assert "(in us-west-2)" in text and "re-run" in text


def test_steps_of_numbers_each_kind_of_mutating_call() -> None:
    calls = [
        {"service": "sns", "region": REGION, "op": "CreateTopic"},
        {"service": "sns", "region": REGION, "op": "ListTopics"},
        {"service": "sns", "region": REGION, "op": "CreateTopic"},
        {"service": "sns", "region": "us-west-2", "op": "CreateTopic"},
    ]
    assert [str(s) for s in steps_of(calls)] == [
        "sns:CreateTopic#1 (us-east-1)",
        "sns:CreateTopic#2 (us-east-1)",
        "sns:CreateTopic#1 (us-west-2)",
    ]


def test_boto3_default_session_is_untouched(aws: None) -> None:
    injector = FaultInjector([Rule(Fault.FAIL)])
    _factory(injector)
    assert boto3.client("sns", REGION).list_topics()["Topics"] == []
    assert injector.total() == 0
