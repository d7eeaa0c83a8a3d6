"""The order of a region's removal, on plain data: DNS first, then its health check (and
alarm), then the rest; the replica last, so an interrupted removal is still found."""

from __future__ import annotations

import pytest

from failover_cli.engine.guard import losses
from failover_cli.engine.leftovers import _in_region_order
from failover_cli.engine.leftovers import looks_like_region as _looks_like_region
from failover_cli.engine.model import Action, Change, Observed, Spec
from failover_cli.engine.runner import ApplyReport, _delete_waits, _run_deletes
from tests.engine_helpers import context, make_config

EU = "eu-west-1"


def _change(kind: str, region: str, name: str, depends_on: tuple[str, ...] = ()) -> Change:
    return Change(Action.DELETE, Spec(kind, region, name, depends_on=depends_on), Observed(True))


def test_a_leaving_region_goes_out_of_dns_first_and_loses_its_replica_last() -> None:
    config = make_config(regions=("us-east-1", "us-west-2", EU))
    record = _change("record", EU, "app.example.com", (f"health_check:{EU}:hello-{EU}",))
    alarm = _change("alarm", "us-east-1", f"{config.stack}-{EU}-health")
    check = _change("health_check", EU, f"hello-{EU}")
    function = _change("function", EU, "fn")
    scaling = _change("scaling", EU, "t")
    replica = _change("replica", EU, "t")
    changes = [record, alarm, check, function, scaling, replica]
    with context(config) as (ctx, recorder):
        for change in changes:
            change.context = ctx
        waits = _delete_waits(_in_region_order(changes, {EU}))
    assert recorder.calls == []
    first = {record.key, alarm.key, check.key}
    assert waits[record.key] == set()
    assert first <= waits[function.key] and first <= waits[scaling.key]
    assert waits[replica.key] == {c.key for c in changes if c is not replica}


def test_what_each_deletion_loses() -> None:
    assert losses(_change("table", "us-east-1", "prod.Hello")) == (
        "table prod.Hello and all its items"
    )
    assert losses(_change("replica", "us-west-2", "prod.Hello")) == (
        "the us-west-2 replica of prod.Hello: its data stays in the other replicas"
    )
    assert losses(_change("api", "us-west-2", "hello")) == ""


def test_only_region_names_count_as_regions() -> None:
    assert _looks_like_region("eu-west-1") and _looks_like_region("us-gov-west-1")
    assert not _looks_like_region("us-east") and not _looks_like_region("1-2-3")


def test_deletes_that_wait_on_each_other_never_end_in_success() -> None:
    """A cycle among deletes ran nothing and still let `up`/`down` exit 0 (a calculated
    check once waited on its own children): it must fail loudly instead."""
    config = make_config(regions=("us-east-1", "us-west-2", EU))
    check = _change("health_check", EU, f"hello-{EU}", (f"region_check:{EU}:c",))
    calculated = _change("region_check", EU, "c", (f"health_check:{EU}:hello-{EU}",))
    with context(config) as (ctx, recorder):
        for change in (check, calculated):
            change.context = ctx
        with pytest.raises(RuntimeError, match="dependency cycle"):
            _run_deletes(ctx, [check, calculated], lambda *_: None, ApplyReport())
    assert recorder.calls == []
