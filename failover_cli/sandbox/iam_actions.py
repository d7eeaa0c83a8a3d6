"""Which IAM actions an AWS API request needs: its own, and those AWS checks implicitly.

Each request needs the action named after its operation (`lambda:GetFunction`;
`apigateway:<HTTP verb>` for API Gateway, whose actions are verbs on resource
paths). Some calls need more, checked by AWS on the caller's behalf:

- passing a role to Lambda (CreateFunction, UpdateFunctionConfiguration with `Role`)
  needs `iam:PassRole` on that role, with `iam:PassedToService=lambda.amazonaws.com`
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html);
- adding a replica (UpdateTable with `ReplicaUpdates` Create) needs, in the destination
  region, CreateTable, CreateTableReplica, Scan, Query, UpdateItem, PutItem, GetItem,
  DeleteItem and BatchWriteItem; removing one needs DeleteTable and DeleteTableReplica
  there (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2gt_IAM.html);
- the first replica, and the first DynamoDB scalable target, of an account make AWS
  create a service-linked role, which needs `iam:CreateServiceLinkedRole` for that
  `iam:AWSServiceName` (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html);
- RegisterScalableTarget and PutScalingPolicy on a DynamoDB table need, from the caller,
  dynamodb:DescribeTable and UpdateTable on the table and cloudwatch:PutMetricAlarm,
  DescribeAlarms and DeleteAlarms on its target-tracking alarms in the table's region
  (https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_permission_validation.html);
- creating a resource with tags needs the service's tagging action as well
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html#access_tags_control-requests;
  e.g. https://docs.aws.amazon.com/lambda/latest/dg/attribute-based-access-control.html);
- `sts:GetCallerIdentity` needs no permission at all
  (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).

Resource ARNs are derived for Lambda functions, DynamoDB tables, IAM roles and API
Gateway paths; for other calls the resource is unknown (None) and policy `Resource`
patterns are not narrowed by it. The condition keys filled in are
`aws:RequestedRegion`, `iam:PassedToService`, `iam:AWSServiceName` and those
sandbox/iam_context.py reads (a role's boundary, Route 53's record changes, a
certificate's tags).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote

from failover_cli.sandbox.iam_context import ContextPairs, api_gateway_context, extra_context
from failover_cli.sandbox.requests import AwsRequest

_REST_API_PATH = re.compile(r"^/restapis/[^/]+/?$")  # UpdateRestApi's path (PATCH)

# SigV4 signing name -> (botocore service, IAM prefix) where they differ from the name.
_SIGNING = {"monitoring": ("cloudwatch", "cloudwatch")}
_REST_SERVICES = {"lambda", "route53"}  # operation found from method and path
_ACTION_ALIAS = {"lambda:Invoke": "lambda:InvokeFunction"}
_FREE = {"sts:GetCallerIdentity"}
# Creating with tags: (the parameter holding them, the tagging action it needs too).
_TAG_ON_CREATE = {
    "lambda:CreateFunction": ("Tags", "lambda:TagResource"),
    "iam:CreateRole": ("Tags.member.1.Key", "iam:TagRole"),
    "dynamodb:CreateTable": ("Tags", "dynamodb:TagResource"),
    "logs:CreateLogGroup": ("tags", "logs:TagResource"),
    "sns:CreateTopic": ("Tags.member.1.Key", "sns:TagResource"),
    "cloudwatch:PutMetricAlarm": ("Tags", "cloudwatch:TagResource"),
    "acm:RequestCertificate": ("Tags", "acm:AddTagsToCertificate"),
    "application-autoscaling:RegisterScalableTarget": (
        "Tags",
        "application-autoscaling:TagResource",
    ),
}
_CBOR_OPERATION = "/operation/"  # smithy-rpc-v2-cbor: /service/<Service>/operation/<Name>
REPLICA_CREATE = (
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
REPLICA_DELETE = ("DeleteTable", "DeleteTableReplica")
REPLICATION_SERVICE = "replication.dynamodb.amazonaws.com"
SCALING_SERVICE = "dynamodb.application-autoscaling.amazonaws.com"
# Application Auto Scaling validates the caller's permissions on the target and on
# CloudWatch ("Permissions validation for Application Auto Scaling API calls on target
# resources"; the DynamoDB list: "Application Auto Scaling identity-based policy examples").
_SCALING_WRITES = {
    "application-autoscaling:RegisterScalableTarget",
    "application-autoscaling:PutScalingPolicy",
}
_SCALING_TABLE_ACTIONS = ("DescribeTable", "UpdateTable")
_SCALING_ALARM_ACTIONS = ("PutMetricAlarm", "DescribeAlarms", "DeleteAlarms")
_UUID = "00000000-0000-4000-8000-000000000000"  # the id AWS appends to the alarm's name
_SERVICE_LINKED_ROLES = {
    REPLICATION_SERVICE: "AWSServiceRoleForDynamoDBReplication",
    SCALING_SERVICE: "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
}


@dataclass(frozen=True)
class Need:
    """One authorisation a request needs."""

    action: str
    resource: str | None
    context: ContextPairs
    why: str = ""  # for implicit needs: what AWS needs it for
    once: bool = False  # a service-linked role: needed only until it exists
    refusal: str = ""  # the error code AWS answers when refused ("": AccessDenied's)


def operation(request: AwsRequest) -> str | None:
    """The API operation of a signed request, for every protocol the tool's clients use."""
    if request.operation:
        return request.operation
    if _CBOR_OPERATION in request.path:
        return request.path.rsplit("/", 1)[-1]
    service = request.service or ""
    if service in _REST_SERVICES:
        found = _rest_operation(service, request.method, request.path)
        return found[0] if found else None
    return None


def needs(request: AwsRequest) -> list[Need]:
    """Every authorisation `request` needs, its own action first; [] when none is."""
    service = request.service or ""
    region, account = request.region, request.account_id
    here = (("aws:RequestedRegion", region),)
    if service == "apigateway":
        path = f"arn:aws:apigateway:{region}::{unquote(request.path)}"
        tags = api_gateway_context(
            request.method, request.path, request.body or b"", account, region
        )
        found = [Need(f"apigateway:{request.method}", path, (*here, *tags))]
        if _patches_policy(request):
            # API Gateway Developer Guide, "Create and attach an API Gateway resource
            # policy to an API": PATCH and apigateway:UpdateRestApiPolicy.
            found.append(Need("apigateway:UpdateRestApiPolicy", path, (*here, *tags)))
        return found
    name = operation(request)
    if name is None:
        return []
    action = f"{_SIGNING.get(service, (service, service))[1]}:{name}"
    action = _ACTION_ALIAS.get(action, action)
    if action in _FREE:
        return []
    params = _params(request, service, name)
    own = (*here, *extra_context(action, params, request.body or b"", account, region))
    found = [Need(action, _resource(service, params, region, account), own)]
    found += _implicit(action, params, region, account)
    return found


def _patches_policy(request: AwsRequest) -> bool:
    """UpdateRestApi with an operation on /policy."""
    if request.method != "PATCH" or not _REST_API_PATH.match(request.path):
        return False
    try:
        operations = json.loads(request.body or b"{}").get("patchOperations") or []
    except (ValueError, AttributeError):
        return False
    return any(str(op.get("path", "")).startswith("/policy") for op in operations)


def _params(request: AwsRequest, service: str, name: str) -> dict[str, Any]:
    if service in _REST_SERVICES:
        matched = _rest_operation(service, request.method, request.path)
        body = request.json() if request.body and service == "lambda" else {}
        # Lambda's Qualifier travels in the query string (Invoke, GetFunction, AddPermission ...).
        query = {k: v[0] for k, v in parse_qs(request.query).items() if k == "Qualifier"}
        return {**body, **query, **(matched[1] if matched else {})}
    if request.headers.get("content-type", "").startswith("application/x-amz-json"):
        return request.json()
    if _CBOR_OPERATION in request.path and request.body:
        from botocore.parsers import RpcV2CBORParser

        parser: Any = RpcV2CBORParser()
        decoded = parser._initial_body_parse(request.body)
        return decoded if isinstance(decoded, dict) else {}
    return dict(request.form)


def _resource(service: str, params: dict[str, Any], region: str, account: str) -> str | None:
    if service == "lambda":
        name = str(params.get("FunctionName") or params.get("Resource") or "")
        arn = (
            name
            if name.startswith("arn:")
            else f"arn:aws:lambda:{region}:{account}:function:{name}"
        )
        # A call on a version or alias is authorized on that qualified ARN: a policy naming
        # only `function:my-function` does not cover `function:my-function:live`
        # (Lambda Developer Guide, "Resources and conditions for Lambda actions").
        qualifier = params.get("Qualifier")
        if qualifier and qualifier != "$LATEST" and arn.count(":") == 6:
            arn = f"{arn}:{qualifier}"
        return arn if name else None
    if service == "dynamodb":
        if params.get("TableName"):
            return _table(region, account, str(params["TableName"]))
        return str(params["ResourceArn"]) if params.get("ResourceArn") else None
    if service == "iam" and params.get("RoleName"):
        return f"arn:aws:iam::{account}:role/{params['RoleName']}"
    return None


def _implicit(action: str, params: dict[str, Any], region: str, account: str) -> list[Need]:
    found: list[Need] = []
    tagged = _TAG_ON_CREATE.get(action)
    if tagged and params.get(tagged[0]):
        # The tags asked for are the tagging action's request tags (those given as a map).
        asked = params.get(tagged[0])
        requested = (
            tuple((f"aws:RequestTag/{k}", str(v)) for k, v in asked.items())
            if isinstance(asked, dict)
            else ()
        )
        here = (("aws:RequestedRegion", region), *requested)
        found.append(Need(tagged[1], None, here, f"to tag on {action.split(':')[1]}"))
    if action in ("lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"):
        if params.get("Role"):
            passed = (
                ("aws:RequestedRegion", region),
                ("iam:PassedToService", "lambda.amazonaws.com"),
            )
            found.append(
                Need("iam:PassRole", str(params["Role"]), passed, "to pass the role to Lambda")
            )
    elif action == "dynamodb:UpdateTable":
        table = str(params.get("TableName", ""))
        for update in params.get("ReplicaUpdates") or []:
            for verb, actions in (("Create", REPLICA_CREATE), ("Delete", REPLICA_DELETE)):
                target = (update.get(verb) or {}).get("RegionName")
                if not target:
                    continue
                why = f"to {verb.lower()} the replica in {target}"
                there = (("aws:RequestedRegion", target),)
                found += [
                    Need(f"dynamodb:{a}", _table(target, account, table), there, why)
                    for a in actions
                ]
                if verb == "Create":
                    found.append(_service_linked_role(REPLICATION_SERVICE, account, region))
    elif action in _SCALING_WRITES and params.get("ServiceNamespace") == "dynamodb":
        found += _scaling_validation(str(params.get("ResourceId", "")), region, account)
        if action == "application-autoscaling:RegisterScalableTarget":
            found.append(_service_linked_role(SCALING_SERVICE, account, region))
    return found


def _scaling_validation(resource_id: str, region: str, account: str) -> list[Need]:
    """Application Auto Scaling checks the caller's own permissions on the target and on
    the alarms it will create (`TargetTracking-table/<name>-AlarmHigh-<uuid>`, in the
    table's region) before it proceeds."""
    here = (("aws:RequestedRegion", region),)
    why = "for Application Auto Scaling's check of the caller's permissions"
    no = "ValidationException"  # how Application Auto Scaling reports a failed check
    table = _table(region, account, resource_id.removeprefix("table/").split("/", 1)[0])
    name = f"TargetTracking-{resource_id}-AlarmHigh-{_UUID}"
    alarm = f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
    return [
        *(Need(f"dynamodb:{a}", table, here, why, refusal=no) for a in _SCALING_TABLE_ACTIONS),
        *(Need(f"cloudwatch:{a}", alarm, here, why, refusal=no) for a in _SCALING_ALARM_ACTIONS),
    ]


def _service_linked_role(service: str, account: str, region: str) -> Need:
    role = (
        f"arn:aws:iam::{account}:role/aws-service-role/{service}/{_SERVICE_LINKED_ROLES[service]}"
    )
    context = (("aws:RequestedRegion", region), ("iam:AWSServiceName", service))
    why = f"for AWS to create the service-linked role of {service}"
    return Need("iam:CreateServiceLinkedRole", role, context, why, once=True)


def _table(region: str, account: str, name: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def _rest_operation(service: str, method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """(operation, path parameters) of a REST request, the most specific route winning."""
    best: tuple[int, str, dict[str, str]] | None = None
    for name, verb, pattern, literal in _routes(service):
        if verb != method:
            continue
        matched = pattern.fullmatch(path)
        if matched and (best is None or literal > best[0]):
            params = {k: unquote(v) for k, v in matched.groupdict().items()}
            best = (literal, name, params)
    return (best[1], best[2]) if best else None


@cache
def _routes(service: str) -> tuple[tuple[str, str, re.Pattern[str], int], ...]:
    """(operation, method, path regex, literal length) from botocore's service model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http["requestUri"].split("?", 1)[0]
        parts = re.split(r"(\{[^}]+\})", uri)
        regex = "".join(
            (f"(?P<{p[1:-2]}>.+)" if p.endswith("+}") else f"(?P<{p[1:-1]}>[^/]+)")
            if p.startswith("{")
            else re.escape(p)
            for p in parts
        )
        literal = sum(len(p) for p in parts if not p.startswith("{"))
        routes.append((name, http["method"], re.compile(regex + "/?"), literal))
    return tuple(routes)
