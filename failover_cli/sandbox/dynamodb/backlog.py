"""Replication held back while a region is in an outage, replayed when it ends.

DynamoDB global tables keep accepting writes in the regions that work; what
could not replicate to or from an isolated region propagates once it is back
(AWS's guide to evacuating a region, live or offline):
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-global-table-design.prescriptive-guidance.evacuation.html

A write whose source or receiving region is paused is remembered here, by
(account, table, source, receiver, key); the catch-up copies the *current*
item from source to receiver, so several writes to one key replay as one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WHOLE_TABLE = "*"  # a write we cannot key (PartiQL): the whole table is copied


@dataclass(frozen=True)
class Pending:
    account_id: str
    name: str
    source: str
    receiver: str
    attributes: Mapping[str, Any] | None  # None: copy the whole table


class Backlog:
    """Writes not yet replicated, in write order; not thread-safe (the tables' lock is held)."""

    def __init__(self, paused: Callable[[str], bool]):
        self.paused = paused
        self._pending: dict[tuple[str, str, str, str, str], Pending] = {}

    def hold_back(
        self,
        account_id: str,
        name: str,
        source: str,
        receivers: Iterable[str],
        attributes: Mapping[str, Any] | None,
    ) -> list[str]:
        """The receivers to replicate to now; the others are remembered for later."""
        now = []
        for receiver in receivers:
            if self.paused(source) or self.paused(receiver):
                key = json.dumps(attributes, sort_keys=True) if attributes else WHOLE_TABLE
                entry = Pending(account_id, name, source, receiver, attributes)
                self._pending.pop((account_id, name, source, receiver, key), None)
                self._pending[(account_id, name, source, receiver, key)] = entry  # now last
            else:
                now.append(receiver)
        return now

    def ready(self) -> list[Pending]:
        """Take the remembered writes whose regions both work again, oldest first."""
        taken = [
            (key, entry)
            for key, entry in self._pending.items()
            if not self.paused(entry.source) and not self.paused(entry.receiver)
        ]
        for key, _entry in taken:
            del self._pending[key]
        return [entry for _key, entry in taken]

    def __len__(self) -> int:
        return len(self._pending)
