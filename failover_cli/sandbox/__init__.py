"""The sandbox: a local multi-region AWS on 127.0.0.1, moto plus what moto lacks.

A small core and one subpackage per emulated service (map: README.md here):

- core: `Sandbox` (server.py) serves moto behind the `Layer` (layer.py),
  where features register interceptors for `AwsRequest`s (requests.py) and
  answer with `Response`s (responses.py); timed work runs on the `Scheduler`
  (scheduler.py); a feature gets all of it as a `SandboxContext`
  (context.py), with `stop_hooks.on_stop` for cleanup, `loopback` clients
  for calling the sandbox's own public APIs, `HealthState`
  (health_state.py) for what the Route 53 checkers observe and `Outages`
  (outage_regions.py) for the regions the outage switch has taken down
  (outage_answers.py, first in the layer, answers their requests as an
  outage would; holding.py keeps unanswered connections);
- services: `lambda_/`, `route53/`, `apigateway/`, `dynamodb/`,
  `autoscaling/`, `cloudwatch/`, `sns/`, `acm/`, and `watch/` (the page).

Services import the core, never each other, except where a subpackage's
docstring names a deliberate exception; the core imports no service except
server.py, which assembles them (`FEATURES`). The provisioning code knows
none of this: it reaches the sandbox through `AWS_ENDPOINT_URL` and
`FAILOVER_RESOLVE`, exactly as it reaches AWS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from failover_cli.sandbox.server import PortInUse, Sandbox, SandboxError

__all__ = ["PortInUse", "Sandbox", "SandboxError"]


def __getattr__(name: str) -> Any:
    # Lazy, so importing one service module (or its tests) neither loads
    # moto's server nor makes the package import itself through server.py.
    if name in __all__:
        from failover_cli.sandbox import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
