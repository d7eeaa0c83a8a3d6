"""DynamoDB's passing states a real `down` meets: retried with a bound, never mistaken."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from failover_cli.services.dynamodb_tables import (
    BUSY_BUDGET,
    is_protected_error,
    when_not_busy,
)
from tests.engine_helpers import context

REPLICATING = (
    "Replica cannot be deleted because it is the last active replica of the global table "
    "and cannot be deleted until all writes are replicated"
)


def _error(message: str, code: str = "ValidationException") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "UpdateTable")


def test_a_replica_waiting_for_its_writes_to_replicate_is_retried_until_it_goes() -> None:
    attempts: list[int] = []

    def call() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise _error(REPLICATING)
        return "deleted"

    with context() as (ctx, _):
        assert when_not_busy(ctx, "us-west-2", "replica change", call) == "deleted"
    assert len(attempts) == 3


def test_the_wait_for_replication_is_bounded() -> None:
    def call() -> None:
        raise _error(REPLICATING)

    with context() as (ctx, _), pytest.raises(ClientError):
        when_not_busy(ctx, "us-west-2", "replica change", call)
    assert BUSY_BUDGET - 60 <= ctx.clock.now() <= BUSY_BUDGET + 60  # gave up near the budget


def test_another_validation_error_is_not_retried() -> None:
    attempts: list[int] = []

    def call() -> None:
        attempts.append(1)
        raise _error("One or more parameter values were invalid")

    with context() as (ctx, _), pytest.raises(ClientError):
        when_not_busy(ctx, "us-west-2", "delete", call)
    assert len(attempts) == 1


@pytest.mark.parametrize(
    "message",
    [
        "Resource cannot be deleted as it is currently protected against deletion. "
        "Disable deletion protection first.",
        "Replica cannot be deleted because it has deletion protection enabled",
        "DeletionProtectionEnabled is true",
    ],
)
def test_deletion_protection_is_recognised_in_awss_wordings(message: str) -> None:
    assert is_protected_error(_error(message))
    assert not is_protected_error(_error(REPLICATING))
