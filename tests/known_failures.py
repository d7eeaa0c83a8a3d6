"""Tests known to fail on main after the 2026-12-06 integration of issues 20 and 21.

The whole suite, run once after nine parallel branches met on main, failed these. Each is a
real finding, not a flake to ignore: the tests are marked xfail (not strict, so a passing
one does not fail CI) with the reason found, and the next session fixes them and empties
this table (issue 23). Never add to it to make a red run green without a note on the issue.
"""

from __future__ import annotations

KNOWN_FAILURES: dict[str, str] = {
    "tests/test_rotate_secret_sandbox.py::test_a_rotation_cut_at_every_step_resumes_to_one_secret_and_no_check_fails": (  # noqa: E501
        "the step count is updated (16: each accept and promote publishes and moves live); "
        "sigint at step 12 (us-west-2's promote UpdateFunctionConfiguration) leaves a "
        "secret pending in $LATEST as the test reads it after the cut, yet the re-run "
        "does not resume it (resumed false): not yet analysed (a worker still finishing "
        "after Ctrl-C?); 'error' and 'lost-answer' not seen past sandbox start-up under load"
    ),
}

# Hangs until pytest-timeout (300 s) rather than failing: not run, to keep CI's time.
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
