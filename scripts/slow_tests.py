"""Write tests/slow_tests.txt from a pytest run's durations (`--durations=0`, or CI's 25).

    python -m pytest -q -n 4 --durations=0 | tee run.log
    python scripts/slow_tests.py run.log

Each test's setup, call and teardown are added up; tests of at least MIN_SECONDS are
kept, slowest first. Under xdist, conftest.py hands them to the workers first, so the
run does not end on one worker still busy with a two-minute test while the others
idle. A stale list costs nothing but that ordering: a test it does not name runs in
collection order, a name no test has any more is ignored.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

MIN_SECONDS = 15.0
LIST = Path(__file__).resolve().parent.parent / "tests" / "slow_tests.txt"
_LINE = re.compile(r"^\s*([\d.]+)s\s+(?:setup|call|teardown)\s+(\S+)\s*$")
HEADER = """\
# Tests that take at least {min:g} s of wall time on a 2-core machine, slowest first, with
# their seconds in the run this list was made from (scripts/slow_tests.py). Under xdist
# they start first (tests/conftest.py); the rest keep their collection order.
"""


def durations(lines: list[str]) -> dict[str, float]:
    total: dict[str, float] = defaultdict(float)
    for line in lines:
        match = _LINE.match(line)
        if match:
            test = match.group(2).split("@", 1)[0]  # without xdist's @group suffix
            total[test] += float(match.group(1))
    return total


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    total: dict[str, float] = {}
    for path in paths:
        total.update(durations(Path(path).read_text().splitlines()))
    slow = sorted(((s, t) for t, s in total.items() if s >= MIN_SECONDS), reverse=True)
    body = "".join(f"{seconds:.0f} {test}\n" for seconds, test in slow)
    LIST.write_text(HEADER.format(min=MIN_SECONDS) + body)
    print(f"{LIST}: {len(slow)} tests of at least {MIN_SECONDS:g} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
