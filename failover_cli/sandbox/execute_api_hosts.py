"""The one reading of an execute-api host name: `<id>.execute-api.<region>.<suffix>`.

The suffix is `amazonaws.com` (what AWS names), or `localhost` or
`amazonaws.com.localhost` (names that reach the sandbox without a resolver). The id is
a REST API's (10 lower-case letters and digits) or, with a dash, a regional custom
domain's target (`d-…`). API Gateway's requests, the health checkers and the watch
page read hosts here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HOST = re.compile(
    r"^(?P<id>[a-z0-9-]+)\.execute-api\.(?P<region>[a-z0-9-]+)"
    r"\.(?:amazonaws\.com|localhost|amazonaws\.com\.localhost)$"
)


@dataclass(frozen=True)
class ExecuteApiHost:
    id: str  # a REST API id, or `d-…` for a regional custom domain's target
    region: str

    @property
    def is_rest_api(self) -> bool:
        """A REST API's own host (not a custom domain's target)."""
        return "-" not in self.id


def execute_api_host(host: str) -> ExecuteApiHost | None:
    """The id and region of an execute-api host name, as given (no case folding)."""
    match = _HOST.match(host)
    return ExecuteApiHost(match["id"], match["region"]) if match else None
