"""The function's switch reader route (SPEC §5 `GET /health/switch/<R>`), through handler.handler.

The Route 53 switch-reader checks are Inverted and match FORCED_OUT_MARKER, so
the marker must appear exactly when this region's replica sees R forced out, and
in no other answer (R in, no item, a failed read, a stranger's request).
"""

# ruff: noqa: F811  (the fixtures come from test_bundle.py and are used as parameters)

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.test_bundle import (  # noqa: F401  (fixtures: load_bundle, invoke, table ...)
    BUNDLE_DIR,
    REGION,
    SEARCH_STRING,
    SECRET,
    TABLE,
    Invoke,
    _answer,
    function_env,
    invoke,
    load_bundle,
    proxy_event,
    table,
)

MARKER = "failover-switch:forced-out"
EAST, WEST = "us-east-1", "us-west-2"


def _switch(table: Any, forced_out: dict[str, Any], key: str = "HelloKey") -> None:
    table.put_item(
        TableName=TABLE,
        Item={
            key: {"S": "failover:switch"},
            "forced_out": {"M": forced_out},
            "revision": {"N": "3"},
            "updated_at": {"S": "2026-12-06T21:04:05Z"},
        },
    )


def _entry(why: str = "drill") -> dict[str, Any]:
    fields = {"at": "2026-12-06T21:04:05Z", "by": "arn:aws:iam::123456789012:user/ops", "why": why}
    return {"M": {k: {"S": v} for k, v in fields.items()}}


def _raw(answer: Any) -> str:
    return json.dumps(answer.body)


def test_a_region_forced_out_answers_the_marker_first_with_who_and_why(
    invoke: Invoke, table: Any
) -> None:
    _switch(table, {WEST: _entry()})
    answer = invoke(f"health/switch/{WEST}")
    assert answer.status == 200
    assert next(iter(answer.body)) == "switch" and answer.body["switch"] == MARKER
    assert answer.body["region"] == WEST and answer.body["seen_from"] == REGION
    assert answer.body["why"] == "drill" and answer.body["by"].endswith("user/ops")
    assert answer.headers["X-Failover-Region"] == REGION


def test_a_region_not_forced_out_answers_without_the_marker(invoke: Invoke, table: Any) -> None:
    _switch(table, {WEST: _entry()})
    answer = invoke(f"health/switch/{EAST}")
    assert answer.status == 200 and answer.body["switch"] == "failover-switch:in"
    assert MARKER not in _raw(answer)


def test_no_switch_item_means_nobody_is_out(invoke: Invoke, table: Any) -> None:
    answer = invoke(f"health/switch/{EAST}")
    assert answer.status == 200 and MARKER not in _raw(answer)


def test_an_empty_switch_means_nobody_is_out(invoke: Invoke, table: Any) -> None:
    _switch(table, {})
    assert MARKER not in _raw(invoke(f"health/switch/{EAST}"))


def test_any_value_for_a_region_marks_it_out(invoke: Invoke, table: Any) -> None:
    _switch(table, {EAST: {"BOOL": True}})
    assert invoke(f"health/switch/{EAST}").body["switch"] == MARKER


def test_a_failed_read_is_503_without_the_marker_or_the_search_string(
    invoke: Invoke, caplog: Any
) -> None:
    answer = invoke(f"health/switch/{EAST}")  # no table at all
    assert answer.status == 503
    assert answer.body == {"message": f"Switch read failed in {REGION}"}
    assert MARKER not in _raw(answer)
    assert "switch read failed" in caplog.text


def test_without_the_secret_it_is_forbidden_and_names_nothing(invoke: Invoke, table: Any) -> None:
    _switch(table, {EAST: _entry()})
    for secret in (None, "wrong"):
        answer = invoke(f"health/switch/{EAST}", secret=secret)
        assert answer.status == 403 and MARKER not in _raw(answer)


@pytest.mark.parametrize("route", ["health/switch/nowhere", "health/switch", "health/switch/"])
def test_a_path_that_names_no_region_is_not_found(invoke: Invoke, table: Any, route: str) -> None:
    assert invoke(route).status == 404


def test_deeper_paths_are_not_the_reader(invoke: Invoke, table: Any) -> None:
    _switch(table, {EAST: _entry()})
    assert invoke(f"health/switch/{EAST}/x").status == 404
    assert invoke(f"x/health/switch/{EAST}").status == 404


def test_no_reader_answer_contains_the_health_search_string(invoke: Invoke, table: Any) -> None:
    _switch(table, {WEST: _entry(why="x" * 5000)})
    answers = [invoke(f"health/switch/{r}") for r in (EAST, WEST)]
    assert all(SEARCH_STRING not in _raw(a).lower() for a in answers)
    out = answers[1]
    assert len(out.body["why"]) <= 200  # the marker stays early in a short body
    assert _raw(out).index(MARKER) < 100


def test_the_switch_key_follows_the_tables_partition_key(
    invoke: Invoke, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEP_PING_KEY", json.dumps({"Pk": "Hello"}))
    monkeypatch.setenv("TABLE_NAME", "other")
    table.create_table(
        TableName="other",
        KeySchema=[{"AttributeName": "Pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "Pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table.put_item(
        TableName="other",
        Item={"Pk": {"S": "failover:switch"}, "forced_out": {"M": {EAST: _entry()}}},
    )
    assert invoke(f"health/switch/{EAST}").body["switch"] == MARKER


def test_force_fail_of_the_reader_region_is_no_objection(
    invoke: Invoke, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _switch(table, {EAST: _entry()})
    monkeypatch.setenv("FORCE_FAIL", "true")
    answer = invoke(f"health/switch/{EAST}")
    assert answer.status == 503 and MARKER not in _raw(answer)


def test_the_reader_route_cannot_be_registered_twice(
    load_bundle: Callable[[Path], ModuleType],
) -> None:
    load_bundle(BUNDLE_DIR)
    routing = sys.modules["routing"]
    with pytest.raises(ValueError, match="already registered"):
        routing.route("health/switch/{other}")(lambda request: {})
    with pytest.raises(ValueError, match="one path segment"):
        routing.route("a/b")(lambda request: {})
    handler = sys.modules["handler"]
    event = proxy_event(f"health/switch/{EAST}", query={"healthCheckerId": SECRET})
    assert _answer(handler.handler(event, None)).status in (200, 503)
