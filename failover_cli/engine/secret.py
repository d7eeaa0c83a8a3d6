"""The health-checker secret: generated on first `up`, read back from the functions after.

It lives only in the functions' environment (HEALTH_CHECKER_ID) and in the
health checks' paths, so every machine running `up` finds the same one.
"""

from __future__ import annotations

import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from failover_cli.engine.context import Context
from failover_cli.errors import AwsError
from failover_cli.errors import mask as mask  # re-exported: callers mask secrets from here

SECRET_VARIABLE = "HEALTH_CHECKER_ID"
NEXT_SECRET_VARIABLE = "HEALTH_CHECKER_ID_NEXT"


def new_secret() -> str:
    return secrets.token_hex(24)


def fingerprint(secret: str) -> str:
    """A short, one-way name for a secret ("sha256:1a2b3c4d"), so a person sees that a
    rotation changed it; the secret (48 random hex digits) cannot be found from it."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:8]


def read_function(ctx: Context, region: str) -> dict[str, Any] | None:
    """GetFunction for the stack's function in `region` (None if missing), once per run.

    Shared by the secret lookup and the function handler's observe, so planning
    costs one GetFunction per region. The answer always holds the function's `Tags`
    (ownership): when they cannot be read, this raises instead of returning none.
    """

    def read() -> dict[str, Any] | None:
        client = ctx.client("lambda", region)
        try:
            answer: dict[str, Any] = client.get_function(FunctionName=ctx.config.function.name)
        except client.exceptions.ResourceNotFoundException:
            return None
        return _with_tags(client, region, answer)

    return ctx.memo(_function_key(region), read)


def _with_tags(client: Any, region: str, answer: dict[str, Any]) -> dict[str, Any]:
    """`answer` with certain `Tags`: ownership unknown must never read as "not owned".

    GetFunction returns the tags only to a caller allowed `lambda:ListTags`; without it
    the answer carries `TagsError` and no `Tags` (and succeeds), which would make every
    function look unowned: `down` would leave them all and `up` never update them.
    An untagged function's answer has no `Tags` either, so then ListTags settles it
    (an AccessDenied there names lambda:ListTags too). Only look-alikes pay that call.
    See https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html
    """
    configuration = answer["Configuration"]
    if "TagsError" in answer:
        problem = answer["TagsError"] or {}
        code = str(problem.get("ErrorCode") or "AccessDeniedException")
        raise AwsError(
            f"GetFunction answered without the tags of function {configuration['FunctionName']} "
            f"({code}: {problem.get('Message') or 'no message'}): the identity in use lacks "
            "the IAM permission lambda:ListTags, so failover cannot tell whether the function "
            "is this stack's and changes nothing",
            operation="GetFunction",
            code=code,
            region=region,
            hint="Grant lambda:ListTags to it (`failover iam-policy` prints all), then re-run.",
        )
    if "Tags" in answer:
        return answer
    tags = client.list_tags(Resource=configuration["FunctionArn"]).get("Tags") or {}
    return {**answer, "Tags": tags}


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


def reachable_secret(ctx: Context, wait: float = 8.0) -> str:
    """The deployed secret, read from whichever region answers (the primary's preferred);
    a region whose Lambda API does not answer within `wait` is skipped, so the request
    through the domain still works while one region is out. Fails only when none answers.
    """
    from concurrent.futures import TimeoutError as FutureTimeout

    from failover_cli.aws.deadlines import READ_ONLY
    from failover_cli.aws.outage import start

    def read(region: str) -> str | None:
        lam = ctx.client("lambda", region, READ_ONLY)
        answer = lam.get_function_configuration(FunctionName=ctx.config.function.name)
        variables: dict[str, str] = (answer.get("Environment") or {}).get("Variables") or {}
        return variables.get(SECRET_VARIABLE)

    futures = [start(lambda r=r: read(r), name="secret") for r in ctx.config.regions]  # type: ignore[misc]
    errors: list[BaseException] = []
    for future in futures:  # primary first; the others have been reading meanwhile
        try:
            found = future.result(timeout=wait)
        except FutureTimeout as error:
            errors.append(error)
            continue
        except Exception as error:
            errors.append(error)
            continue
        if found:
            return found
    if errors:
        raise errors[0]
    return ""
