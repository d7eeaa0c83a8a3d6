"""UpdateHealthCheck with HealthCheckVersion: a concurrent edit costs one re-read, not a failure."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from failover_cli.services.health_checks import update_versioned


class Route53:
    """UpdateHealthCheck that refuses a stale version, as Route 53 does."""

    def __init__(self, version: int, races: int = 0):
        self.version = version
        self.races = races  # concurrent edits that land just before our update
        self.updates: list[dict[str, Any]] = []

    def update_health_check(self, **update: Any) -> dict[str, Any]:
        if self.races:
            self.races -= 1
            self.version += 1
        if update.get("HealthCheckVersion") != self.version:
            raise ClientError(
                {"Error": {"Code": "HealthCheckVersionMismatch", "Message": "stale"}},
                "UpdateHealthCheck",
            )
        self.version += 1
        self.updates.append(update)
        return {}

    def get_health_check(self, HealthCheckId: str) -> dict[str, Any]:
        return {"HealthCheck": {"Id": HealthCheckId, "HealthCheckVersion": self.version}}


def test_a_version_mismatch_is_read_again_and_retried_once() -> None:
    r53 = Route53(version=3, races=1)
    update_versioned(r53, "c1", 3, SearchString="hello")
    assert r53.updates == [
        {"HealthCheckId": "c1", "HealthCheckVersion": 4, "SearchString": "hello"}
    ]


def test_a_second_mismatch_is_the_callers_to_see() -> None:
    r53 = Route53(version=3, races=2)
    with pytest.raises(ClientError) as raised:
        update_versioned(r53, "c1", 3, SearchString="hello")
    assert raised.value.response["Error"]["Code"] == "HealthCheckVersionMismatch"
    assert not r53.updates
