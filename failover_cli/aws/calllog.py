"""Optional audit trail of every AWS call: FAILOVER_CALL_LOG=<file> appends one JSON line per call.

Operators use it to see exactly what a command does; the tests and benchmarks
use it to prove that a converged `up` makes no mutating call.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any


class CallLog:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def __call__(self, service: str, region: str, operation: str, _params: dict[str, Any]) -> None:
        # Parameters are not logged: they may hold the health-checker secret.
        line = json.dumps(
            {"t": round(time.time(), 3), "service": service, "region": region, "op": operation}
        )
        with self._lock, self._path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
