"""`failover doctor`: a read-only preflight of the config and the credentials, one line per check.

Each check says what it found and, when something will fail, what to do. A check whose
answer cannot be read (no permission, an API the endpoint does not offer) says "could
not check" and does not fail the run: doctor must be usable with the narrow policy of
an on-call role. The checks run in parallel; none writes anything.

What cannot be checked here: IAM's propagation, SCPs and permission boundaries beyond
what SimulatePrincipalPolicy evaluates, and whether a registrar's change has reached
every resolver (the answer of one public resolver is read).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.errors import error_code
from failover_cli.engine.context import Context
from failover_cli.errors import FailoverError
from failover_cli.ops.doctor_boundary import boundary_finding

SANDBOX_PATH = "/_sandbox/rules"  # answered (unsigned) by `failover sandbox` only
# Fixed quotas from AWS's pages, where no API reads them:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
REGIONAL_APIS_PER_REGION = 600
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html: Lambda keeps
# 100 of the account's concurrency unreserved.
UNRESERVED_MINIMUM = 100
SIMULATE_BATCH = 100  # action names per SimulatePrincipalPolicy call
# What AWS answers for a region not enabled for the account (an opt-in region):
# https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html
REGION_DISABLED = "region not enabled"
_REGION_DISABLED_CODES = {"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure"}
# The conditions the operator policy puts on PassRole and the service-linked roles.
SIMULATION_CONTEXT = [
    {
        "ContextKeyName": "iam:PassedToService",
        "ContextKeyValues": ["lambda.amazonaws.com"],
        "ContextKeyType": "string",
    },
    {
        "ContextKeyName": "iam:AWSServiceName",
        "ContextKeyValues": ["replication.dynamodb.amazonaws.com"],
        "ContextKeyType": "string",
    },
]


class Verdict(enum.Enum):
    OK = "ok"
    WARN = "warn"  # works, but the user should know (pending e-mail, little headroom)
    FAIL = "fail"  # something `up` or an operation will meet
    UNKNOWN = "could not check"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    name: str
    verdict: Verdict
    detail: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "check": self.name,
            "verdict": self.verdict.value,
            "detail": self.detail,
            "fix": self.fix,
        }


Resolver = Callable[[str, float], list[str]]  # (zone, time-out) -> its NS names from public DNS


@dataclass
class Doctor:
    ctx: Context
    resolve_ns: Resolver
    dns_timeout: float = 5.0

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

    # --- permissions ----------------------------------------------------------------------

    def permissions(self, identity: str) -> Check:
        from failover_cli.permissions.policy import needed_actions, simulation_resources

        name = "permissions"
        principal = principal_of(identity)
        if principal is None:
            return Check(
                name,
                Verdict.WARN,
                "the account's root user: every action is allowed",
                "Use an IAM role or user with the policy `failover iam-policy` prints.",
            )
        principal = self._with_path(principal)
        wanted = sorted(needed_actions(self.ctx.config))
        account = identity.split(":")[4]
        # Each action on the resource the stack's call names (a stack-scoped policy
        # allows nothing on "*"); actions granted on "*" only are simulated on "*".
        on: dict[str, list[str]] = {}
        targets = simulation_resources(self.ctx.config, account, wanted)
        for action in wanted:
            on.setdefault(targets.get(action, "*"), []).append(action)
        refused: list[str] = []
        for resource, actions in sorted(on.items()):
            refused += self._refused(principal, actions, resource)
        if refused:
            return Check(
                name,
                Verdict.FAIL,
                f"{len(refused)} of {len(wanted)} needed actions are not allowed: "
                + ", ".join(sorted(refused)),
                "Attach the policy `failover iam-policy` prints to " + principal + ".",
            )
        return Check(name, Verdict.OK, f"all {len(wanted)} needed actions allowed ({principal})")

    def _with_path(self, principal: str) -> str:
        """A role's ARN with its path (an SSO role's is aws-reserved/sso.amazonaws.com/),
        which the session ARN leaves out; as it is when GetRole is not allowed."""
        kind, _, name = principal.rpartition(":")[2].partition("/")
        if kind != "role":
            return principal
        try:
            role = self.ctx.client("iam", "us-east-1").get_role(RoleName=name)
        except Exception:  # not allowed or not found: simulate the path-less ARN
            return principal
        return str(role["Role"]["Arn"])

    def _simulation_context(self) -> list[dict[str, Any]]:
        """The policy's conditions met as the tool's calls meet them: with a boundary,
        roles are created and written with it."""
        boundary = self.ctx.config.iam.permissions_boundary
        if not boundary:
            return SIMULATION_CONTEXT
        key = {"ContextKeyName": "iam:PermissionsBoundary", "ContextKeyType": "string"}
        return [*SIMULATION_CONTEXT, {**key, "ContextKeyValues": [boundary]}]

    def _refused(self, principal: str, actions: list[str], resource: str) -> list[str]:
        iam = self.ctx.client("iam", "us-east-1")
        refused: list[str] = []
        for start in range(0, len(actions), SIMULATE_BATCH):
            params: dict[str, Any] = {
                "PolicySourceArn": principal,
                "ActionNames": actions[start : start + SIMULATE_BATCH],
                "ContextEntries": self._simulation_context(),
            }
            if resource != "*":
                params["ResourceArns"] = [resource]
            while True:
                answer = iam.simulate_principal_policy(**params)
                refused += [
                    r["EvalActionName"]
                    for r in answer.get("EvaluationResults", [])
                    if r.get("EvalDecision") != "allowed"
                ]
                if not answer.get("IsTruncated"):
                    break
                params["Marker"] = answer["Marker"]
        return refused

    def boundary(self) -> Check:
        verdict, detail, fix = boundary_finding(self.ctx)
        return Check("permissions boundary", Verdict(verdict), detail, fix)

    # --- hosted zone ----------------------------------------------------------------------

    def hosted_zone(self, in_sandbox: bool) -> Check:
        from failover_cli.services.route53_zone import find_zone, route53

        name = "hosted zone"
        domain = self.ctx.config.domain
        if domain is None:
            return Check(name, Verdict.SKIPPED, "no domain in the config")
        zone = find_zone(self.ctx)
        if zone is None:
            return Check(
                name,
                Verdict.FAIL,
                f"{domain.hosted_zone} does not exist as a public hosted zone of this account",
                "Create it in Route 53 and delegate the domain to its name servers, or fix "
                "domain.hosted_zone in the config.",
            )
        found = route53(self.ctx).get_hosted_zone(Id=zone.id)
        servers = sorted(_dns(n) for n in (found.get("DelegationSet") or {}).get("NameServers", []))
        if in_sandbox:
            return Check(
                name,
                Verdict.OK,
                f"{zone.name} ({zone.id}) exists; the sandbox: public DNS delegation not checked",
            )
        try:
            public = sorted(_dns(n) for n in self.resolve_ns(zone.name, self.dns_timeout))
        except Exception as error:
            return Check(
                name,
                Verdict.UNKNOWN,
                f"{zone.name} ({zone.id}) exists; its public NS answer could not be read: {error}",
            )
        if not servers or not set(public) & set(servers):
            return Check(
                name,
                Verdict.FAIL,
                f"{zone.name} is not delegated to its hosted zone: public DNS answers NS "
                f"{', '.join(public) or 'nothing'}, the zone's name servers are "
                f"{', '.join(servers)}",
                "Set the zone's four name servers at your registrar (or in the parent zone); "
                "certificates stay PENDING_VALIDATION until then.",
            )
        return Check(name, Verdict.OK, f"{zone.name} ({zone.id}) exists and is delegated to it")

    # --- runtime, quotas --------------------------------------------------------------------

    def runtime(self) -> Check:
        import botocore.session

        function = self.ctx.config.function
        what = f"{function.runtime} on {function.architecture}"
        model = botocore.session.get_session().get_service_model("lambda")
        known = getattr(model.shape_for("Runtime"), "enum", [])
        if function.runtime not in known:
            return Check(
                "runtime",
                Verdict.FAIL,
                f"{function.runtime} is not a runtime Lambda's API knows",
                "Use one of the python runtimes `failover validate` accepts.",
            )
        answering = self._each_region(lambda_settings)
        disabled = [r for r, (_, error) in answering.items() if error == REGION_DISABLED]
        if disabled:
            return Check(
                "runtime",
                Verdict.FAIL,
                f"{what}: the account cannot use Lambda in {', '.join(disabled)} (the "
                "region is not enabled for it)",
                "Enable the region (Account settings → AWS Regions), or remove it from regions.",
            )
        unknown = [r for r, (answer, _) in answering.items() if answer is None]
        if unknown:
            return Check(
                "runtime",
                Verdict.UNKNOWN,
                f"{what}: a runtime Lambda knows; {', '.join(unknown)}: {answering[unknown[0]][1]}",
            )
        return Check("runtime", Verdict.OK, f"{what}: offered by Lambda in every region")

    def health_check_quota(self) -> Check:
        name = "quota: Route 53 health checks"
        route53 = self.ctx.client("route53", "us-east-1")
        answer = route53.get_account_limit(Type="MAX_HEALTH_CHECKS_BY_OWNER")
        limit, used = int(answer["Limit"]["Value"]), int(answer["Count"])
        needed = len(self.ctx.config.regions)
        detail = f"{used} of {limit} used; the stack needs {needed}"
        if used + needed > limit:
            return Check(
                name,
                Verdict.FAIL,
                detail,
                "Delete unused health checks or ask for more in Service Quotas (Route 53).",
            )
        return Check(name, Verdict.OK, detail)

    def concurrency_quota(self) -> list[Check]:
        reserved = self.ctx.config.function.reserved_concurrency or 0
        found = []
        for region, (settings, error) in self._each_region(lambda_settings).items():
            name = f"quota: Lambda concurrency {region}"
            if settings is None:
                found.append(Check(name, Verdict.UNKNOWN, str(error)))
                continue
            limit = int(settings["AccountLimit"]["ConcurrentExecutions"])
            free = int(settings["AccountLimit"]["UnreservedConcurrentExecutions"])
            detail = f"{limit} concurrent executions, {free} unreserved"
            if reserved and free - reserved < UNRESERVED_MINIMUM:
                found.append(
                    Check(
                        name,
                        Verdict.FAIL,
                        f"{detail}: reserving {reserved} would leave fewer than "
                        f"{UNRESERVED_MINIMUM} unreserved",
                        "Lower function.reserved_concurrency, or ask for more concurrency "
                        "in Service Quotas (Lambda).",
                    )
                )
            elif limit < UNRESERVED_MINIMUM:
                found.append(
                    Check(
                        name,
                        Verdict.WARN,
                        f"{detail}: a new account's low limit throttles the function under load",
                        "Ask for the default 1000 in Service Quotas (Lambda).",
                    )
                )
            else:
                found.append(Check(name, Verdict.OK, detail))
        return found

    def api_quota(self) -> list[Check]:
        found = []
        for region, (count, error) in self._each_region(rest_api_count).items():
            name = f"quota: API Gateway regional APIs {region}"
            if count is None:
                found.append(Check(name, Verdict.UNKNOWN, str(error)))
            elif count >= REGIONAL_APIS_PER_REGION:
                found.append(
                    Check(
                        name,
                        Verdict.FAIL,
                        f"{count} of {REGIONAL_APIS_PER_REGION} (a fixed quota) used",
                        "Delete unused REST APIs in the region.",
                    )
                )
            else:
                found.append(Check(name, Verdict.OK, f"{count} of {REGIONAL_APIS_PER_REGION} used"))
        return found

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

    def _each_region(self, read: Callable[[Context, str], Any]) -> dict[str, tuple[Any, Any]]:
        """`read(ctx, region)` in every region (memoised per run): (answer, None) or
        (None, the error)."""

        def one(region: str) -> tuple[Any, Any]:
            try:
                key = f"doctor:{read.__name__}:{region}"
                return self.ctx.memo(key, lambda: read(self.ctx, region)), None
            except Exception as error:  # said as "could not check" by the caller
                code = error_code(error)
                return None, REGION_DISABLED if code in _REGION_DISABLED_CODES else _reason(error)

        regions = list(self.ctx.config.regions)
        with ThreadPoolExecutor(max_workers=len(regions)) as pool:
            return dict(zip(regions, pool.map(one, regions), strict=True))


def lambda_settings(ctx: Context, region: str) -> dict[str, Any]:
    answer: dict[str, Any] = ctx.client("lambda", region).get_account_settings()
    return answer


def rest_api_count(ctx: Context, region: str) -> int:
    api = ctx.client("apigateway", region)
    return sum(
        len(page.get("items", []))
        for page in api.get_paginator("get_rest_apis").paginate(PaginationConfig={"PageSize": 500})
    )


def _guarded(name: str, check: Callable[[], Check | list[Check]]) -> Check | list[Check]:
    """A check that could not read its answer says so instead of failing the run."""
    try:
        return check()
    except Exception as error:
        return Check(name, Verdict.UNKNOWN, _reason(error))


def _reason(error: BaseException) -> str:
    """One short line: AWS's answer may be a whole HTML page (an API the endpoint lacks)."""
    from failover_cli.aws.errors import translate

    translated = translate(error)
    text = translated.message if isinstance(translated, FailoverError) else str(error)
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"could not check: {first[:160]}"


def principal_of(arn: str) -> str | None:
    """The IAM principal SimulatePrincipalPolicy takes for a caller ARN (None: root).

    An assumed role's session ARN names the role; a role with a path is not found this
    way (the simulation then says "could not check")."""
    if arn.endswith(":root"):
        return None
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:aws:iam::{parts[4]}:role/{role}"
    return arn


def _dns(name: str) -> str:
    return name.lower().rstrip(".")


def public_ns(zone: str, timeout: float) -> list[str]:
    """The NS records of `zone` as public DNS answers them (the system's resolvers)."""
    import dns.resolver

    resolver = dns.resolver.Resolver()
    answer = resolver.resolve(zone, "NS", lifetime=timeout)
    return [str(record.target) for record in answer]


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.verdict is Verdict.FAIL for c in checks) else 0
