"""The watch's observer when Route 53's API does not answer (it lives in us-east-1 only).

In-process with moto: every Route 53 call is made to time out as a hanging endpoint does
(botocore's ReadTimeoutError). The health phases then say they cannot be read (skipped),
and the DNS answer comes from the hosted zone's own name servers (a stub here, the
sandbox's in tests/test_switch_must_show.py), saying where it came from; Route 53 is not
asked again once it failed to answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from moto import mock_aws

from failover_cli.config.schema import DomainConfig
from failover_cli.net.authoritative import AuthoritativeAnswer
from failover_cli.ops.failover_observer import AwsObserver, Unavailable
from tests.engine_helpers import context, make_config

DOMAIN = DomainConfig(name="hello.example.com", hosted_zone="example.com", routing="latency")


class NameServers:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def ask(self, zone: str, name: str, record_type: str = "A") -> AuthoritativeAnswer:
        self.asked.append((zone, name))
        return AuthoritativeAnswer(name, record_type, "NOERROR", ("192.0.2.2",), 60, "ns-1 (x)")


@pytest.fixture
def hanging_route53() -> Iterator[tuple[Any, list[str]]]:
    with mock_aws(), context(make_config(domain=DOMAIN)) as (ctx, _):
        route53_calls: list[str] = []

        def hang(service: str, region: str, operation: str, _params: dict[str, Any]) -> None:
            if service == "route53":
                route53_calls.append(operation)
                raise ReadTimeoutError(endpoint_url="https://route53.amazonaws.com/")

        ctx.clients.add_hook(hang)
        yield ctx, route53_calls


def test_route53_silent_health_is_unavailable_and_dns_comes_from_the_name_servers(
    hanging_route53: tuple[Any, list[str]],
) -> None:
    ctx, route53_calls = hanging_route53
    servers = NameServers()
    observer = AwsObserver(ctx, nameservers=servers)  # type: ignore[arg-type]
    with pytest.raises(Unavailable, match="Route 53's API did not answer"):
        observer.health("us-east-1")
    asked_before = len(route53_calls)
    reading = observer.dns()
    assert reading.data == ("192.0.2.2",) and reading.source == "name server ns-1 (x)"
    assert "from name server ns-1 (x)" in reading.describe()
    assert servers.asked == [("example.com", "hello.example.com")]
    observer.dns()
    assert len(route53_calls) == asked_before  # not asked again once it did not answer


def test_with_route53_answering_the_name_servers_are_not_asked() -> None:
    with mock_aws(), context(make_config(domain=DOMAIN)) as (ctx, _):
        servers = NameServers()
        observer = AwsObserver(ctx, nameservers=servers)  # type: ignore[arg-type]
        with pytest.raises(Unavailable, match="no hosted zone"):
            observer.dns()  # moto has no zone here: said, and no fallback for a real answer
        assert servers.asked == []
