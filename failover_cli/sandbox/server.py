"""`Sandbox`: moto's server app behind the layer, served threaded on loopback.

Usage::

    with Sandbox(port=0, time_scale=10) as sandbox:
        os.environ.update(sandbox.environment())
        ...  # boto3 clients now talk to the sandbox

`failover sandbox` runs one in the foreground; `failover demo` in-process.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from failover_cli.errors import BadInput, FailoverError
from failover_cli.sandbox import (
    account_reads,
    aws_rules,
    ip_ranges,
    moto_warmup,
    outage_endpoint,
)
from failover_cli.sandbox.access import PolicyEnforcer
from failover_cli.sandbox.acm import in_use as acm_in_use
from failover_cli.sandbox.acm import validation as acm_validation
from failover_cli.sandbox.apigateway import custom_domains, execute_api
from failover_cli.sandbox.apigateway import domains as apigateway_domains
from failover_cli.sandbox.apigateway import gaps as apigateway_gaps
from failover_cli.sandbox.autoscaling import gaps as autoscaling_gaps
from failover_cli.sandbox.cloudwatch import alarms as cloudwatch_alarms
from failover_cli.sandbox.context import Feature, NameserverAddress, SandboxContext
from failover_cli.sandbox.dynamodb import global_tables as dynamodb_global_tables
from failover_cli.sandbox.holding import HoldingPen, holding_handler, server_class
from failover_cli.sandbox.host_guard import HostGuard
from failover_cli.sandbox.iam_policy import Policy
from failover_cli.sandbox.lambda_ import invoke as lambda_invoke
from failover_cli.sandbox.lambda_ import updates as lambda_updates
from failover_cli.sandbox.lambda_ import versions as lambda_versions
from failover_cli.sandbox.layer import Layer
from failover_cli.sandbox.outage_regions import Mode, Outages
from failover_cli.sandbox.route53 import calculated as route53_calculated
from failover_cli.sandbox.route53 import changes as route53_changes
from failover_cli.sandbox.route53 import check_limits as route53_check_limits
from failover_cli.sandbox.route53 import checkers as health_checkers
from failover_cli.sandbox.route53 import dns_answer as route53_test_dns
from failover_cli.sandbox.route53 import metrics as route53_metrics
from failover_cli.sandbox.route53 import nameserver as route53_nameserver
from failover_cli.sandbox.route53 import references as route53_references
from failover_cli.sandbox.route53 import status as route53_status
from failover_cli.sandbox.route53.dns import DEFAULT_CLIENT_REGION
from failover_cli.sandbox.route53.records import zones_for
from failover_cli.sandbox.scheduler import Scheduler
from failover_cli.sandbox.sns import email as sns_email
from failover_cli.sandbox.sns.outbox import default_outbox
from failover_cli.sandbox.watch import page as watch_page

log = logging.getLogger(__name__)

# The gaps in moto the sandbox fills, installed in this order: one line per feature.
FEATURES: tuple[Feature, ...] = (
    outage_endpoint.install,  # first: an outage applies before any other feature
    aws_rules.install,
    account_reads.install,
    ip_ranges.install,
    acm_in_use.install,
    dynamodb_global_tables.install,
    lambda_updates.install,  # before lambda_invoke: an update in progress refuses first
    lambda_versions.install,  # before lambda_invoke: Publish=True publishes the stored code
    lambda_invoke.install,
    apigateway_gaps.install,
    autoscaling_gaps.install,
    acm_validation.install,
    apigateway_domains.install,
    execute_api.install,
    route53_check_limits.install,  # before the checkers: a refused check is never probed
    route53_calculated.install,  # likewise; and an update keeps the children it omits
    health_checkers.install,
    route53_references.install,  # inside health_checkers: it re-reads the result
    route53_changes.install,
    route53_status.install,
    route53_test_dns.install,
    route53_nameserver.install,  # Route 53's name servers: UDP/TCP on their own port
    custom_domains.install,
    route53_metrics.install,
    cloudwatch_alarms.install,
    sns_email.install,  # before watch_page: its links live under /_sandbox/
    watch_page.install,
)

# Set before moto builds its backends; an explicit environment value wins.
MOTO_SETTINGS = {
    # The AWS managed policies (AWSLambdaBasicExecutionRole ...) exist on AWS too.
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    # moto's timer never issues a certificate: acm_validation does, once the
    # validation CNAME is in the hosted zone (a year outlives any sandbox).
    "MOTO_ACM_VALIDATION_WAIT": "31536000",
    # moto answers every origin with CORS allowance: a web page could read the sandbox.
    "MOTO_DISABLE_GLOBAL_CORS": "true",
}

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
DEFAULT_REGION = "us-east-1"


class SandboxError(FailoverError):
    """The sandbox could not start."""


class PortInUse(SandboxError, BadInput):
    pass


class BadOutbox(SandboxError, BadInput):
    """--outbox names something that cannot be a folder: bad input, exit 2."""


class Sandbox:
    """A two-(or more-)region AWS on 127.0.0.1: moto plus the layer's features."""

    def __init__(
        self,
        port: int = 0,
        time_scale: float = 1.0,
        host: str = "127.0.0.1",
        *,
        features: Sequence[Feature] = FEATURES,
        log_requests: bool = False,
        client_region: str = DEFAULT_CLIENT_REGION,
        outbox: str | os.PathLike[str] | None = None,
        rules: aws_rules.AwsRules | None = None,
        policy: Policy | None = None,
        outages: Mapping[str, Mode] | None = None,
        dns_port: int = 0,
    ):
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.host = host
        self.time_scale = time_scale
        self._requested_port = port
        self._requested_dns_port = dns_port  # the authoritative name server's (0: any free)
        self._features = tuple(features)
        self._log_requests = log_requests
        # Where DNS answers are computed from (latency routing) and SNS e-mail goes.
        self.client_region = client_region
        self.outbox = Path(outbox) if outbox is not None else default_outbox()
        # --enforce-policy: the operator's calls held to this IAM policy (None: all allowed)
        self.enforcer = PolicyEnforcer(policy) if policy is not None else None
        self._server: Any = None  # werkzeug's ThreadedWSGIServer while running
        self._bound_port: int | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self.scheduler = Scheduler(time_scale)
        self.context: SandboxContext | None = None
        self.rules = rules or aws_rules.AwsRules()
        # The outage switch: set at start (--outage) or at run time (/_sandbox/outage).
        self.outages = Outages(dict(outages or {}))
        self._pen: HoldingPen | None = None

    @property
    def port(self) -> int:
        """The bound port once started (port 0 picks a free one), else the requested one."""
        return self._bound_port if self._bound_port is not None else self._requested_port

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def environment(self) -> dict[str, str]:
        """The variables a client needs to use this sandbox instead of AWS."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            **FAKE_CREDENTIALS,
            "AWS_DEFAULT_REGION": DEFAULT_REGION,
            # The tool's own HTTP requests (API URLs, custom domains) land here too.
            # Every host the tool probes over HTTP (execute-api hosts and the
            # stack's custom domain, whatever its name) is answered by the sandbox.
            "FAILOVER_RESOLVE": f"*={self.endpoint}",
            # The address ranges document (access.allow: route53-health-checkers) that
            # its health checkers call from, instead of AWS's published one.
            "FAILOVER_IP_RANGES": f"{self.endpoint}{ip_ranges.DOCUMENT_PATH}",
            # Route 53's name servers for every hosted zone (DNS over UDP and TCP): asked
            # instead of a zone's ns-….awsdns-… servers, e.g. while Route 53's API is down.
            **({"FAILOVER_NAMESERVERS": self.nameserver} if self.nameserver else {}),
            # Its clocks run this much faster: drills report emulated seconds too.
            **({"FAILOVER_TIME_SCALE": f"{self.time_scale:g}"} if self.time_scale != 1 else {}),
        }

    @property
    def nameserver(self) -> str | None:
        """`127.0.0.1:PORT` of the authoritative DNS server once started, else None."""
        where = self.context.nameserver if self.context is not None else None
        return f"{where.host}:{where.port}" if where is not None and where.port else None

    def start(self) -> Sandbox:
        """Bind, install the features and serve from a background thread; returns at once."""
        if self._server is not None:
            return self
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            message = f"Cannot create the outbox {self.outbox}: {error.strerror}"
            raise BadOutbox(message, hint="Choose another folder with --outbox.") from None
        listener = self._bind()
        _configure_moto()
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication

        layer = Layer(DomainDispatcherApplication(_backend_app))
        try:
            # werkzeug binds by itself and sys.exit()s when the port is taken:
            # hand it our already-bound socket instead.
            self._server = server_class()(
                self.host,
                listener.getsockname()[1],
                layer,
                holding_handler(_request_handler(self._log_requests)),
                fd=listener.fileno(),
            )
        finally:
            listener.close()  # the server holds its own duplicate of the socket
        pen = self._pen = self._server.pen = HoldingPen()
        # A change of a region's outage lets go of what its old mode held: the
        # clients' retries meet the new mode.
        self.outages.subscribe(lambda region, _mode: pen.release(region))
        self._bound_port = int(self._server.port)
        # First in the chain: a request from a foreign Host or Origin reaches nothing else.
        layer.add(HostGuard(self._bound_port, _serves_domain))
        if self.enforcer is not None:  # next: a refused call reaches no feature and no moto
            layer.add(self.enforcer)
        self.context = SandboxContext(
            layer,
            self.scheduler,
            self.endpoint,
            self.time_scale,
            client_region=self.client_region,
            outbox=self.outbox,
            rules=self.rules,
            outages=self.outages,
            policy=self.enforcer.policy if self.enforcer is not None else None,
            nameserver=NameserverAddress(self.host, self._requested_dns_port),
        )
        for install in self._features:
            install(self.context)
        self.scheduler.start()
        self._stopped.clear()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"sandbox-{self.port}", daemon=True
        )
        self._thread.start()
        log.info("sandbox listening on %s", self.endpoint)
        return self

    def stop(self) -> None:
        """Stop serving and the background jobs; safe to call twice."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.shutdown()  # returns once serve_forever has left its loop
            thread.join(timeout=5)
        self.scheduler.stop()
        if self._pen is not None:
            self._pen.close()
        self._server = self._thread = self._pen = None
        self._stopped.set()

    def serve_forever(self) -> None:
        """Serve in the foreground until `stop()` (from another thread) or Ctrl-C."""
        self.start()
        try:
            self._stopped.wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _bind(self) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Restarting right after a stop must not wait for TIME_WAIT sockets.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self._requested_port))
            listener.listen(128)
        except OSError as error:
            listener.close()
            where = f"{self.host}:{self._requested_port}"
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"Port {self._requested_port} on {self.host} is already in use",
                    hint="Stop what is using it, or choose another port with --port.",
                ) from None
            raise SandboxError(f"Cannot listen on {where}: {error.strerror}") from None
        return listener


def _backend_app(service: Any) -> Any:
    """moto's Flask app of one service, out of Flask's debug mode: moto turns it on, and in
    it Flask builds a new class for every request's (empty) files dictionary, a few percent
    of the sandbox's CPU. Errors still propagate to the layer as they did in debug mode."""
    from moto.moto_server.werkzeug_app import create_backend_app

    app = create_backend_app(service)
    app.debug = False
    app.config["PROPAGATE_EXCEPTIONS"] = True
    return app


def _configure_moto() -> None:
    for name, value in MOTO_SETTINGS.items():
        os.environ.setdefault(name, value)
    import moto.settings

    # moto reads these at import time; it may have been imported already.
    moto.settings.ACM_VALIDATION_WAIT = int(os.environ["MOTO_ACM_VALIDATION_WAIT"])
    import moto.moto_server.werkzeug_app as werkzeug_app

    # Never CORS, whatever the environment says: the guard refuses foreign origins anyway.
    werkzeug_app.DISABLE_GLOBAL_CORS = True
    moto_warmup.install()


def _serves_domain(account_id: str, name: str) -> bool:
    """A Host the sandbox answers as a custom domain: a name in one of its hosted zones."""
    return bool(zones_for(account_id, name))


def _request_handler(log_requests: bool) -> type[Any]:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    if log_requests:
        return MotoRequestHandler

    class QuietHandler(MotoRequestHandler):
        """One log line per request drowns the export lines: only with -v."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    return QuietHandler
