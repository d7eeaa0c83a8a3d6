"""Run one piece of work per region in parallel; an AWS error names its region.

Used by the operations that act on every region at once (`gc-logs`,
`rotate-secret`). Every region finishes before the first error is raised, so a
failure in one region never leaves another's work cut off halfway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from failover_cli.aws.errors import translate

T = TypeVar("T")


def per_region(
    regions: Sequence[str], work: Callable[[str], T], *, service: str | None = None
) -> dict[str, T]:
    """`work(region)` for every region at once; results keyed by region, in order."""

    def run(region: str) -> T:
        try:
            return work(region)
        except Exception as error:
            # Translated here: re-raised in the caller's thread it no longer says where.
            translated = translate(error, region=region, service=service)
            if translated is None or translated is error:
                raise
            raise translated from error

    with ThreadPoolExecutor(max_workers=max(len(regions), 1)) as pool:
        futures = {region: pool.submit(run, region) for region in regions}
    return {region: future.result() for region, future in futures.items()}
