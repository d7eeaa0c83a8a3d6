"""Which AWS regions exist, from botocore's offline data: no network, no credentials.

botocore is imported inside the functions so that importing the config
package stays light (`failover --help` never pays for it).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.session import Session


@lru_cache(maxsize=1)
def _session() -> Session:
    from botocore.session import get_session

    return get_session()


@lru_cache(maxsize=1)
def lambda_regions() -> dict[str, str]:
    """Every region where Lambda is offered, mapped to its partition (aws, aws-cn, …)."""
    session = _session()
    regions: dict[str, str] = {}
    for partition in session.get_available_partitions():
        for region in session.get_available_regions("lambda", partition_name=partition):
            regions.setdefault(region, partition)
    return regions


@lru_cache(maxsize=1)
def health_check_regions() -> tuple[str, ...]:
    """The regions Route 53 health checkers may run from (the `HealthCheckRegion` enum)."""
    shape = _session().get_service_model("route53").shape_for("HealthCheckRegion")
    return tuple(getattr(shape, "enum", ()))
