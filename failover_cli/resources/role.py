"""IAM role `<stack>-function` (global): what the function runs as, with least privilege.

One inline policy grants `dynamodb:GetItem` on the table in every region and
`logs:CreateLogStream`/`logs:PutLogEvents` on the function's log groups, and
nothing else: extra inline policies and attached managed policies on an owned
role are reported as drift and removed by `up`.

The desired specs are built offline, before any AWS call, so ARNs in them carry
the placeholder `<account>`; observe writes the real account id back as the
placeholder and apply fills it in (`with_account`). The function and API
handlers use the same helpers.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from failover_cli.aws.tags import comparable_tags, is_owned, tag_dict, tag_list
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import GLOBAL, FieldChange, Observed, Spec
from failover_cli.errors import ConflictError, FailoverError
from failover_cli.services.rest_apis import find_api

KIND = "role"
ACCOUNT = "<account>"  # placeholder for the account id in desired ARNs
_LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")


def with_account(text: str, account: str) -> str:
    """Desired representation -> what AWS needs."""
    return text.replace(ACCOUNT, account)


def without_account(text: str, account: str) -> str:
    """What AWS reports -> desired representation (only the account field of ARNs)."""
    return text.replace(f":{account}:", f":{ACCOUNT}:")


def role_arn(role_name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{role_name}"


def api_arn(region: str) -> str:
    """The ARN of the stack's REST API in `region`, its id a placeholder (`api_regions`):
    a policy naming it names exactly that API, and follows it when it is made anew."""
    return f"arn:aws:apigateway:{region}::/restapis/<api-id:{region}>"


def _api_id(ctx: Context, region: str, *, fresh: bool) -> str | None:
    """The id of the stack's REST API in `region`: the one this run made or observed, else
    the listing's (once per run when only comparing)."""

    def listed() -> str | None:
        api = find_api(ctx, region)
        return str(api["id"]) if api else None

    known = ctx.outputs.get(f"api_id:{region}")
    if known:
        return str(known)
    return listed() if fresh else ctx.memo(f"role-api-id:{region}", listed)


@dataclass(frozen=True)
class RoleProps:
    trust_policy: str  # canonical JSON (see `canonical_policy`)
    policy_name: str
    policy: str | None  # canonical JSON with <account>; None when the inline policy is missing
    extra_policies: tuple[str, ...]  # inline policies other than ours: desired none
    managed_policies: tuple[str, ...]  # attached managed policy ARNs: desired none
    tags: tuple[tuple[str, str], ...]
    # iam.permissions_boundary: the managed policy capping what the role can ever do
    # (None: none wanted, and one found is removed).
    boundary: str | None = None
    # Regions whose REST API the policy names by `api_arn(region)`: the id is filled in when
    # the policy is written (the API exists by then: the spec depends on it) and read back
    # as the placeholder while it is still the stack's API (a new API: the policy differs).
    api_regions: tuple[str, ...] = ()


def trust_document() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def permissions_document(
    regions: tuple[str, ...], table: str, log_group: str, account: str = ACCOUNT
) -> dict[str, Any]:
    """GetItem on the table's replicas, log writes to the function's log groups; nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadSeedItem",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem"],
                "Resource": [f"arn:aws:dynamodb:{r}:{account}:table/{table}" for r in regions],
            },
            {
                "Sid": "WriteLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [
                    f"arn:aws:logs:{r}:{account}:log-group:{log_group}:*" for r in regions
                ],
            },
        ],
    }


def canonical_policy(document: dict[str, Any] | str) -> str:
    """One string per meaning: IAM may return a document URL-encoded, reordered, or with
    one-element lists collapsed to strings; none of that is a difference."""
    if isinstance(document, str):
        text = document.strip()
        document = json.loads(text if text.startswith("{") else unquote(text))
    assert isinstance(document, dict)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    normalised = sorted(
        (_canonical_statement(s) for s in statements),
        key=lambda s: json.dumps(s, sort_keys=True),
    )
    return json.dumps({**document, "Statement": normalised}, sort_keys=True, separators=(",", ":"))


def _canonical_statement(statement: dict[str, Any]) -> dict[str, Any]:
    result = dict(statement)
    for key in _LIST_KEYS:
        if key in result:
            result[key] = _sorted_list(result[key])
    principal = result.get("Principal")
    if isinstance(principal, dict):
        result["Principal"] = {k: _sorted_list(v) for k, v in principal.items()}
    return result


def _sorted_list(value: Any) -> list[Any]:
    return sorted(set(value if isinstance(value, list) else [value]))


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    document = permissions_document(config.regions, config.table.name, config.log_group_name)
    props = RoleProps(
        trust_policy=canonical_policy(trust_document()),
        policy_name=config.role_name,
        policy=canonical_policy(document),
        extra_policies=(),
        managed_policies=(),
        tags=tuple(sorted(config.ownership_tags().items())),
        boundary=config.iam.permissions_boundary,
    )
    return [Spec(KIND, GLOBAL, config.role_name, props)]


class RoleHandler(Handler):
    kind = KIND
    compared_fields = (
        "boundary",
        "trust_policy",
        "policy",
        "extra_policies",
        "managed_policies",
        "tags",
    )

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: RoleProps = spec.props
        iam = ctx.client("iam", spec.region)
        try:
            role = iam.get_role(RoleName=spec.name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            return Observed.missing()
        tags = tag_dict(role.get("Tags"))  # GetRole returns the tags: no ListRoleTags needed
        inline = _inline_policy_names(iam, spec.name)
        policy = None
        if props.policy_name in inline:
            document = iam.get_role_policy(RoleName=spec.name, PolicyName=props.policy_name)
            policy = without_account(canonical_policy(document["PolicyDocument"]), ctx.account_id)
            for region in props.api_regions:
                api_id = _api_id(ctx, region, fresh=False)
                if api_id:
                    concrete = api_arn(region).replace(f"<api-id:{region}>", api_id)
                    policy = re.sub(rf"{re.escape(concrete)}(?=[/\"])", api_arn(region), policy)
            if props.api_regions:
                policy = canonical_policy(policy)  # sorted as the desired one is
        managed = _managed_policy_arns(iam, spec.name)
        return Observed(
            exists=True,
            owned=is_owned(tags, ctx.config.stack),
            props={
                "trust_policy": canonical_policy(role["AssumeRolePolicyDocument"]),
                "policy": policy,
                "extra_policies": tuple(sorted(n for n in inline if n != props.policy_name)),
                "managed_policies": managed,
                "tags": comparable_tags(tags, props.tags),
                "boundary": (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
            },
            raw={"arn": role["Arn"], "tags": tags},
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        props: RoleProps = spec.props
        iam = ctx.client("iam", spec.region)
        bounded = {"PermissionsBoundary": props.boundary} if props.boundary else {}
        try:
            iam.create_role(
                RoleName=spec.name,
                AssumeRolePolicyDocument=props.trust_policy,
                Description=f"Runs the functions of failover stack {ctx.config.stack}",
                Tags=tag_list(dict(props.tags)),
                **bounded,
            )
        except iam.exceptions.EntityAlreadyExistsException:
            # An interrupted run (or a parallel one) made it: converge if it is ours.
            seen = self.observe(ctx, spec)
            if not seen.owned:
                raise ConflictError(
                    f"IAM role {spec.name} appeared meanwhile without the stack's tags"
                ) from None
            self.update(ctx, spec, seen, self.diff(spec, seen))
            return
        _put_policy(ctx, iam, spec)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        props: RoleProps = spec.props
        iam = ctx.client("iam", spec.region)
        changed = {c.field for c in changes}
        if "boundary" in changed:
            # First: with a boundary, the operator may write the role's policy only once
            # the role carries it (the iam:PermissionsBoundary condition).
            if props.boundary:
                iam.put_role_permissions_boundary(
                    RoleName=spec.name, PermissionsBoundary=props.boundary
                )
            else:
                iam.delete_role_permissions_boundary(RoleName=spec.name)
        if "trust_policy" in changed:
            iam.update_assume_role_policy(RoleName=spec.name, PolicyDocument=props.trust_policy)
        if "policy" in changed:
            _put_policy(ctx, iam, spec)
        # The planner only updates owned roles, so removing extras never hits someone else's.
        if observed.owned:
            for name in observed.props.get("extra_policies", ()):
                with contextlib.suppress(iam.exceptions.NoSuchEntityException):
                    iam.delete_role_policy(RoleName=spec.name, PolicyName=name)
            for arn in observed.props.get("managed_policies", ()):
                with contextlib.suppress(iam.exceptions.NoSuchEntityException):
                    iam.detach_role_policy(RoleName=spec.name, PolicyArn=arn)
        if "tags" in changed:
            iam.tag_role(RoleName=spec.name, Tags=tag_list(dict(props.tags)))

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        iam = ctx.client("iam", spec.region)
        try:
            # IAM refuses to delete a role that still has policies: remove them first.
            for name in _inline_policy_names(iam, spec.name):
                with contextlib.suppress(iam.exceptions.NoSuchEntityException):
                    iam.delete_role_policy(RoleName=spec.name, PolicyName=name)
            for arn in _managed_policy_arns(iam, spec.name):
                with contextlib.suppress(iam.exceptions.NoSuchEntityException):
                    iam.detach_role_policy(RoleName=spec.name, PolicyArn=arn)
            iam.delete_role(RoleName=spec.name)
        except iam.exceptions.NoSuchEntityException:
            pass  # already gone


def _put_policy(ctx: Context, iam: Any, spec: Spec) -> None:
    props: RoleProps = spec.props
    assert props.policy is not None
    document = with_account(props.policy, ctx.account_id)
    for region in props.api_regions:
        api_id = _api_id(ctx, region, fresh=True)
        if api_id is None:
            raise FailoverError(
                f"IAM role {spec.name} names the stack's REST API in {region}, "
                "which does not exist",
                hint="Re-run `failover up`: it creates the API first.",
            )
        document = document.replace(f"<api-id:{region}>", api_id)
    iam.put_role_policy(RoleName=spec.name, PolicyName=props.policy_name, PolicyDocument=document)


def _inline_policy_names(iam: Any, role: str) -> list[str]:
    names: list[str] = []
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
        names.extend(page["PolicyNames"])
    return names


def _managed_policy_arns(iam: Any, role: str) -> tuple[str, ...]:
    arns: list[str] = []
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
        arns.extend(p["PolicyArn"] for p in page["AttachedPolicies"])
    return tuple(sorted(arns))


HANDLER = RoleHandler()
