"""`access.auto_refresh: true`: a small function in us-east-1 that keeps the allow-list fresh.

AWS announces every change of its ranges on the SNS topic
`arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged` (AWS General Reference,
"AWS IP address ranges" → "AWS IP address ranges notifications"). The function
`<stack>-ip-ranges` (access/refresher_handler.py) is subscribed to it and, on
each message, rewrites the APIs' policies that differ from the new document.

Its pieces, as specs of existing kinds where one fits:
- role `<stack>-ip-ranges` (kind role): trust Lambda; only the API Gateway calls
  the function makes, on the stack's own REST APIs (by id, rewritten when an API is
  made anew) and only the pieces it writes (policy, deployments, the stage), and its
  own log writes;
- log group `/aws/lambda/<stack>-ip-ranges` (kind log_group), with the retention;
- this kind: the function (code re-uploaded only when its hash changed), the
  permission letting that one topic invoke it, and the subscription.
`down` removes them all (the subscription and permission with the function).
With `access:` but `auto_refresh: false`, this kind still looks for the function
(one GetFunction) so that turning the option off removes everything it made.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from failover_cli.access.refresher_settings import ranges_url, settings, variables
from failover_cli.aws.retry import retry
from failover_cli.aws.tags import is_owned
from failover_cli.config.schema import Config
from failover_cli.engine.context import GLOBAL_REGION, Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import GLOBAL, FieldChange, Observed, Spec
from failover_cli.resources import log_group, role
from failover_cli.resources.function import role_not_ready
from failover_cli.resources.role import ACCOUNT, api_arn, role_arn, with_account

KIND = "ip_refresher"
REGION = "us-east-1"  # where AWS publishes AmazonIpSpaceChanged
TOPIC = "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged"
HANDLER_NAME = "failover_cli.access.refresher_handler.handler"
RUNTIME = "python3.13"
MEMORY_MB = 128
TIMEOUT_S = 60  # a few regions' reads and writes
STATEMENT_ID = "AmazonIpSpaceChanged"
_SHIPPED = ("access/statement.py", "access/refresher_handler.py")


def name_of(config: Config) -> str:
    return f"{config.stack}-ip-ranges"


@dataclass(frozen=True)
class RefresherProps:
    enabled: bool  # False: the function and its pieces must not exist
    code_sha256: str
    settings: str  # the SETTINGS variable (JSON)
    ranges_url: str
    role: str  # with the <account> placeholder
    subscribed: bool = True
    tags: tuple[tuple[str, str], ...] = ()
    zip_bytes: bytes = field(default=b"", repr=False)  # not compared


def code() -> tuple[bytes, str]:
    """The function's zip (the handler and statement.py in their package folders) and its
    CodeSha256; deterministic, so an unchanged tool uploads nothing."""
    root = Path(__file__).resolve().parent.parent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("failover_cli/__init__.py", "failover_cli/access/__init__.py"):
            archive.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), "")
        for relative in _SHIPPED:
            info = zipfile.ZipInfo(f"failover_cli/{relative}", (2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, (root / relative).read_bytes())
    data = buffer.getvalue()
    return data, base64.b64encode(hashlib.sha256(data).digest()).decode()


def permissions_document(config: Config, account: str = ACCOUNT) -> dict[str, Any]:
    """Exactly what the function calls, on exactly what it writes: list the APIs; rewrite
    the policy of the stack's own API, deploy its stage and set the stage's throttling, in
    each region (the API's id is filled in when the role's policy is written: `api_arn`);
    and its own log writes. Another API of the account is out of its reach."""
    apis = [f"arn:aws:apigateway:{r}::/restapis" for r in config.regions]
    own = [api_arn(r) for r in config.regions]
    deployments = [f"{api_arn(r)}/deployments" for r in config.regions]
    stages = [f"{api_arn(r)}/stages/{config.api.stage}" for r in config.regions]
    group = f"arn:aws:logs:{REGION}:{account}:log-group:/aws/lambda/{name_of(config)}:*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ListApis", "Effect": "Allow", "Action": ["apigateway:GET"],
             "Resource": apis},
            {"Sid": "RewriteAllowList", "Effect": "Allow",
             "Action": ["apigateway:PATCH", "apigateway:UpdateRestApiPolicy"],
             "Resource": own},
            {"Sid": "DeployStage", "Effect": "Allow", "Action": ["apigateway:POST"],
             "Resource": deployments},
            {"Sid": "SetThrottling", "Effect": "Allow", "Action": ["apigateway:PATCH"],
             "Resource": stages},
            {"Sid": "WriteLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": [group]},
        ],
    }  # fmt: skip


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    if config.access is None:
        return []
    name = name_of(config)
    tags = tuple(sorted(config.ownership_tags().items()))
    if not config.access.auto_refresh:
        off = RefresherProps(False, "", "", "", role_arn(name), subscribed=False, tags=tags)
        return [Spec(KIND, REGION, name, off)]
    apis = tuple(f"api:{r}:{config.api_name}" for r in config.regions)
    role_spec = Spec(
        "role",
        GLOBAL,
        name,
        role.RoleProps(
            trust_policy=role.canonical_policy(role.trust_document()),
            policy_name=name,
            policy=role.canonical_policy(permissions_document(config)),
            extra_policies=(),
            managed_policies=(),
            tags=tags,
            boundary=config.iam.permissions_boundary,
            api_regions=tuple(config.regions),
        ),
        depends_on=apis,  # its policy names the APIs' ids
    )
    logs_spec = Spec(
        "log_group",
        REGION,
        f"/aws/lambda/{name}",
        log_group.LogGroupProps(retention_days=config.logs.retention_days, tags=tags),
    )
    data, sha = code()
    props = RefresherProps(
        enabled=True,
        code_sha256=sha,
        settings=settings(config),
        ranges_url=ranges_url(),
        role=role_arn(name),
        tags=tags,
        zip_bytes=data,
    )
    refresher = Spec(KIND, REGION, name, props, depends_on=(role_spec.key, logs_spec.key, *apis))
    return [role_spec, logs_spec, refresher]


class RefresherHandler(Handler):
    kind = KIND
    compared_fields = ("enabled", "code_sha256", "settings", "ranges_url", "role", "subscribed")

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: RefresherProps = spec.props
        lam = ctx.client("lambda", spec.region)
        try:
            found = lam.get_function(FunctionName=spec.name)
        except lam.exceptions.ResourceNotFoundException:
            # Turned off and gone: nothing to do (exists, as wanted: absent).
            return Observed.missing() if props.enabled else Observed(True, props=_fields(props))
        if not is_owned(found.get("Tags") or {}, ctx.config.stack):
            return Observed(exists=True, owned=False)
        configuration = found["Configuration"]
        variables = (configuration.get("Environment") or {}).get("Variables") or {}
        arn = configuration["FunctionArn"]
        subscription = _subscription(ctx, arn)
        return Observed(
            exists=True,
            props={
                "enabled": True,
                "code_sha256": configuration.get("CodeSha256"),
                "settings": variables.get("SETTINGS"),
                "ranges_url": variables.get("IP_RANGES_URL"),
                "role": str(configuration.get("Role", "")).replace(
                    f":{ctx.account_id}:", f":{ACCOUNT}:"
                ),
                "subscribed": subscription is not None,
            },
            raw={"arn": arn, "subscription": subscription},
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        props: RefresherProps = spec.props
        lam = ctx.client("lambda", spec.region)

        def create_function() -> None:
            lam.create_function(
                FunctionName=spec.name,
                Runtime=RUNTIME,
                Role=with_account(props.role, ctx.account_id),
                Handler=HANDLER_NAME,
                Code={"ZipFile": props.zip_bytes},
                Description=f"Keeps the IP allow-list of failover stack {ctx.config.stack} fresh",
                Timeout=TIMEOUT_S,
                MemorySize=MEMORY_MB,
                Environment={"Variables": _variables(props)},
                Tags=dict(props.tags),
            )

        retry(create_function, retryable=role_not_ready, clock=ctx.clock)
        lam.get_waiter("function_active_v2").wait(FunctionName=spec.name)
        arn = lam.get_function(FunctionName=spec.name)["Configuration"]["FunctionArn"]
        _subscribe(ctx, spec, arn)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        props: RefresherProps = spec.props
        if not props.enabled:  # auto_refresh turned off: remove what it made
            self.delete(ctx, spec, observed)
            return
        lam = ctx.client("lambda", spec.region)
        changed = {c.field for c in changes}
        # Lambda refuses an update while another is in progress (ResourceConflictException):
        # wait until it is updatable first (an interrupted run's, an operator's), bounded
        # by the waiter (LastUpdateStatus polled, at most 300 tries a second apart).
        updated = lam.get_waiter("function_updated_v2")
        if changed & {"code_sha256", "settings", "ranges_url", "role"}:
            updated.wait(FunctionName=spec.name)
        if "code_sha256" in changed:
            lam.update_function_code(FunctionName=spec.name, ZipFile=props.zip_bytes)
            updated.wait(FunctionName=spec.name)
        if changed & {"settings", "ranges_url", "role"}:
            lam.update_function_configuration(
                FunctionName=spec.name,
                Role=with_account(props.role, ctx.account_id),
                Environment={"Variables": _variables(props)},
            )
            updated.wait(FunctionName=spec.name)
        if "subscribed" in changed:
            _subscribe(ctx, spec, observed.raw["arn"])

    def deletes_separately(self, observed: Observed) -> bool:
        """Only a function that was found (not the absence a turned-off option wants)."""
        return observed.raw is not None

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        sns = ctx.client("sns", REGION)
        lam = ctx.client("lambda", spec.region)
        subscription = (observed.raw or {}).get("subscription")
        if subscription:
            with contextlib.suppress(sns.exceptions.NotFoundException):
                sns.unsubscribe(SubscriptionArn=subscription)
        with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
            lam.delete_function(FunctionName=spec.name)  # its permission goes with it
        props: RefresherProps = spec.props
        if not props.enabled:  # no role or log group spec of its own now: they go here
            _delete_owned_pieces(ctx, spec.name)


def _fields(props: RefresherProps) -> dict[str, Any]:
    return {name: getattr(props, name) for name in RefresherHandler.compared_fields}


def _delete_owned_pieces(ctx: Context, name: str) -> None:
    """The refresher's log group and role, when they carry the stack's tags."""
    logs = ctx.client("logs", REGION)
    group = f"/aws/lambda/{name}"
    arn = f"arn:aws:logs:{REGION}:{ctx.account_id}:log-group:{group}"
    with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
        if is_owned(
            logs.list_tags_for_resource(resourceArn=arn).get("tags") or {}, ctx.config.stack
        ):
            logs.delete_log_group(logGroupName=group)
    iam = ctx.client("iam", GLOBAL_REGION)
    with contextlib.suppress(iam.exceptions.NoSuchEntityException):
        tags = {t["Key"]: t["Value"] for t in iam.get_role(RoleName=name)["Role"].get("Tags") or []}
        if is_owned(tags, ctx.config.stack):
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy)
            iam.delete_role(RoleName=name)


def _variables(props: RefresherProps) -> dict[str, str]:
    return variables(props.settings, props.ranges_url)


def _subscription(ctx: Context, function_arn: str) -> str | None:
    """The ARN of the function's subscription to AWS's topic (ListSubscriptions: the topic
    is AWS's own, whose subscriber list only its owner may read)."""
    sns = ctx.client("sns", REGION)
    for page in sns.get_paginator("list_subscriptions").paginate():
        for item in page.get("Subscriptions", []):
            if item.get("TopicArn") == TOPIC and item.get("Endpoint") == function_arn:
                return str(item["SubscriptionArn"])
    return None


def _subscribe(ctx: Context, spec: Spec, function_arn: str) -> None:
    """Let the topic (only) invoke the function, then subscribe it (both idempotent)."""
    lam = ctx.client("lambda", spec.region)
    with contextlib.suppress(lam.exceptions.ResourceConflictException):  # already granted
        lam.add_permission(
            FunctionName=spec.name,
            StatementId=STATEMENT_ID,
            Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com",
            SourceArn=TOPIC,
        )
    ctx.client("sns", REGION).subscribe(TopicArn=TOPIC, Protocol="lambda", Endpoint=function_arn)


HANDLER = RefresherHandler()
