"""The REST API's resource policy per region: the IP allow-list of `access:` (policy.py).

Observed from the API's `policy` (GetRestApis lists it), compared as a whole by
meaning (statement.comparable: CIDRs, routes, and every effect, principal,
action, condition and statement), not by text: API Gateway rewrites the text it
stores (escaped quotes, expanded ARNs), and a new ranges document that leaves the
checkers' prefixes alone changes nothing; a Deny turned into an Allow is drift. A change is written
with UpdateRestApi and deployed to the stage, since API Gateway applies a
policy only from the next deployment. Without `access:` a policy failover
wrote is removed; one it did not write is left alone. The policy goes with its
API on `down`.
"""

from __future__ import annotations

from dataclasses import dataclass

from failover_cli.access.policy import (
    ALL_RESOURCES,
    AllowList,
    allow_list,
    check_size,
    comparable,
    policy_text,
    read_policy,
)
from failover_cli.access.statement import deployed_mark, deployment_description, policy_mark
from failover_cli.aws.tags import is_owned
from failover_cli.config.schema import Throttle
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.errors import FailoverError
from failover_cli.resources.api import find_api
from failover_cli.services import stage_throttle

KIND = "api_policy"
FIELD = "allow-list"
UNDEPLOYED = "undeployed"  # the API's policy differs from the one its stage serves


@dataclass(frozen=True)
class ApiPolicyProps:
    allow: AllowList | None  # None: no allow-list wanted (no `access:`)
    stage: str
    limits: Throttle


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    access = config.access
    allow = None
    if access is not None:
        ranges = inputs.ranges
        if access.checkers and ranges is None:  # teardown: identities only, no document read
            allow = AllowList(access.cidrs, ALL_RESOURCES)
        else:
            allow = allow_list(access, config.health_check.checker_regions, ranges)
            check_size(policy_text(allow))
    props = ApiPolicyProps(allow, config.api.stage, config.api.throttle)
    return [
        Spec(KIND, region, config.api_name, props, depends_on=(f"api:{region}:{config.api_name}",))
        for region in config.regions
    ]


class ApiPolicyHandler(Handler):
    kind = KIND

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: ApiPolicyProps = spec.props
        api = find_api(ctx, spec.region)
        if api is None:
            # No API, no policy: nothing to do unless an allow-list is wanted.
            return Observed.missing() if props.allow else Observed(True, props={FIELD: None})
        if not is_owned(api.get("tags") or {}, ctx.config.stack):
            return Observed(exists=True, owned=False, raw={"api": api})
        current = read_policy(api.get("policy"))
        # The stage serves the policy of its deployment, not the API's: one written and
        # never deployed (a run cut in between) is not in effect yet.
        deployed = _deployed_mark(ctx, spec.region, api["id"], props.stage)
        undeployed = deployed is not None and deployed != policy_mark(current)
        return Observed(
            exists=True,
            props={FIELD: comparable(current), UNDEPLOYED: undeployed},
            raw={"api": api, "current": current},
        )

    def diff(self, spec: Spec, observed: Observed) -> list[FieldChange]:
        props: ApiPolicyProps = spec.props
        old = observed.props.get(FIELD)
        undeployed = bool(observed.props.get(UNDEPLOYED))
        if old == comparable(props.allow) and not undeployed:
            return []
        current = (observed.raw or {}).get("current")
        was = describe(current) + (" (written, not deployed)" if undeployed else "")
        return [FieldChange(FIELD, was, describe(props.allow), _delta(current, props.allow))]

    def create(self, ctx: Context, spec: Spec) -> None:
        api = find_api(ctx, spec.region)
        if api is None:
            raise FailoverError(
                f"API Gateway does not list the REST API {spec.name} for its allow-list",
                hint="Re-run `failover up`.",
                region=spec.region,
            )
        write(ctx, spec, api["id"])

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        write(ctx, spec, observed.raw["api"]["id"])

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        """Nothing of its own: the policy is deleted with its API."""

    def deletes_separately(self, observed: Observed) -> bool:
        return False


def write(ctx: Context, spec: Spec, api_id: str) -> None:
    """Put the policy (or remove failover's) and deploy it to the stage."""
    props: ApiPolicyProps = spec.props
    ag = ctx.client("apigateway", spec.region)
    text = policy_text(props.allow) if props.allow is not None else ""
    ag.update_rest_api(
        restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": text}]
    )
    ag.create_deployment(
        restApiId=api_id,
        stageName=props.stage,
        description=deployment_description("allow-list by failover", text),
    )
    # A redeployment must not lose the stage's throttling (moto drops it): set it again.
    ag.update_stage(
        restApiId=api_id,
        stageName=props.stage,
        patchOperations=stage_throttle.patch_operations(props.limits),
    )


def _deployed_mark(ctx: Context, region: str, api_id: str, stage: str) -> str | None:
    """The policy mark of the stage's deployment (None: no stage, or a deployment that
    carries no mark, made by hand or by an older failover: taken as deployed)."""
    ag = ctx.client("apigateway", region)
    try:
        found = ag.get_stage(restApiId=api_id, stageName=stage)
        deployment_id = found.get("deploymentId")
        if not deployment_id:
            return None
        deployment = ag.get_deployment(restApiId=api_id, deploymentId=deployment_id)
    except ag.exceptions.NotFoundException:
        return None
    return deployed_mark(deployment.get("description"))


def describe(allow: AllowList | None) -> str:
    if allow is None:
        return "none"
    routes = "every route" if allow.resources == ALL_RESOURCES else "/health"
    altered = "" if allow.exact else ", otherwise changed by hand"
    return f"{len(allow.cidrs)} prefixes on {routes}{altered}"


def _delta(old: AllowList | None, new: AllowList | None) -> str:
    before = set(old.cidrs) if old else set()
    after = set(new.cidrs) if new else set()
    added, removed = sorted(after - before), sorted(before - after)
    parts = [f"+{a}" for a in added[:3]] + [f"-{r}" for r in removed[:3]]
    more = len(added) + len(removed) - len(parts)
    return ", ".join([*parts, *([f"{more} more"] if more > 0 else []), "redeploys the stage"])


HANDLER = ApiPolicyHandler()
