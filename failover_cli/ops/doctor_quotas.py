"""doctor's runtime and quota checks (and `up`'s preflight reads of the same quotas)."""

from __future__ import annotations

from typing import Any

from failover_cli.engine.context import Context
from failover_cli.ops.doctor_checks import REGION_DISABLED, Check, Verdict, each_region

# Fixed quotas from AWS's pages, where no API reads them:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
REGIONAL_APIS_PER_REGION = 600
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html: Lambda keeps
# 100 of the account's concurrency unreserved.
UNRESERVED_MINIMUM = 100


class QuotaChecks:
    """The runtime and quota checks, for `Doctor`."""

    ctx: Context

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
        answering = each_region(self.ctx, lambda_settings)
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
        for region, (settings, error) in each_region(self.ctx, lambda_settings).items():
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
        for region, (count, error) in each_region(self.ctx, rest_api_count).items():
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


def lambda_settings(ctx: Context, region: str) -> dict[str, Any]:
    answer: dict[str, Any] = ctx.client("lambda", region).get_account_settings()
    return answer


def rest_api_count(ctx: Context, region: str) -> int:
    api = ctx.client("apigateway", region)
    return sum(
        len(page.get("items", []))
        for page in api.get_paginator("get_rest_apis").paginate(PaginationConfig={"PageSize": 500})
    )
