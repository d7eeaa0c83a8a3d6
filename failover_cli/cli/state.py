"""What the global options carry to every command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from failover_cli.errors import BadInput

if TYPE_CHECKING:
    from failover_cli.aws.clients import ClientFactory
    from failover_cli.aws.deadlines import Deadline
    from failover_cli.config.schema import Config


@dataclass
class AppState:
    config_path: str
    profile: str | None
    json: bool
    verbose: bool
    deadline: Deadline | None = None  # set by the command: read-only or mutating

    def load_config(self) -> Config:
        from failover_cli.config.loader import load_config

        if not self.config_path.strip():  # Path("") would read as the current folder
            raise BadInput(
                "The config path is empty",
                hint="Pass --config PATH to a YAML file, or unset FAILOVER_CONFIG.",
            )
        return load_config(Path(self.config_path))

    def clients(self) -> ClientFactory:
        """The command's client factory; `deadline` bounds its calls (MUTATING by default)."""
        import os

        from failover_cli.aws.clients import ClientFactory
        from failover_cli.aws.deadlines import MUTATING

        factory = ClientFactory(self.profile, deadline=self.deadline or MUTATING)
        _require_credentials(factory)
        log_path = os.environ.get("FAILOVER_CALL_LOG")
        if log_path:
            from failover_cli.aws.calllog import CallLog

            factory.add_hook(CallLog(Path(log_path)))
        return factory


def _require_credentials(factory: ClientFactory) -> None:
    """Exit 2 before any AWS call when the profile does not exist or no credentials are found.

    botocore would otherwise find out at the first request's signing, in whichever
    thread of a fan-out makes it. The credentials it resolves here are cached in the
    session, so this costs nothing later.
    """
    from botocore.exceptions import NoCredentialsError

    from failover_cli.aws.errors import translate

    try:
        found = factory.session.get_credentials()
        if found is None:
            raise NoCredentialsError()
    except Exception as error:
        translated = translate(error)
        if translated is None:
            raise
        raise translated from None
