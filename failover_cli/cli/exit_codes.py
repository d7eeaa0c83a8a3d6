"""The exit codes each command's `--help` states (README: Commands, exit codes).

One table, so a command's help and the README say the same; a command whose
docstring lists its own codes (plan, status, doctor) keeps them.
"""

from __future__ import annotations

COMMON = (
    "0 success; 1 an AWS error the tool could not get past; 2 bad input (usage, config, "
    "credentials, a refused safety check or a declined prompt) with nothing changed"
)
SPECIFIC = {
    "init": "0 written; 2 a bad answer, or the file exists without --force: nothing written",
    "validate": "0 valid; 2 invalid (every problem listed)",
    "force-fail": COMMON + "; 1 also when --wait did not see every phase in time",
    "drill": COMMON + "; 1 also when a phase was not reached in time (the region is restored)",
    "logs": COMMON + "; 1 also when a region could not be read (the others are shown)",
    "invoke": COMMON + "; 1 also when the answer is not 2xx/3xx, or none came (printed anyway)",
    "up": COMMON + "; 1 also when a release failed a gate (that region is rolled back)",
    "rollback": COMMON + "; 1 also when a region failed a gate (it serves what it did before); "
    "2 also when a region has no earlier release or its target carries another secret",
    "down": COMMON + "; 1 also when something the stack owns remains after the re-scan",
    "sandbox": "0 stopped by Ctrl-C or SIGTERM; 2 a bad option or the port is taken",
    "demo": "0 every step ran; 1 a step failed (the sandbox is stopped either way)",
    "iam-policy": "0 printed; 2 a bad config or option",
}


def epilog(name: str) -> str:
    return f"Exit codes: {SPECIFIC.get(name, COMMON)}."
