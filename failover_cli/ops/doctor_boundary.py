"""`failover doctor`'s "permissions boundary" line: is `iam.permissions_boundary` in force?

With a boundary, whoever holds the operator policy can give the stack's roles (and so
the functions' code) no more than the boundary allows; without one, the operator policy
can write any inline policy into the stack's role. The line says which, and whether the
stack's role already carries the configured boundary (`up` sets it when it does not).
"""

from __future__ import annotations

from failover_cli.engine.context import GLOBAL_REGION, Context

Finding = tuple[str, str, str]  # (doctor's verdict value, detail, fix)


def boundary_finding(ctx: Context) -> Finding:
    config = ctx.config
    wanted = config.iam.permissions_boundary
    if not wanted:
        return (
            "skipped",
            "none: the operator policy can give the stack's roles any permission",
            "For CI tokens and shared accounts set iam.permissions_boundary (docs/iam.md).",
        )
    iam = ctx.client("iam", GLOBAL_REGION)
    try:
        role = iam.get_role(RoleName=config.role_name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return ("ok", f"{wanted}: every role `up` creates carries it", "")
    found = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if found == wanted:
        return ("ok", f"{wanted}: in force on {config.role_name}", "")
    now = f"carries {found}" if found else "carries none"
    return (
        "warn",
        f"{wanted} is configured, but {config.role_name} {now}",
        "Run `failover up`: it sets the boundary before it writes the role's policy.",
    )
