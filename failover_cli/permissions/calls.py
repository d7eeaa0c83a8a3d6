"""The one registry of the AWS calls each command makes, and what AWS checks for them.

`failover iam-policy` derives the operator policy from it, `failover doctor` simulates
it, and tests/test_sandbox_policy_lifecycle.py proves against the sandbox that every call a
command makes (the FAILOVER_CALL_LOG of the whole life cycle) is listed here under
that command. A call is (boto3 service, botocore operation name), exactly as the call
log records it. Adding a call to the code without adding it here fails that test.

Some calls need more than their own action, checked by AWS on the caller's behalf
(`IMPLIED` per call, `Group.also` per code path; sources in
failover_cli/sandbox/iam_actions.py, which emulates the checks independently): tagging
on create, `lambda:ListTags` for GetFunction's tags, `iam:PassRole` for the function's
role, the replica region's actions for UpdateTable ReplicaUpdates, and the service-
linked roles AWS creates for global tables and Application Auto Scaling
(`iam:CreateServiceLinkedRole`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

Call = tuple[str, str]  # (boto3 service, operation), as the call log records it


class Needs(Enum):
    """What part of the config a group of calls exists for."""

    ALWAYS = "always"
    DOMAIN = "domain"  # only with `domain:` (certificates, custom domains, records)
    ACCESS = "access"  # only with `access:` (the REST APIs' IP allow-list)
    AUTO_REFRESH = "auto_refresh"  # only with `access.auto_refresh: true` (its function)
    BOUNDARY = "boundary"  # only with `iam.permissions_boundary` (set on the roles)
    UNBOUNDED = "unbounded"  # only without it (a boundary found on the roles is removed)


@dataclass(frozen=True)
class Group:
    """Calls one code path makes, and when the config makes it take that path.

    `also`: actions AWS checks on the path's behalf beyond IMPLIED (which holds for
    every use of a call); `service_linked`: services whose service-linked role AWS
    creates on the path's first use in an account (iam:CreateServiceLinkedRole).
    """

    name: str
    calls: tuple[Call, ...]
    needs: Needs = Needs.ALWAYS
    also: tuple[str, ...] = ()
    service_linked: tuple[str, ...] = ()


def _calls(service: str, *operations: str) -> tuple[Call, ...]:
    return tuple((service, operation) for operation in operations)


# Actions AWS checks on a call's behalf besides the call's own.
PASS_ROLE = "iam:PassRole"  # CreateFunction, and UpdateFunctionConfiguration with Role
SERVICE_LINKED_ROLE = "iam:CreateServiceLinkedRole"
# UpdateTable ReplicaUpdates: the destination region's actions
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2gt_IAM.html).
# The sandbox's emulation (sandbox/iam_actions.py) keeps its own copy on purpose: it
# checks this one, and a shared constant could not catch a mistake in it.
REPLICA_CREATE = tuple(
    f"dynamodb:{a}"
    for a in (
        "CreateTable",
        "CreateTableReplica",
        "Scan",
        "Query",
        "UpdateItem",
        "PutItem",
        "GetItem",
        "DeleteItem",
        "BatchWriteItem",
    )
)
REPLICA_DELETE = ("dynamodb:DeleteTable", "dynamodb:DeleteTableReplica")
REPLICATION_SERVICE = "replication.dynamodb.amazonaws.com"
SCALING_SERVICE = "dynamodb.application-autoscaling.amazonaws.com"
# Application Auto Scaling checks the caller's own permissions on the table and on the
# target-tracking alarms it creates (`TargetTracking-table/<table>-*`, in the table's
# region) before it registers a target or puts a policy: "Permissions validation for
# Application Auto Scaling API calls on target resources"
# (https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_permission_validation.html).
SCALING_CHECKS = (
    "dynamodb:DescribeTable",
    "dynamodb:UpdateTable",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:DeleteAlarms",
)
# Every use of these calls needs the listed actions too: tagging on create
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html), GetFunction's tags.
IMPLIED: dict[Call, tuple[str, ...]] = {
    ("lambda", "GetFunction"): ("lambda:ListTags",),
    ("lambda", "CreateFunction"): ("lambda:TagResource",),
    ("iam", "CreateRole"): ("iam:TagRole",),
    ("dynamodb", "CreateTable"): ("dynamodb:TagResource",),
    ("logs", "CreateLogGroup"): ("logs:TagResource",),
    ("sns", "CreateTopic"): ("sns:TagResource",),
    ("cloudwatch", "PutMetricAlarm"): ("cloudwatch:TagResource",),
    ("acm", "RequestCertificate"): ("acm:AddTagsToCertificate",),
    ("application-autoscaling", "RegisterScalableTarget"): (
        "application-autoscaling:TagResource",
        *SCALING_CHECKS,
    ),
    ("application-autoscaling", "PutScalingPolicy"): SCALING_CHECKS,
}


# Reading the stack back: plan, up and down observe every resource kind, and find the
# regions and the domain the config no longer names (failover_cli/engine/leftovers.py).
OBSERVE = Group(
    "observe",
    _calls("iam", "GetRole", "GetRolePolicy", "ListRolePolicies", "ListAttachedRolePolicies")
    + _calls("dynamodb", "DescribeTable", "ListTagsOfResource", "GetItem")
    + _calls("application-autoscaling", "DescribeScalableTargets", "DescribeScalingPolicies")
    + _calls("logs", "DescribeLogGroups", "ListTagsForResource")
    + _calls("lambda", "GetFunction", "GetFunctionConfiguration", "GetPolicy")
    + _calls("lambda", "GetAlias")  # the `live` alias
    + _calls("apigateway", "GetRestApis", "GetResources", "GetStage", "GetMethod")
    + _calls("apigateway", "GetDeployment")  # which allow-list the stage serves
    + _calls("route53", "ListHealthChecks", "ListTagsForResources")
    + _calls("sns", "GetTopicAttributes", "ListTagsForResource", "ListSubscriptionsByTopic")
    + _calls("sns", "GetSubscriptionAttributes")
    + _calls("cloudwatch", "DescribeAlarms", "ListTagsForResource"),
)
# The domain's resources are read even without `domain:`: up and down find a domain
# the config no longer names (failover_cli/engine/leftovers.py) and delete it.
OBSERVE_DOMAIN = Group(
    "observe-domain",
    _calls("acm", "ListCertificates", "DescribeCertificate", "ListTagsForCertificate")
    + _calls("apigateway", "GetDomainNames", "GetDomainName", "GetBasePathMappings")
    + _calls("route53", "ListHostedZonesByName", "ListResourceRecordSets"),
)
BUILD = Group(
    "build",
    _calls("iam", "CreateRole", "TagRole", "PutRolePolicy", "UpdateAssumeRolePolicy")
    + _calls("iam", "DeleteRolePolicy", "DetachRolePolicy")
    + _calls("dynamodb", "CreateTable", "UpdateTable", "TagResource", "PutItem", "DeleteItem")
    + _calls("application-autoscaling", "RegisterScalableTarget", "PutScalingPolicy")
    + _calls("application-autoscaling", "DeleteScalingPolicy")
    + _calls("logs", "CreateLogGroup", "PutRetentionPolicy", "TagResource")
    + _calls("lambda", "CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration")
    + _calls("lambda", "TagResource", "AddPermission", "RemovePermission")
    + _calls("lambda", "PutFunctionConcurrency", "DeleteFunctionConcurrency")
    # releases: publish, point `live`, prune old versions (resources/alias.py)
    + _calls("lambda", "PublishVersion", "CreateAlias", "UpdateAlias", "DeleteFunction")
    + _calls("lambda", "ListVersionsByFunction")
    + _calls("apigateway", "CreateRestApi", "UpdateRestApi", "CreateResource", "PutMethod")
    + _calls("apigateway", "DeleteMethod", "PutIntegration", "CreateDeployment", "UpdateStage")
    + _calls("apigateway", "TagResource")
    + _calls("route53", "CreateHealthCheck", "UpdateHealthCheck", "DeleteHealthCheck")
    + _calls("route53", "ChangeTagsForResource", "GetHealthCheckStatus", "GetHealthCheck")
    + _calls("sns", "CreateTopic", "TagResource", "Subscribe", "Unsubscribe")
    + _calls("cloudwatch", "PutMetricAlarm", "TagResource")
    # the preflight before the first write (failover_cli/ops/preflight.py)
    + _calls("route53", "GetAccountLimit")
    + _calls("lambda", "GetAccountSettings"),
    also=(PASS_ROLE, *REPLICA_CREATE, *REPLICA_DELETE),
    service_linked=(REPLICATION_SERVICE, SCALING_SERVICE),
)
# The roles' permissions boundary, set on a role made before the config named one, or
# removed when the config no longer names one (resources/role.py).
BOUNDARY_SET = Group("boundary-set", _calls("iam", "PutRolePermissionsBoundary"), Needs.BOUNDARY)
BOUNDARY_REMOVE = Group(
    "boundary-remove", _calls("iam", "DeleteRolePermissionsBoundary"), Needs.UNBOUNDED
)
BUILD_DOMAIN = Group(
    "build-domain",
    _calls("acm", "RequestCertificate", "AddTagsToCertificate")
    + _calls("apigateway", "CreateDomainName", "UpdateDomainName", "CreateBasePathMapping")
    + _calls("apigateway", "UpdateBasePathMapping", "DeleteBasePathMapping")
    + _calls("route53", "ChangeResourceRecordSets", "GetChange"),
    Needs.DOMAIN,
)
TEARDOWN = Group(
    "teardown",
    _calls("iam", "DeleteRole", "DeleteRolePolicy", "DetachRolePolicy")
    + _calls("dynamodb", "DeleteTable", "UpdateTable", "DeleteItem")
    + _calls("application-autoscaling", "DeregisterScalableTarget")
    + _calls("logs", "DeleteLogGroup")
    + _calls("lambda", "DeleteFunction", "RemovePermission")
    + _calls("apigateway", "DeleteRestApi")
    + _calls("route53", "DeleteHealthCheck")
    + _calls("sns", "DeleteTopic", "Unsubscribe")
    + _calls("cloudwatch", "DeleteAlarms"),
    also=REPLICA_DELETE,
)
TEARDOWN_DOMAIN = Group(
    "teardown-domain",
    _calls("acm", "DeleteCertificate")
    + _calls("apigateway", "DeleteDomainName", "DeleteBasePathMapping")
    + _calls("route53", "ChangeResourceRecordSets", "GetChange"),
)
# status, and the phases force-fail --wait, drill and rotate-secret follow.
STATUS = Group(
    "status",
    # Tags with every read: a table or function of the stack's name may be another stack's.
    _calls("dynamodb", "DescribeTable", "ListTagsOfResource")
    + _calls("dynamodb", "GetItem")  # the switch item, in every replica
    + _calls("lambda", "GetFunction", "GetFunctionConfiguration", "GetAlias")  # live version
    + _calls("apigateway", "GetRestApis")
    + _calls("route53", "ListHealthChecks", "ListTagsForResources", "GetHealthCheckStatus")
    + _calls("sns", "GetTopicAttributes", "ListTagsForResource", "ListSubscriptionsByTopic")
    + _calls("sns", "GetSubscriptionAttributes")
    + _calls("cloudwatch", "DescribeAlarms")
    + _calls("cloudwatch", "GetMetricData"),  # switch readers' and calculated checks' verdicts
)
DNS_ANSWER = Group(
    "dns-answer",
    _calls("route53", "ListHostedZonesByName", "ListResourceRecordSets", "TestDNSAnswer"),
    Needs.DOMAIN,
)
# A function's environment, edited by merging (rotate-secret's HEALTH_CHECKER_ID and _NEXT).
FLAG = Group(
    "flag",
    _calls("lambda", "GetFunction", "GetFunctionConfiguration", "UpdateFunctionConfiguration")
    # the edit serves once `live` points at a version of it (services/live_alias.py)
    + _calls("lambda", "GetAlias", "PublishVersion", "UpdateAlias")
    + _calls("route53", "ListHealthChecks", "ListTagsForResources", "GetHealthCheckStatus"),
)
# The switch item in the stack's table, written in any region's replica by force-fail and
# drill (services/switch_replicas.py); status reads it (STATUS).
SWITCH = Group("switch", _calls("dynamodb", "GetItem", "UpdateItem"))
# up on a stack an older release forced a region out of (ops/lever_upgrade.py): the region
# goes into the switch, its readers are watched, then FORCE_FAIL / the probe's override go.
LEVER_UPGRADE = Group(
    "lever-upgrade",
    _calls("dynamodb", "GetItem", "UpdateItem")
    + _calls("lambda", "GetFunction", "GetFunctionConfiguration", "UpdateFunctionConfiguration")
    + _calls("lambda", "GetAlias", "PublishVersion", "UpdateAlias")
    + _calls("route53", "GetHealthCheck", "GetHealthCheckStatus", "UpdateHealthCheck")
    + _calls("route53", "ChangeTagsForResource"),
)
ROTATE = Group(
    "rotate",
    _calls("route53", "GetHealthCheck", "UpdateHealthCheck"),
)
# rollback: each region's `live` alias back to a published version, gated like a release
# (ops/rollback.py): no build, no upload, no deletion.
ROLLBACK = Group(
    "rollback",
    _calls("lambda", "GetFunction", "GetFunctionConfiguration", "GetAlias", "UpdateAlias")
    + _calls("lambda", "ListVersionsByFunction")  # only to list them when --to names none
    # the gates: the region's API (with the secret), then its health check over the bake
    + _calls("apigateway", "GetRestApis")
    + _calls("route53", "ListHealthChecks", "ListTagsForResources", "GetHealthCheckStatus"),
)
GC_LOGS = Group(
    "gc-logs",
    _calls("logs", "DescribeLogGroups", "ListTagsForResource", "DescribeLogStreams")
    + _calls("logs", "DeleteLogStream"),
)

# failover logs: the secrets to mask, then each region's events.
LOGS = Group(
    "logs",
    _calls("lambda", "GetFunctionConfiguration")
    + _calls("logs", "DescribeLogGroups", "ListTagsForResource", "FilterLogEvents"),
)

# failover invoke: the region's API, and the secret from its function's environment.
INVOKE = Group(
    "invoke",
    _calls("lambda", "GetFunctionConfiguration") + _calls("apigateway", "GetRestApis"),
)

# UpdateRestApi on /policy also needs apigateway:UpdateRestApiPolicy (API Gateway Developer
# Guide, "Create and attach an API Gateway resource policy to an API").
UPDATE_REST_API_POLICY = "apigateway:UpdateRestApiPolicy"
# up with `access:`: each region's API policy, written and deployed.
ALLOW_LIST = Group(
    "allow-list",
    _calls("apigateway", "UpdateRestApi", "CreateDeployment", "UpdateStage"),
    Needs.ACCESS,
    also=(UPDATE_REST_API_POLICY,),
)
# refresh-ip-ranges: each region's API policy, rewritten and deployed where it changed.
REFRESH_IP_RANGES = Group(
    "refresh-ip-ranges",
    _calls("apigateway", "GetRestApis", "UpdateRestApi", "CreateDeployment", "UpdateStage")
    + _calls("apigateway", "GetStage", "GetDeployment"),  # the allow-list the stage serves
    Needs.ACCESS,
    also=(UPDATE_REST_API_POLICY,),
)

# failover doctor (failover_cli/ops/doctor.py). Without SimulatePrincipalPolicy (or any
# other of these) its check says "could not check" instead of failing.
DOCTOR = Group(
    "doctor",
    _calls("iam", "SimulatePrincipalPolicy", "GetRole")  # GetRole: the caller's role's path
    + _calls("lambda", "GetAccountSettings")
    + _calls("route53", "GetAccountLimit", "ListHostedZonesByName", "GetHostedZone")
    + _calls("apigateway", "GetRestApis")
    + _calls("sns", "GetTopicAttributes", "ListTagsForResource", "ListSubscriptionsByTopic")
    + _calls("sns", "GetSubscriptionAttributes"),
)

# access.auto_refresh: the refresher's function, subscribed to AWS's AmazonIpSpaceChanged.
# Looked for (and removed when turned off) with any `access:`; built only when on.
AUTO_REFRESH_OBSERVE = Group(
    "auto-refresh-observe",
    _calls("lambda", "GetFunction") + _calls("sns", "ListSubscriptions"),
    Needs.ACCESS,
)
AUTO_REFRESH_BUILD = Group(
    "auto-refresh-build",
    _calls("iam", "CreateRole", "PutRolePolicy")
    + _calls("logs", "CreateLogGroup", "PutRetentionPolicy")
    + _calls("lambda", "CreateFunction", "GetFunction", "AddPermission")
    + _calls("lambda", "UpdateFunctionCode", "UpdateFunctionConfiguration")
    + _calls("sns", "Subscribe"),
    Needs.AUTO_REFRESH,
    also=(PASS_ROLE,),
)
AUTO_REFRESH_TEARDOWN = Group(
    "auto-refresh-teardown",
    _calls("sns", "Unsubscribe")
    + _calls("lambda", "DeleteFunction")
    + _calls("logs", "DeleteLogGroup")
    + _calls("logs", "ListTagsForResource")
    + _calls("iam", "GetRole", "ListRolePolicies", "DeleteRolePolicy", "DeleteRole"),
    Needs.ACCESS,
)

# command -> the groups of calls it makes. Commands that make no AWS call are OFFLINE.
COMMANDS: dict[str, tuple[Group, ...]] = {
    "plan": (OBSERVE, OBSERVE_DOMAIN, AUTO_REFRESH_OBSERVE),
    # up also deletes what the config no longer names (a region, the domain).
    "up": (
        *(OBSERVE, OBSERVE_DOMAIN, BUILD, BUILD_DOMAIN, TEARDOWN, TEARDOWN_DOMAIN, ALLOW_LIST),
        *(AUTO_REFRESH_OBSERVE, AUTO_REFRESH_BUILD, AUTO_REFRESH_TEARDOWN),
        *(BOUNDARY_SET, BOUNDARY_REMOVE, LEVER_UPGRADE),
    ),
    "status": (STATUS, DNS_ANSWER),
    "force-fail": (SWITCH, STATUS, DNS_ANSWER),
    "drill": (SWITCH, STATUS, DNS_ANSWER),
    "rotate-secret": (FLAG, ROTATE),
    "rollback": (ROLLBACK,),
    "gc-logs": (GC_LOGS,),
    "logs": (LOGS,),
    "invoke": (INVOKE,),
    "doctor": (DOCTOR,),
    "down": (
        *(OBSERVE, OBSERVE_DOMAIN, TEARDOWN, TEARDOWN_DOMAIN),
        *(AUTO_REFRESH_OBSERVE, AUTO_REFRESH_TEARDOWN),
    ),
    "refresh-ip-ranges": (REFRESH_IP_RANGES,),
}
OFFLINE = frozenset({"init", "validate", "iam-policy", "sandbox", "demo"})

# Calls that need no permission at all (STS GetCallerIdentity, on AWS as in the sandbox).
FREE: frozenset[Call] = frozenset({("sts", "GetCallerIdentity")})


def groups_of(
    commands: tuple[str, ...],
    with_domain: bool,
    with_access: bool = False,
    with_auto_refresh: bool = False,
    with_boundary: bool = False,
) -> list[Group]:
    """The groups `commands` take for a config with or without a domain, an access section,
    its self-refreshing function and a permissions boundary, in order, once each."""
    wanted = {Needs.ALWAYS} | ({Needs.DOMAIN} if with_domain else set())
    wanted |= {Needs.ACCESS} if with_access else set()
    wanted |= {Needs.AUTO_REFRESH} if with_auto_refresh else set()
    wanted |= {Needs.BOUNDARY} if with_boundary else {Needs.UNBOUNDED}
    found: list[Group] = []
    for command in commands:
        for group in COMMANDS[command]:
            if group not in found and group.needs in wanted:
                found.append(group)
    return found


def action_of(service: str, operation: str) -> str:
    """The IAM action of a call: API Gateway's are HTTP verbs on resource paths."""
    if service == "apigateway":
        import botocore.session

        model = botocore.session.get_session().get_service_model("apigateway")
        return f"apigateway:{model.operation_model(operation).http['method']}"
    prefix = {"monitoring": "cloudwatch", "service-quotas": "servicequotas"}.get(service, service)
    return f"{prefix}:{operation}"
