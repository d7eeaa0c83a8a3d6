"""The sandbox: a local multi-region AWS on 127.0.0.1, moto plus what moto lacks.

`Sandbox` (server.py) serves moto behind the `Layer` (layer.py), where
features (see context.py) register interceptors and background jobs. The
provisioning code knows none of this: it reaches the sandbox through
`AWS_ENDPOINT_URL` and `FAILOVER_RESOLVE`, exactly as it reaches AWS.
"""

from __future__ import annotations

from failover_cli.sandbox.server import PortInUse, Sandbox, SandboxError

__all__ = ["PortInUse", "Sandbox", "SandboxError"]
