"""doctor's permissions check: SimulatePrincipalPolicy on the actions the config needs.

Each action is simulated on the resource the stack's call names (a stack-scoped policy
allows nothing on "*"), with the conditions the operator policy puts on PassRole and the
service-linked roles. What cannot be checked here: SCPs and permission boundaries
beyond what the simulation evaluates.
"""

from __future__ import annotations

from typing import Any

from failover_cli.config.schema import STACK_TAG
from failover_cli.engine.context import Context
from failover_cli.ops.doctor_boundary import boundary_finding
from failover_cli.ops.doctor_checks import Check, Verdict

SIMULATE_BATCH = 100  # action names per SimulatePrincipalPolicy call
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


class IamChecks:
    """The permissions and permissions-boundary checks, for `Doctor`."""

    ctx: Context

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
        """The policy's conditions met as the tool's calls meet them: the stack's own
        certificates, REST APIs and domain names carry its tag (and are created with it);
        with a boundary, roles are created and written with it."""
        config = self.ctx.config
        wanted = {
            f"aws:ResourceTag/{STACK_TAG}": config.stack,
            f"aws:RequestTag/{STACK_TAG}": config.stack,
        }
        if config.iam.permissions_boundary:
            wanted["iam:PermissionsBoundary"] = config.iam.permissions_boundary
        return [
            *SIMULATION_CONTEXT,
            *(
                {"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"}
                for k, v in wanted.items()
            ),
        ]

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
