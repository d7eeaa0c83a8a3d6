"""Tests known to fail on main after the 2026-12-06 integration of issues 20 and 21.

The whole suite, run once after nine parallel branches met on main, failed these. Each is a
real finding, not a flake to ignore: the tests are marked xfail (not strict, so a passing
one does not fail CI) with the reason found, and the next session fixes them and empties
this table (issue 23). Never add to it to make a red run green without a note on the issue.
"""

from __future__ import annotations

KNOWN_FAILURES: dict[str, str] = {}

# Not run: each costs CI up to 20 minutes of a worker while it fails.
NOT_RUN: dict[str, str] = {}


def reason_for(nodeid: str) -> tuple[str, bool] | None:
    """(reason, run it) for a known failure, else None."""
    for prefix, reason in NOT_RUN.items():
        if nodeid.startswith(prefix):
            return reason, False
    for prefix, reason in KNOWN_FAILURES.items():
        if nodeid.startswith(prefix):
            return reason, True
    return None
