"""Which AWS regions exist, from botocore's offline data: no network, no credentials.

The data files are read directly from botocore's package folder rather than
through `botocore.session`, whose import alone costs ~150 ms on every command
that loads a config; the answers are the same (a test compares them).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

# The only partition the stack's ARNs, endpoints and global-service region are written for.
SUPPORTED_PARTITION = "aws"


@lru_cache(maxsize=1)
def _botocore_data() -> Path:
    spec = importlib.util.find_spec("botocore")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _load(relative: str) -> Any:
    path = _botocore_data() / relative
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return json.loads(gzip.decompress((path.parent / (path.name + ".gz")).read_bytes()))


@lru_cache(maxsize=1)
def lambda_regions() -> dict[str, str]:
    """Every region where Lambda is offered, mapped to its partition (aws, aws-cn, …)."""
    regions: dict[str, str] = {}
    for partition in _load("endpoints.json")["partitions"]:
        endpoints = partition["services"].get("lambda", {}).get("endpoints", {})
        pattern = re.compile(partition["regionRegex"])
        # As botocore's get_available_regions: regional names only, not deprecated ones.
        for name, settings in endpoints.items():
            if pattern.match(name) and not settings.get("deprecated"):
                regions.setdefault(name, partition["partition"])
    return regions


@lru_cache(maxsize=1)
def health_check_regions() -> tuple[str, ...]:
    """The regions Route 53 health checkers may run from (the `HealthCheckRegion` enum)."""
    versions = sorted(p.name for p in (_botocore_data() / "route53").iterdir() if p.is_dir())
    model = _load(f"route53/{versions[-1]}/service-2.json")
    return tuple(model["shapes"]["HealthCheckRegion"]["enum"])
