"""Issue 20's must-show for `status` with us-east-1 hanging: the switch as each replica sees it.

A region forced out through the switch while every API answered in us-east-1 hangs (the
sandbox's outage, as `failover sandbox --outage us-east-1:hang`): `status --json` still
answers within its own deadline, shows us-east-1 forced out as us-west-2's replica holds it
(us-east-1's own replica unread), and learns where DNS points from the zone's name servers
because Route 53's API, hosted in us-east-1, does not answer. Nothing here asserts how long
anything took: status's bound is its own `--timeout`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e_helpers import failover
from tests.sandbox_api_helpers import eventually
from tests.test_switch_must_show import (  # noqa: F401 (sandbox: a fixture used by name)
    BUDGET,
    EAST,
    WEST,
    _answering,
    _outage,
    _stack,
    sandbox,
)

pytestmark = pytest.mark.sandbox


def test_status_shows_the_switch_per_replica_and_dns_from_the_name_servers_with_us_east_1_hanging(
    sandbox: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    config, domain = _stack(tmp_path, (EAST, WEST), "failover")
    answering = _answering(sandbox, domain)
    try:
        eventually(lambda: answering() == EAST, "DNS to answer with the PRIMARY", BUDGET)
        _outage(sandbox, "POST", EAST)
        forced = failover(config, "force-fail", "--region", EAST)
        assert forced.exit_code == 0, forced.stderr
        eventually(lambda: answering() == WEST, "DNS to leave us-east-1", BUDGET)

        run = failover(config, "--json", "status", "--timeout", "5s")
        assert run.exit_code == 3, run.stderr  # degraded: us-east-1 is out and unreachable
        status = json.loads(run.stdout)
        east, west = (next(r for r in status["regions"] if r["region"] == q) for q in (EAST, WEST))
        assert east["switch"]["seen_by"] == {EAST: None, WEST: True}
        assert east["switch"]["forced_out"] is True and east["force_fail"] is True
        assert "forced out by the switch" in east["problems"]
        assert west["switch"]["forced_out"] is False and west["reachable"] is True
        # Route 53's API did not answer: the name servers did, and pointed at us-west-2.
        assert status["dns"]["source"].startswith("name server"), status["dns"]
        assert status["dns"]["record_data"] and "dns" not in status["unread"]

        human = failover(config, "status", "--timeout", "5s")
        assert "forced out" in human.stdout and "from name server" in human.stdout
    finally:
        _outage(sandbox, "DELETE")
        restored = failover(config, "force-fail", "--region", EAST, "--restore")
        assert restored.exit_code == 0, restored.stderr
        assert failover(config, "down", "--yes").exit_code == 0
