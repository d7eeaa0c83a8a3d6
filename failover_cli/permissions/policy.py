"""The operator's IAM policy for a config, derived from the call registry.

In both modes every IAM action but the simulation names the stack's own roles: the
function's `<stack>-function`, and with `access:` the refresher's `<stack>-ip-ranges`
(looked for, and deleted when turned off, with any `access:`); `iam:PassRole` only to
Lambda, `iam:CreateServiceLinkedRole` only the roles of DynamoDB replication and auto
scaling. IAM writes on `*` would let the holder write `*:*` into any role, its own too.
Without `stack_scoped`, every other action is granted on `*`: that is not least
privilege (e.g. `lambda:UpdateFunctionCode` on any function of the account). With it,
`Resource` is narrowed to the stack's own names where the service's authorization
takes a resource ARN of a name we choose: the table, the function, its log groups,
the topic, the alarms; API Gateway to the paths of REST APIs and custom domains, its
writes to those tagged for the stack. What stays `*`: list calls, creations whose ARN
holds an id AWS picks (certificates, health checks, hosted zones are narrowed to their
resource type), Application Auto Scaling and Service Quotas (docs/iam.md says why).
The account and the region are `*` in every ARN: an identity
policy grants only in its own account, and a region the config no longer names is
cleaned up by the same policy.
Sources: the Service Authorization Reference's "Actions, resources, and condition keys"
page of each service (https://docs.aws.amazon.com/service-authorization/latest/reference/).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from failover_cli.config.schema import STACK_TAG, Config
from failover_cli.permissions.calls import (
    COMMANDS,
    FREE,
    IMPLIED,
    PASS_ROLE,
    REPLICATION_SERVICE,
    SERVICE_LINKED_ROLE,
    action_of,
    groups_of,
)
from failover_cli.resources.topic import ALARM_REGION  # the topic and alarms live there

ALL_COMMANDS = tuple(COMMANDS)
_SERVICE_LINKED_ROLE_NAMES = {
    "replication.dynamodb.amazonaws.com": "AWSServiceRoleForDynamoDBReplication",
    "dynamodb.application-autoscaling.amazonaws.com": (
        "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
    ),
}
# Actions whose only resource is "*" (lists, creations of ids AWS picks, account reads).
_UNSCOPED = {
    "iam:SimulatePrincipalPolicy",
    "logs:DescribeLogGroups",
    "lambda:GetAccountSettings",
    "acm:ListCertificates",
    "acm:RequestCertificate",
    "route53:ListHostedZonesByName",
    "route53:ListHealthChecks",
    "route53:CreateHealthCheck",
    "route53:TestDNSAnswer",
    "route53:GetAccountLimit",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetMetricData",  # no resource-level permissions (service authorization ref.)
    "sns:ListSubscriptions",
}
_HOSTED_ZONE_ACTIONS = {
    "route53:ListResourceRecordSets",
    "route53:ChangeResourceRecordSets",
    "route53:GetHostedZone",
}
# What gives a role permissions: with a boundary, allowed only with it (see _role_statements).
_BOUNDED = {
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:PutRolePermissionsBoundary",
}
# API Gateway's writes (its actions are HTTP verbs on resource paths): on the stack's own
# REST APIs and custom domains only, by their tag (see _api_gateway_statements).
_API_GATEWAY_WRITES = {
    "apigateway:PATCH",
    "apigateway:POST",
    "apigateway:PUT",
    "apigateway:DELETE",
    "apigateway:UpdateRestApiPolicy",
}
# Application Auto Scaling's writes on a scalable target: the stack's tagged ones only.
_SCALING_WRITES = {
    "application-autoscaling:RegisterScalableTarget",
    "application-autoscaling:PutScalingPolicy",
    "application-autoscaling:DeleteScalingPolicy",
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:TagResource",
}
# Narrowed by a condition in the stack-scoped form (see _conditioned).
_CONDITIONED = {
    "route53:ChangeResourceRecordSets",
    "acm:DeleteCertificate",
    *_API_GATEWAY_WRITES,
    *_SCALING_WRITES,
}
_RECORDS = "route53:ChangeResourceRecordSets"
_API_GATEWAY_OWN = ("/restapis/*", "/domainnames/*", "/tags/*")  # what carries a tag
_SCALABLE_TARGETS = "arn:aws:application-autoscaling:*:*:scalable-target/*"
_SCALING_ALARM_ACTIONS = {"cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"}
_SUBSCRIPTION_ACTIONS = {"sns:GetSubscriptionAttributes", "sns:Unsubscribe"}


def needed_actions(config: Config, commands: Iterable[str] = ALL_COMMANDS) -> set[str]:
    """Every action `commands` need for `config`, implied ones included."""
    groups = groups_of(tuple(commands), *_needs(config))
    found: set[str] = set()
    for group in groups:
        for call in group.calls:
            if call in FREE:
                continue
            found.add(action_of(*call))
            found.update(IMPLIED.get(call, ()))
        found.update(group.also)
        if group.service_linked:
            found.add(SERVICE_LINKED_ROLE)
    return found


def service_linked_services(config: Config, commands: Iterable[str]) -> list[str]:
    groups = groups_of(tuple(commands), *_needs(config))
    return sorted({s for g in groups for s in g.service_linked})


def operator_policy(
    config: Config, commands: Iterable[str] = ALL_COMMANDS, *, stack_scoped: bool = False
) -> dict[str, Any]:
    """The IAM policy document `commands` need for `config`."""
    commands = tuple(commands)
    actions = needed_actions(config, commands)
    plain = sorted(actions - {PASS_ROLE, SERVICE_LINKED_ROLE})
    # IAM writes on "*" would let the holder write any policy into any role (its own
    # included): IAM names the stack's roles in both modes.
    rest = [a for a in plain if not _is_role_action(a)]
    statements: list[dict[str, Any]] = []
    if stack_scoped:
        statements += _conditioned(config, [a for a in rest if a in _CONDITIONED])
        rest = [a for a in rest if a not in _CONDITIONED]
        by_resources: dict[tuple[str, ...], list[str]] = {}
        for action in rest:
            by_resources.setdefault(_scope(action, config), []).append(action)
        for number, (resources, listed) in enumerate(sorted(by_resources.items()), start=1):
            statements.append(
                {
                    "Sid": f"FailoverOperator{number}",
                    "Effect": "Allow",
                    "Action": listed,
                    "Resource": list(resources) if len(resources) > 1 else resources[0],
                }
            )
    elif rest:
        statements.append(
            {"Sid": "FailoverOperator", "Effect": "Allow", "Action": rest, "Resource": "*"}
        )
    statements += _role_statements(config, [a for a in plain if _is_role_action(a)])
    if PASS_ROLE in actions:
        statements.append(
            {
                "Sid": "PassTheFunctionRoleToLambdaOnly",
                "Effect": "Allow",
                "Action": PASS_ROLE,
                "Resource": _role(config),
                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            }
        )
    if SERVICE_LINKED_ROLE in actions:
        services = service_linked_services(config, commands)
        resource = [
            f"arn:aws:iam::*:role/aws-service-role/{s}/{_SERVICE_LINKED_ROLE_NAMES[s]}"
            for s in services
        ]
        statements.append(
            {
                "Sid": "ServiceLinkedRolesOfReplicasAndAutoScaling",
                "Effect": "Allow",
                "Action": SERVICE_LINKED_ROLE,
                "Resource": resource,
                "Condition": {"StringEquals": {"iam:AWSServiceName": services}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _conditioned(config: Config, actions: list[str]) -> list[dict[str, Any]]:
    """Stack-scoped actions whose resource is an id AWS picks, narrowed by a condition:
    the record names of the domain and its certificate's validation records
    (`_<token>.<domain>`; Route 53 Developer Guide, "Using IAM policy conditions for
    fine-grained access control"), and certificates tagged with the stack (ACM's
    aws:ResourceTag). Without a domain, records may only be deleted: a domain the config
    no longer names is cleaned up, none is created."""
    found: list[dict[str, Any]] = []
    if "route53:ChangeResourceRecordSets" in actions:
        if config.domain is not None:
            name = config.domain.name.rstrip(".").lower()
            test = {
                "ForAllValues:StringLike": {
                    f"{_RECORDS}NormalizedRecordNames": [name, f"_*.{name}"]
                }
            }
        else:
            test = {"ForAllValues:StringEquals": {f"{_RECORDS}Actions": ["DELETE"]}}
        found.append(
            {
                "Sid": "TheDomainsRecordsOnly",
                "Effect": "Allow",
                "Action": "route53:ChangeResourceRecordSets",
                "Resource": "arn:aws:route53:::hostedzone/*",
                "Condition": test,
            }
        )
    found += _api_gateway_statements(config, [a for a in actions if a in _API_GATEWAY_WRITES])
    found += _scaling_statements(config, [a for a in actions if a in _SCALING_WRITES])
    if "acm:DeleteCertificate" in actions:
        found.append(
            {
                "Sid": "TheStacksCertificatesOnly",
                "Effect": "Allow",
                "Action": "acm:DeleteCertificate",
                "Resource": "arn:aws:acm:*:*:certificate/*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/{STACK_TAG}": config.stack}},
            }
        )
    return found


def _api_gateway_statements(config: Config, writes: list[str]) -> list[dict[str, Any]]:
    """API Gateway's writes, on what carries the stack's tag: a REST API or custom domain
    is created only with it (aws:RequestTag), and written, tagged or deleted only while it
    has it (aws:ResourceTag; a REST API's resources, methods, deployments and stages and a
    domain's base path mappings inherit it for access control: API Gateway Developer
    Guide, "API Gateway resources that can be tagged"). Reads stay on every path: `up`
    must see a look-alike of another owner to leave it alone."""
    if not writes:
        return []
    tag = f"aws:ResourceTag/{STACK_TAG}"
    found: list[dict[str, Any]] = []
    if "apigateway:POST" in writes:
        found.append(
            {
                "Sid": "ApiGatewayCreatesOnlyTheStacksTagged",
                "Effect": "Allow",
                "Action": "apigateway:POST",
                "Resource": [_api_gateway_arn("/restapis"), _api_gateway_arn("/domainnames")],
                "Condition": {"StringEquals": {f"aws:RequestTag/{STACK_TAG}": config.stack}},
            }
        )
    found.append(
        {
            "Sid": "ApiGatewayWritesOnlyTheStacksOwn",
            "Effect": "Allow",
            "Action": sorted(writes),
            "Resource": [_api_gateway_arn(p) for p in _API_GATEWAY_OWN],
            "Condition": {"StringEquals": {tag: config.stack}},
        }
    )
    return found


def _scaling_statements(config: Config, writes: list[str]) -> list[dict[str, Any]]:
    """Application Auto Scaling's writes, on scalable targets tagged for the stack
    (aws:ResourceTag); a target is registered (and tagged) with that tag only while it
    carries no such tag yet, so another stack's target cannot be re-tagged ours and then
    removed (Application Auto Scaling User Guide, "ABAC with Application Auto Scaling")."""
    if not writes:
        return []
    tag = f"{STACK_TAG}"
    found: list[dict[str, Any]] = [
        {
            "Sid": "ScalingWritesOnlyTheStacksTargets",
            "Effect": "Allow",
            "Action": sorted(writes),
            "Resource": _SCALABLE_TARGETS,
            "Condition": {"StringEquals": {f"aws:ResourceTag/{tag}": config.stack}},
        }
    ]
    creating = sorted(a for a in writes if a.endswith(("RegisterScalableTarget", ":TagResource")))
    if creating:
        found.append(
            {
                "Sid": "ScalingRegistersOnlyTaggedForTheStack",
                "Effect": "Allow",
                "Action": creating,
                "Resource": _SCALABLE_TARGETS,
                "Condition": {
                    "StringEquals": {f"aws:RequestTag/{tag}": config.stack},
                    "Null": {f"aws:ResourceTag/{tag}": "true"},
                },
            }
        )
    return found


def _api_gateway_arn(path: str) -> str:
    return f"arn:aws:apigateway:*::{path}"


def _role_statements(config: Config, actions: list[str]) -> list[dict[str, Any]]:
    """The IAM actions, on the stack's roles; with `iam.permissions_boundary`, those that
    give a role permissions only while the role carries that boundary (IAM User Guide,
    "Permissions boundaries for IAM entities")."""
    roles = _roles(config)
    resource = list(roles) if len(roles) > 1 else roles[0]
    boundary = config.iam.permissions_boundary
    bounded = [a for a in actions if boundary and a in _BOUNDED]
    free = [a for a in actions if a not in bounded]
    found: list[dict[str, Any]] = []
    if free:
        found.append({"Sid": "OwnRoles", "Effect": "Allow", "Action": free, "Resource": resource})
    if bounded:
        found.append(
            {
                "Sid": "OwnRolesOnlyWithTheBoundary",
                "Effect": "Allow",
                "Action": bounded,
                "Resource": resource,
                "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}},
            }
        )
    return found


def _is_role_action(action: str) -> bool:
    """An IAM action on a role (every IAM action the registry holds but the simulation)."""
    return action.startswith("iam:") and action not in _UNSCOPED


def _needs(config: Config) -> tuple[bool, bool, bool, bool]:
    """(with a domain, with access, with its self-refreshing function, with a boundary)."""
    access = config.access
    refresh = bool(access and access.auto_refresh)
    boundary = config.iam.permissions_boundary is not None
    return config.domain is not None, access is not None, refresh, boundary


def _refresher(config: Config) -> str | None:
    """The name of `access.auto_refresh`'s function and role, looked for (and removed when
    turned off) with any `access:` section."""
    from failover_cli.resources.ip_refresher import name_of

    return name_of(config) if config.access is not None else None


def _roles(config: Config) -> tuple[str, ...]:
    roles = _role(config)
    return tuple(roles) if isinstance(roles, list) else (roles,)


def _role(config: Config) -> str | list[str]:
    """The roles the operator passes to Lambda: the function's, and the refresher's."""
    refresher = _refresher(config) if _needs(config)[2] else None
    own = f"arn:aws:iam::*:role/{config.role_name}"
    return [own, f"arn:aws:iam::*:role/{refresher}"] if refresher else own


def _scope(action: str, config: Config) -> tuple[str, ...]:
    """The resources `action` is narrowed to for `config`'s stack ("*" where it cannot be).

    Regions are `*`: up and down delete in a region the config no longer names, and
    the names already tell this stack's resources from others'.
    """
    if action in _UNSCOPED:
        return ("*",)
    service = action.split(":", 1)[0]
    if service == "iam":
        return _roles(config)
    if service == "dynamodb":
        return (f"arn:aws:dynamodb:*:*:table/{config.table.name}",)
    refresher = _refresher(config)
    if service == "lambda":
        names = [config.function.name, *([refresher] if refresher else [])]
        arns = [f"arn:aws:lambda:*:*:function:{n}" for n in names]
        # `:*` covers the versions and the `live` alias (calls with a Qualifier).
        return tuple(a for arn in arns for a in (arn, f"{arn}:*"))
    if service == "logs":
        groups = [config.log_group_name, *([f"/aws/lambda/{refresher}"] if refresher else [])]
        arns = [f"arn:aws:logs:*:*:log-group:{g}" for g in groups]
        return tuple(a for arn in arns for a in (arn, f"{arn}:*"))
    if service == "apigateway":
        # A former domain is deleted too, so custom domains are not narrowed by name: the
        # writes are narrowed by the stack's tag instead (_api_gateway_statements).
        if action == "apigateway:GET":
            paths: tuple[str, ...] = ("/restapis", "/domainnames", *_API_GATEWAY_OWN)
        elif action == "apigateway:POST":
            paths = ("/restapis", "/domainnames", *_API_GATEWAY_OWN)
        else:
            paths = _API_GATEWAY_OWN
        return tuple(_api_gateway_arn(p) for p in paths)
    if service == "acm":
        return ("arn:aws:acm:*:*:certificate/*",)
    if service == "route53":
        if action in _HOSTED_ZONE_ACTIONS:
            return ("arn:aws:route53:::hostedzone/*",)
        if action == "route53:GetChange":
            return ("arn:aws:route53:::change/*",)
        return ("arn:aws:route53:::healthcheck/*",)
    if service == "sns":
        topics = [f"arn:aws:sns:{ALARM_REGION}:*:{config.topic_name}"]
        if refresher:  # AWS's topic the refresher subscribes to
            from failover_cli.resources.ip_refresher import TOPIC

            topics.append(TOPIC)
        if action in _SUBSCRIPTION_ACTIONS:
            return tuple(f"{t}:*" for t in topics)
        return tuple(topics)
    if service == "cloudwatch":
        # Alarms are named <stack>-<region>-health, for former regions too.
        health = f"arn:aws:cloudwatch:{ALARM_REGION}:*:alarm:{config.stack}-*-health"
        if action in _SCALING_ALARM_ACTIONS:
            # Application Auto Scaling checks the caller may manage the target-tracking
            # alarms it makes for the table, in each table region (calls.SCALING_CHECKS).
            tracking = f"arn:aws:cloudwatch:*:*:alarm:TargetTracking-table/{config.table.name}-*"
            return (health, tracking)
        return (health,)
    if action in _SCALING_WRITES:
        return (_SCALABLE_TARGETS,)  # and the stack's tag (_scaling_statements)
    return ("*",)  # application-autoscaling's reads, servicequotas: no resource of ours


def simulation_resources(config: Config, account: str, actions: Iterable[str]) -> dict[str, str]:
    """One concrete resource ARN per action, as a real call of the stack would name it, for
    iam:SimulatePrincipalPolicy: a stack-scoped policy does not allow an action on "*", so
    simulating on "*" would report a false refusal. Actions on "*" are left out (the
    simulation's default)."""
    region = config.primary_region
    found: dict[str, str] = {}
    for action in actions:
        if action == PASS_ROLE:
            scoped: tuple[str, ...] = _roles(config)
        elif action == SERVICE_LINKED_ROLE:
            name = _SERVICE_LINKED_ROLE_NAMES[REPLICATION_SERVICE]
            scoped = (f"arn:aws:iam::*:role/aws-service-role/{REPLICATION_SERVICE}/{name}",)
        else:
            scoped = _scope(action, config)
        if scoped == ("*",):
            continue
        parts = scoped[0].split(":", 5)  # arn:partition:service:region:account:resource
        parts[3] = region if parts[3] == "*" else parts[3]
        parts[4] = account if parts[4] == "*" else parts[4]
        parts[5] = parts[5].replace("*", "example")
        found[action] = ":".join(parts)
    return found
