"""Which regions are in an emulated outage, and how: the registry behind the outage switch.

Modes (what a client of that region sees):

- `hang`: the region's AWS API endpoints accept a request and never answer;
- `refuse`: they reset the connection without an answer;
- `5xx`: every API answers 503 ServiceUnavailable in the service's own shape;
- `dataplane`: the APIs answer, but the region's execute-api and custom-domain
  requests hang, its health checkers' probes fail and its functions cannot
  reach DynamoDB.

`hang`, `refuse` and `5xx` are control-plane outages: the data plane
(execute-api, the functions' own DynamoDB reads, health checker probes)
keeps working, as in the control-plane outages AWS has had. Replication to
and from a region pauses in every mode and catches up when it ends.

`SandboxContext.outages` holds one `Outages`; the gate (outage_answers.py), the
switch (`/_sandbox/outage`), the checkers, custom domains and replication
read or watch it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Mode(StrEnum):
    HANG = "hang"
    REFUSE = "refuse"
    ERROR = "5xx"
    DATAPLANE = "dataplane"


CONTROL_PLANE = frozenset({Mode.HANG, Mode.REFUSE, Mode.ERROR})
# In the User-Agent of the sandbox's own calls to itself (loopback.py, the watch
# page): AWS's internal traffic, which the outage switch never gates.
INTERNAL_AGENT = "failover-sandbox-internal"
UNANSWERED_KEY = "failover.unanswered"  # WSGI environ: the layer marks an unanswered request
NONE = "none"  # the mode that ends an outage (POST /_sandbox/outage)
_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d+")


class BadOutage(ValueError):
    """A region or mode the switch cannot take; the message says which and why."""


class Unanswered(ConnectionAbortedError):
    """Raised through the WSGI app: this request gets no HTTP answer at all.

    A `ConnectionError`, so werkzeug writes nothing and treats it as a dropped
    connection; the server then holds (`hang`) or resets (`refuse`) the socket.
    """

    def __init__(self, mode: Mode, region: str):
        super().__init__(f"{region} is in a {mode} outage")
        self.mode = mode
        self.region = region


@dataclass(frozen=True)
class Outage:
    region: str
    mode: Mode
    since: datetime

    def public(self) -> dict[str, str]:
        return {"region": self.region, "mode": str(self.mode), "since": self.since.isoformat()}


Listener = Callable[[str, "Mode | None"], object]  # (region, new mode or None when it ended)


def parse_mode(text: str) -> Mode | None:
    """A mode name, or None for `none` (end the outage)."""
    if text.lower() == NONE:
        return None
    try:
        return Mode(text.lower())
    except ValueError:
        known = ", ".join([*(str(mode) for mode in Mode), NONE])
        raise BadOutage(f"{text!r} is not an outage mode (one of {known})") from None


def check_region(region: str) -> str:
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise BadOutage(f"{region!r} is not an AWS region name (like us-west-2)")
    return region


def parse_outage(text: str) -> tuple[str, Mode]:
    """`REGION[:MODE]` as given to `failover sandbox --outage` (mode default hang)."""
    region, _, mode_text = text.partition(":")
    mode = parse_mode(mode_text) if mode_text else Mode.HANG
    if mode is None:
        raise BadOutage(f"{text!r}: a sandbox starts with no outage unless one is given")
    return check_region(region), mode


class Outages:
    """The current outages, safe to read from any thread; listeners hear every change."""

    def __init__(self, initial: dict[str, Mode] | None = None):
        self._lock = threading.Lock()
        now = datetime.now(UTC)
        self._outages = {r: Outage(r, m, now) for r, m in (initial or {}).items()}
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def set(self, region: str, mode: Mode | None) -> None:
        """Start (or change) `region`'s outage; mode None ends it."""
        check_region(region)
        with self._lock:
            current = self._outages.get(region)
            if (current.mode if current else None) == mode:
                return
            if mode is None:
                del self._outages[region]
            else:
                self._outages[region] = Outage(region, mode, datetime.now(UTC))
            listeners = list(self._listeners)
        for listener in listeners:  # outside the lock: a listener may read us back
            listener(region, mode)

    def end_all(self) -> None:
        for outage in self.current():
            self.set(outage.region, None)

    def current(self) -> list[Outage]:
        with self._lock:
            return sorted(self._outages.values(), key=lambda outage: outage.region)

    @property
    def active(self) -> bool:
        """Whether any region is in an outage (the gate's fast path)."""
        return bool(self._outages)

    def mode(self, region: str) -> Mode | None:
        outage = self._outages.get(region)  # one dict read: atomic, no lock needed
        return outage.mode if outage else None

    def control_plane_down(self, region: str) -> Mode | None:
        """The mode of `region`'s API outage (hang, refuse, 5xx), or None."""
        mode = self.mode(region)
        return mode if mode in CONTROL_PLANE else None

    def data_plane_down(self, region: str) -> bool:
        return self.mode(region) is Mode.DATAPLANE

    def replication_paused(self, region: str) -> bool:
        return region in self._outages
