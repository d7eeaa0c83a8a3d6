"""The health-checker secret: generated on first `up`, read back from the functions after.

It lives only in the functions' environment (HEALTH_CHECKER_ID) and in the
health checks' paths, so every machine running `up` finds the same one.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from failover_cli.engine.context import Context

SECRET_VARIABLE = "HEALTH_CHECKER_ID"
NEXT_SECRET_VARIABLE = "HEALTH_CHECKER_ID_NEXT"


def new_secret() -> str:
    return secrets.token_hex(24)


def read_function(ctx: Context, region: str) -> dict[str, Any] | None:
    """GetFunction for the stack's function in `region` (None if missing), once per run.

    Shared by the secret lookup and the function handler's observe, so planning
    costs one GetFunction per region.
    """

    def read() -> dict[str, Any] | None:
        client = ctx.client("lambda", region)
        try:
            answer: dict[str, Any] = client.get_function(FunctionName=ctx.config.function.name)
        except client.exceptions.ResourceNotFoundException:
            return None
        return answer

    return ctx.memo(_function_key(region), read)


def forget_function(ctx: Context, region: str) -> None:
    """Drop the memoized GetFunction answer after changing the function."""
    ctx.forget(_function_key(region))


def _function_key(region: str) -> str:
    return f"get_function:{region}"


def existing_environment(ctx: Context, region: str) -> dict[str, str] | None:
    """The function's environment variables in `region`, or None when it does not exist."""
    answer = read_function(ctx, region)
    if answer is None:
        return None
    variables: dict[str, str] = answer["Configuration"].get("Environment", {}).get("Variables", {})
    return variables


def resolve_secret(ctx: Context) -> str:
    """The secret the deployed functions use, or a fresh one if none is deployed yet."""
    regions = ctx.config.regions
    with ThreadPoolExecutor(max_workers=len(regions)) as pool:
        environments = list(pool.map(lambda r: existing_environment(ctx, r), regions))
    for env in environments:  # primary first: it wins if regions disagree
        if env and env.get(SECRET_VARIABLE):
            return env[SECRET_VARIABLE]
    return new_secret()


def mask(secret: str) -> str:
    """Show enough to recognise a secret, never enough to use it."""
    return f"{secret[:4]}…" if len(secret) > 8 else "…"
