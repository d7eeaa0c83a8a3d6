"""What the global options carry to every command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from failover_cli.aws.clients import ClientFactory
    from failover_cli.config.schema import Config


@dataclass
class AppState:
    config_path: str
    profile: str | None
    json: bool
    verbose: bool

    def load_config(self) -> Config:
        from failover_cli.config.loader import load_config

        return load_config(Path(self.config_path))

    def clients(self) -> ClientFactory:
        import os

        from failover_cli.aws.clients import ClientFactory

        factory = ClientFactory(self.profile)
        log_path = os.environ.get("FAILOVER_CALL_LOG")
        if log_path:
            from failover_cli.aws.calllog import CallLog

            factory.add_hook(CallLog(Path(log_path)))
        return factory
