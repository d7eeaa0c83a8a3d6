"""The live AWS test is opt-in twice over: `-m aws` and FAILOVER_TEST_PROFILE. Either alone
skips it with a reason that says what to do, so no run costs money by accident."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO_ROOT


def _pytest(*args: str, profile: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "FAILOVER_TEST_PROFILE"}
    if profile is not None:
        env["FAILOVER_TEST_PROFILE"] = profile
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr  # skipped is a success, not "no tests"
    return done.stdout


def test_asking_for_the_live_tests_without_a_profile_skips_them_saying_why() -> None:
    said = _pytest("-m", "aws", "tests/test_live_aws.py", profile=None)
    assert "1 skipped" in said
    assert "FAILOVER_TEST_PROFILE is not set" in said


def test_a_profile_alone_does_not_run_them_in_the_normal_suite() -> None:
    said = _pytest("tests/test_live_aws.py", profile="someone-elses-account")
    assert "1 skipped" in said and "run `python -m pytest -m aws`" in said
