"""What a sandbox feature gets to plug itself in: the layer, the scheduler, the endpoint.

A *feature* fills one gap in moto (replicas, running functions, health
checkers, ...). It is a function `install(context)` that registers its
interceptors with `context.layer.add(...)` and its timed work with
`context.scheduler.call_later/call_every(...)`; `server.FEATURES` lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from failover_cli.sandbox.aws_rules import AwsRules
from failover_cli.sandbox.health_state import HealthState
from failover_cli.sandbox.iam_policy import Policy
from failover_cli.sandbox.ip_ranges import IpRanges
from failover_cli.sandbox.layer import Layer
from failover_cli.sandbox.outage_regions import Outages
from failover_cli.sandbox.scheduler import Scheduler


@dataclass(eq=False)  # compared and hashed by identity: the context is hashed
class NameserverAddress:
    """Where the authoritative DNS server (route53/nameserver.py) listens: the requested
    port (0: any free one) until it is bound, the bound one after."""

    host: str = "127.0.0.1"
    port: int = 0


@dataclass(frozen=True)
class SandboxContext:
    layer: Layer
    scheduler: Scheduler
    endpoint: str  # http://127.0.0.1:PORT, for features that call the sandbox itself
    time_scale: float
    # Route 53 health as the sandbox's checkers see it (written by route53.checkers,
    # read by GetHealthCheckStatus, DNS answers, the HealthCheckStatus metric ...).
    health: HealthState = field(default_factory=HealthState)
    # Where the emulated DNS client sits: latency routing answers from here.
    client_region: str = "us-east-1"
    # Folder where SNS e-mail deliveries are written (None: e-mail is not delivered).
    outbox: Path | None = None
    # AWS's holds, delays and rate limits the services enforce (changeable at run time).
    rules: AwsRules = field(default_factory=AwsRules)
    # Regions in an emulated outage (the outage switch), for any feature to read.
    outages: Outages = field(default_factory=Outages)
    # AWS's published address ranges (/_sandbox/ip-ranges.json); checkers call from them.
    ip_ranges: IpRanges = field(default_factory=IpRanges)
    # --enforce-policy's policy (None: every call allowed), for IAM's policy simulation.
    policy: Policy | None = None
    # Route 53's authoritative name servers (UDP and TCP): `failover sandbox --dns-port`.
    nameserver: NameserverAddress = field(default_factory=NameserverAddress)


Feature = Callable[[SandboxContext], None]
