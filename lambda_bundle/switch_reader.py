"""GET /health/switch/<R>: is region R forced out, as this region's table replica sees it?

The switch is one item in the stack's global table (the data-plane switch; the
tool writes it, global tables replicate it, Route 53 reads it through here):

    {
      "<partition key>": "failover:switch",   # settings.SWITCH_KEY_VALUE
      "forced_out": {                         # M: region -> who took it out; absent = none
        "us-east-1": {"at": "2026-12-06T21:04:05Z",   # S, UTC ISO 8601
                      "by": "arn:aws:sts::123456789012:assumed-role/ops/alice",  # S
                      "why": "drill"}                 # S, free text
      },
      "revision": 12,                         # N: +1 on every write (conditional writes)
      "updated_at": "2026-12-06T21:04:05Z"    # S
    }

The partition key attribute is the table's own (the seed item's key name), so
the item sits next to the seed item; SWITCH_KEY (JSON) overrides the whole key.

Route 53 "switch reader" checks probe this route with the health-checker
secret, Inverted, matching FORCED_OUT_MARKER: only an answer that positively
sees R forced out carries the marker. Every other answer (R not out, no item,
a failed read, 403/404/503) lacks it, so a reader that is down, slow or
wrong counts as "no objection". No answer here contains the health search
string either (no "hello"): a reader can never pass a region's own probe.

One GetItem per probe with a projection of R's entry only, eventually
consistent (half a read unit): the client is deep_ping's, cached per container.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import settings
from deep_ping import read_item
from routing import Request, Response, route

_log = logging.getLogger(__name__)

FORCED_OUT_MARKER = "failover-switch:forced-out"
NOT_OUT = "failover-switch:in"
_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d{1,2}")
_TEXT_LIMIT = 200  # keep the marker inside the checkers' first 5,120 bytes


@route("health/switch/{region}", protected=True)
def switch(request: Request) -> Response:
    target = request.route.rsplit("/", 1)[-1]
    if not _REGION.fullmatch(target):
        return Response(404, {"message": "Not found"})
    here = request.region
    try:
        entry = read_entry(here, target)
    except Exception as exc:
        _log.error("switch read failed in %s: %s: %.200s", here, type(exc).__name__, exc)
        return Response(503, {"message": f"Switch read failed in {here}"})
    if entry is None:
        return Response(
            200, {"switch": NOT_OUT, "region": target, "seen_from": here, "forced_out": False}
        )
    body = {"switch": FORCED_OUT_MARKER, "region": target, "seen_from": here, "forced_out": True}
    body.update({k: entry[k][:_TEXT_LIMIT] for k in ("at", "by", "why") if k in entry})
    return Response(200, body)


def read_entry(here: str, target: str) -> dict[str, str] | None:
    """`target`'s entry in the switch item of `here`'s replica: {at, by, why} or None."""
    item = read_item(here, settings.switch_key(), "forced_out.#r", {"#r": target})
    entry: Any = ((item or {}).get("forced_out") or {}).get("M", {}).get(target)
    if entry is None:
        return None
    fields = entry.get("M") or {}  # any value marks R out; the fields only explain it
    return {k: str(v.get("S", "")) for k, v in fields.items() if isinstance(v, dict)}
