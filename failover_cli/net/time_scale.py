"""FAILOVER_TIME_SCALE: the measured system's clock runs N times faster than the wall's.

An emulation that accelerates time (the sandbox's `--time-scale 10` runs health
checkers, replication and alarms ten times faster) makes a drill's wall-clock
timings ten times shorter than the same system would take on AWS, next to
settings (interval x threshold) that are in the system's own seconds. When this
variable says a scale other than 1, `drill` and `force-fail --wait` report each
timing in the system's (emulated) seconds as well, labelled, next to the wall
figure. Like FAILOVER_RESOLVE it is one general setting: `failover sandbox` prints
it and `failover demo` sets it; nothing here knows the sandbox.
"""

from __future__ import annotations

import math
import os
from typing import Any

from failover_cli.errors import BadInput

VARIABLE = "FAILOVER_TIME_SCALE"


def time_scale() -> float:
    """The scale in effect (1.0 when the variable is unset); a bad value is exit 2."""
    text = os.environ.get(VARIABLE, "").strip()
    if not text:
        return 1.0
    try:
        scale = float(text)
    except ValueError:
        scale = math.nan
    if not math.isfinite(scale) or scale <= 0:
        raise BadInput(
            f"{VARIABLE} is {text!r}; it must be a number above 0 (how many times faster "
            "than the wall clock the measured system's clock runs)",
            hint=f"Unset it, or export {VARIABLE}=10 for a sandbox started with --time-scale 10.",
        )
    return scale


def emulated(data: dict[str, Any], scale: float) -> dict[str, Any]:
    """A --json timing document with each `seconds`/`*_seconds` figure also given in the
    system's seconds (`emulated_<key>`), and `time_scale`; unchanged at scale 1."""
    if scale == 1:
        return data
    return {**_scaled(data, scale), "time_scale": scale}


def _scaled(data: Any, scale: float) -> Any:
    if isinstance(data, list):
        return [_scaled(item, scale) for item in data]
    if not isinstance(data, dict):
        return data
    found: dict[str, Any] = {}
    for key, value in data.items():
        found[key] = _scaled(value, scale)
        timed = key == "seconds" or key.endswith("_seconds")
        if timed and isinstance(value, int | float) and key != "detection_seconds":
            found[f"emulated_{key}"] = round(value * scale, 1)
    return found
