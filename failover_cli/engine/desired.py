"""What every kind's spec builder (`Handler.desired`) gets: the config and what it needs beyond."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from failover_cli.bundle import CodeBundle
from failover_cli.config.schema import Config

if TYPE_CHECKING:
    from failover_cli.access.ranges import Ranges


@dataclass(frozen=True)
class DesiredInputs:
    """What the spec builders need beyond the config."""

    config: Config
    secret: str  # the health-checker secret (see engine.secret)
    code: CodeBundle
    # The published ranges for `access.allow: route53-health-checkers` (None: not read).
    ranges: Ranges | None = None
