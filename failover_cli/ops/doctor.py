"""`failover doctor`: a read-only preflight of the config and the credentials, one line per check.

Each check says what it found and, when something will fail, what to do. A check whose
answer cannot be read (no permission, an API the endpoint does not offer) says "could
not check" and does not fail the run: doctor must be usable with the narrow policy of
an on-call role. The checks run in parallel; none writes anything.

What cannot be checked here: IAM's propagation, SCPs and permission boundaries beyond
what SimulatePrincipalPolicy evaluates, and whether a registrar's change has reached
every resolver (the answer of one public resolver is read).

Here: running them and the identity, sandbox and alarm e-mail checks; the permission
simulation is in doctor_iam.py, the hosted zone in doctor_zone.py, the runtime and
quotas in doctor_quotas.py, what a check is in doctor_checks.py.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from failover_cli.engine.context import Context
from failover_cli.ops.doctor_checks import Check, Verdict, reason
from failover_cli.ops.doctor_iam import IamChecks
from failover_cli.ops.doctor_quotas import QuotaChecks
from failover_cli.ops.doctor_zone import Resolver, ZoneChecks

SANDBOX_PATH = "/_sandbox/rules"  # answered (unsigned) by `failover sandbox` only


@dataclass
class Doctor(IamChecks, ZoneChecks, QuotaChecks):
    """Every check, run at once: identity and sandbox here, the rest in doctor_*.py."""

    ctx: Context
    resolve_ns: Resolver
    dns_timeout: float = 5.0

    def __post_init__(self) -> None:
        # As patient as `up`'s own reads: doctor predicts what `up` will meet, and a slow
        # but answering endpoint (a loaded machine) given up on after status's few seconds
        # left a limit the stack would exceed as "could not check", and doctor exited 0.
        self.ctx = self.ctx.reading()

    def run(self) -> list[Check]:
        """Every check, in a fixed order. Credentials are checked first: without them
        nothing else can be (the error is raised, exit 2)."""
        identity = self.identity()
        sandbox = self.sandbox()
        checks: list[tuple[str, Callable[[], Check | list[Check]]]] = [
            ("permissions", lambda: self.permissions(identity)),
            ("hosted zone", lambda: self.hosted_zone(sandbox.verdict is Verdict.OK)),
            ("runtime", self.runtime),
            ("quota: Route 53 health checks", self.health_check_quota),
            ("quota: Lambda concurrency", self.concurrency_quota),
            ("quota: API Gateway regional APIs", self.api_quota),
            ("alarm e-mail", self.subscription),
            ("permissions boundary", self.boundary),
        ]
        with ThreadPoolExecutor(max_workers=len(checks)) as pool:
            results = list(pool.map(lambda named: _guarded(*named), checks))
        found = [Check("identity", Verdict.OK, identity), sandbox]
        for result in results:
            found.extend(result if isinstance(result, list) else [result])
        return found

    # --- identity and sandbox -------------------------------------------------------------

    def identity(self) -> str:
        sts = self.ctx.client("sts", self.ctx.config.primary_region)
        answer = sts.get_caller_identity()
        return str(answer["Arn"])

    def sandbox(self) -> Check:
        from failover_cli.net.http import HttpClient

        endpoint = str(self.ctx.client("sts", self.ctx.config.primary_region).meta.endpoint_url)
        if endpoint.rstrip("/").endswith(".amazonaws.com"):
            return Check("sandbox", Verdict.SKIPPED, f"not the sandbox: AWS at {endpoint}")
        answer = HttpClient(overrides=[]).get(endpoint.rstrip("/") + SANDBOX_PATH, timeout=3)
        if answer.status == 200 and answer.body.lstrip().startswith("{"):
            return Check("sandbox", Verdict.OK, f"the local sandbox at {endpoint}")
        return Check("sandbox", Verdict.SKIPPED, f"not the sandbox: endpoint {endpoint}")

    # --- e-mail -----------------------------------------------------------------------------

    def subscription(self) -> Check:
        from failover_cli.resources.subscription import email_subscriptions, is_pending
        from failover_cli.resources.topic import owned_topic_arn

        name = "alarm e-mail"
        email = self.ctx.config.alarms.email
        if not email:
            return Check(name, Verdict.SKIPPED, "no alarms.email in the config")
        topic = owned_topic_arn(self.ctx)
        if topic is None:
            return Check(name, Verdict.OK, f"{email}: subscribed by the next `up`")
        subs = [s for s in email_subscriptions(self.ctx, topic) if s.endpoint == email]
        if not subs:
            return Check(name, Verdict.OK, f"{email}: subscribed by the next `up`")
        if any(s.arn is None or is_pending(self.ctx, s.arn) for s in subs):
            return Check(
                name,
                Verdict.WARN,
                f"{email}: waiting for its confirmation; alarm e-mails are not delivered",
                "Click the link in the e-mail from AWS Notifications (re-run `up` to resend).",
            )
        return Check(name, Verdict.OK, f"{email}: confirmed")


def _guarded(name: str, check: Callable[[], Check | list[Check]]) -> Check | list[Check]:
    """A check that could not read its answer says so instead of failing the run."""
    try:
        return check()
    except Exception as error:
        return Check(name, Verdict.UNKNOWN, reason(error))


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.verdict is Verdict.FAIL for c in checks) else 0
