"""Route 53's answer rules (route53/dns.py) on plain records: no moto, no sandbox."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable
from dataclasses import replace

import pytest

from failover_cli.sandbox.route53.dns import (
    AliasTarget,
    Answer,
    HealthFn,
    Record,
    ResponseCode,
    answer,
    fake_ipv4,
    normalise,
    region_of_host,
)
from failover_cli.sandbox.route53.geography import REGION_LOCATIONS, latency_ms

NAME = "hello.example.com."
EAST, WEST, OHIO, IRELAND = "us-east-1", "us-west-2", "us-east-2", "eu-west-1"


def api_target(region: str) -> AliasTarget:
    return AliasTarget(f"d-{region[-1]}abc123.execute-api.{region}.amazonaws.com.", "Z2FD")


def latency(region: str, check: str | None = None) -> Record:
    return Record(
        NAME,
        "A",
        set_identifier=f"s-{region}",
        region=region,
        health_check_id=check,
        alias=api_target(region),
    )


def failover(role: str, region: str, check: str | None) -> Record:
    return Record(
        NAME,
        "A",
        set_identifier=f"s-{region}",
        failover=role,
        health_check_id=check,
        alias=api_target(region),
    )


def health(unhealthy: Iterable[str] = ()) -> HealthFn:
    down = set(unhealthy)
    return lambda check_id: check_id not in down


def ask(
    records: list[Record],
    unhealthy: Iterable[str] = (),
    *,
    client: str = EAST,
    name: str = NAME,
    record_type: str = "A",
) -> Answer:
    return answer(records, name, record_type, health(unhealthy), client, random.Random(7))


# -- failover -----------------------------------------------------------------

FAILOVER = [failover("PRIMARY", EAST, "hc-east"), failover("SECONDARY", WEST, "hc-west")]


def test_failover_answers_the_primary_while_it_is_healthy() -> None:
    found = ask(FAILOVER)
    assert found.code is ResponseCode.NOERROR
    assert found.region == EAST and found.record is FAILOVER[0]


def test_failover_answers_the_secondary_when_the_primary_is_unhealthy() -> None:
    assert ask(FAILOVER, ["hc-east"]).region == WEST


def test_failover_keeps_the_primary_when_only_the_secondary_is_unhealthy() -> None:
    assert ask(FAILOVER, ["hc-west"]).region == EAST


def test_failover_with_both_unhealthy_answers_as_if_all_were_healthy() -> None:
    assert ask(FAILOVER, ["hc-east", "hc-west"]).region == EAST


def test_failover_records_without_a_health_check_count_as_healthy() -> None:
    records = [failover("PRIMARY", EAST, None), failover("SECONDARY", WEST, "hc-west")]
    assert ask(records, ["hc-west"]).region == EAST


# -- latency ------------------------------------------------------------------

LATENCY = [latency(EAST, "hc-east"), latency(WEST, "hc-west")]


@pytest.mark.parametrize(
    ("client", "expected"),
    [(EAST, EAST), (WEST, WEST), ("us-west-1", WEST), (OHIO, EAST), (IRELAND, EAST)],
)
def test_latency_answers_the_nearest_healthy_region(client: str, expected: str) -> None:
    assert ask(LATENCY, client=client).region == expected


def test_latency_skips_an_unhealthy_nearest_region() -> None:
    assert ask(LATENCY, ["hc-east"], client=EAST).region == WEST
    assert ask(LATENCY, ["hc-west"], client=WEST).region == EAST


def test_latency_with_every_region_unhealthy_answers_as_if_all_were_healthy() -> None:
    assert ask(LATENCY, ["hc-east", "hc-west"], client=WEST).region == WEST


def test_latency_table_is_symmetric_and_puts_the_own_region_first() -> None:
    for a in REGION_LOCATIONS:
        for b in REGION_LOCATIONS:
            assert latency_ms(a, b) == latency_ms(b, a)
            if a != b:
                assert latency_ms(a, a) < latency_ms(a, b)
    assert latency_ms(EAST, OHIO) < latency_ms(EAST, WEST) < latency_ms(EAST, "ap-northeast-1")


# -- what the answer says -------------------------------------------------------


def test_an_alias_to_a_regional_api_domain_shows_a_stable_address_and_the_target() -> None:
    found = ask(LATENCY)
    target = api_target(EAST).dns_name.rstrip(".")
    assert found.data == (fake_ipv4(EAST, target), target)
    assert found.target == target
    address = ipaddress.ip_address(found.data[0])
    assert address in ipaddress.ip_network("192.0.2.0/24")  # documentation range, never reached
    assert fake_ipv4(EAST, "x") == fake_ipv4(EAST, "y") != fake_ipv4(WEST, "x")
    assert region_of_host(target) == EAST


def test_unknown_names_are_nxdomain_and_other_types_are_empty() -> None:
    assert ask(LATENCY, name="nope.example.com").code is ResponseCode.NXDOMAIN
    empty = ask(LATENCY, record_type="TXT")
    assert empty.code is ResponseCode.NOERROR and empty.data == () and empty.record is None


def test_simple_records_answer_their_values_and_a_cname_answers_any_type() -> None:
    records = [
        Record("www.example.com.", "A", ("203.0.113.5", "203.0.113.6"), ttl=60),
        Record("alias.example.com.", "CNAME", ("www.example.com",), ttl=60),
    ]
    assert ask(records, name="WWW.Example.com").data == ("203.0.113.5", "203.0.113.6")
    assert ask(records, name="alias.example.com").data == ("www.example.com",)


def test_wildcards_cover_deeper_names() -> None:
    records = [Record("*.example.com.", "A", ("203.0.113.9",))]
    assert ask(records, name="a.b.example.com").data == ("203.0.113.9",)


def test_an_alias_inside_the_zone_is_followed_and_its_target_health_evaluated() -> None:
    inner = "api.example.com."
    records = [
        *(replace(r, name=inner) for r in LATENCY),
        failover_alias("PRIMARY", inner),
        failover("SECONDARY", OHIO, None),
    ]
    assert ask(records).region == EAST  # through the latency set to the nearest region
    # Both latency records unhealthy: the primary's target is unhealthy, so the secondary.
    assert ask(records, ["hc-east", "hc-west"]).region == OHIO


def failover_alias(role: str, target: str) -> Record:
    return Record(
        NAME,
        "A",
        set_identifier="inner",
        failover=role,
        alias=AliasTarget(target, "ZSELF", evaluate_target_health=True),
    )


# -- weighted, multivalue, geolocation ------------------------------------------


def test_weighted_never_answers_a_zero_weight_or_unhealthy_record_while_others_can() -> None:
    records = [
        Record(NAME, "A", ("203.0.113.1",), set_identifier="a", weight=10, health_check_id="a"),
        Record(NAME, "A", ("203.0.113.2",), set_identifier="b", weight=0),
        Record(NAME, "A", ("203.0.113.3",), set_identifier="c", weight=5),
    ]
    seen = {ask(records, ["a"]).data for _ in range(20)}
    rng = random.Random(1)
    seen |= {answer(records, NAME, "A", health(["a"]), EAST, rng).data for _ in range(50)}
    assert seen == {("203.0.113.3",)}


def test_multivalue_answers_the_healthy_values_only() -> None:
    records = [
        Record(
            NAME,
            "A",
            (f"203.0.113.{i}",),
            set_identifier=str(i),
            multivalue=True,
            health_check_id=f"hc{i}",
        )
        for i in range(1, 4)
    ]
    assert sorted(ask(records, ["hc2"]).data) == ["203.0.113.1", "203.0.113.3"]


def test_geolocation_prefers_the_client_country_then_continent_then_default() -> None:
    records = [
        Record(
            NAME, "A", ("203.0.113.1",), set_identifier="us", country="US", health_check_id="us"
        ),
        Record(NAME, "A", ("203.0.113.2",), set_identifier="eu", continent="EU"),
        Record(NAME, "A", ("203.0.113.3",), set_identifier="any", country="*"),
    ]
    assert ask(records, client=WEST).data == ("203.0.113.1",)
    assert ask(records, client=IRELAND).data == ("203.0.113.2",)
    assert ask(records, client="ap-northeast-1").data == ("203.0.113.3",)
    assert ask(records, ["us"], client=WEST).data == ("203.0.113.3",)


def test_names_compare_without_case_or_trailing_dot() -> None:
    assert normalise("Hello.Example.COM") == normalise("hello.example.com.") == NAME
