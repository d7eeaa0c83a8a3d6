"""Lambda function `<function.name>` per region: the same code and settings everywhere.

Two rules keep `up` from fighting the operational commands:

- The environment is compared and written as a merge. The variables `up`
  sets must be present with their desired values, except FORCE_FAIL, which
  `up` only adds when missing (`force-fail` owns its value). Variables `up`
  does not set (HEALTH_CHECKER_ID_NEXT during `rotate-secret`, anything added
  by hand) are never dropped.
- Code is uploaded only when Lambda's CodeSha256 differs from the bundle's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from failover_cli.aws.errors import error_code
from failover_cli.aws.retry import retry
from failover_cli.aws.tags import comparable_tags, is_owned
from failover_cli.bundle import HANDLER as HANDLER_NAME
from failover_cli.bundle import CodeBundle
from failover_cli.config.schema import Config
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import GLOBAL, FieldChange, Observed, Spec
from failover_cli.engine.secret import (
    NEXT_SECRET_VARIABLE,
    SECRET_VARIABLE,
    forget_function,
    mask,
    read_function,
)
from failover_cli.errors import ConflictError
from failover_cli.resources.role import role_arn, with_account, without_account

KIND = "function"
FORCE_FAIL = "FORCE_FAIL"
# Fields UpdateFunctionConfiguration changes (code and architecture go through UpdateFunctionCode).
_CONFIGURATION_FIELDS = {"runtime", "memory", "timeout", "handler", "role_arn", "environment"}


class SecretValue(str):
    """A secret that compares and is sent as itself but shows masked: plans print the repr
    of the environment's old and new values."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(mask(str(self)))


def _shown(key: str, value: str) -> str:
    return SecretValue(value) if key in (SECRET_VARIABLE, NEXT_SECRET_VARIABLE) else value


@dataclass(frozen=True)
class FunctionProps:
    runtime: str
    architecture: str
    memory: int
    timeout: int
    handler: str
    role_arn: str  # with the <account> placeholder (see role.py)
    code_sha256: str
    environment: tuple[tuple[str, str], ...]
    tags: tuple[tuple[str, str], ...]
    reserved_concurrency: int | None = None  # None: no reservation (the account's shared pool)
    code: CodeBundle | None = field(default=None, repr=False, compare=False)  # uploaded


def environment(config: Config, secret: str) -> dict[str, str]:
    """The variables `up` sets; the stack's own win over `function.environment`."""
    table = config.table
    key = {table.partition_key: table.seed_item.get(table.partition_key, "")}
    attribute = next((k for k in table.seed_item if k != table.partition_key), "")
    return {
        **config.function.environment,
        "TABLE_NAME": table.name,
        "DEEP_PING_PERCENT": str(config.function.deep_ping_percent),
        FORCE_FAIL: "false",
        SECRET_VARIABLE: SecretValue(secret),
        "DEEP_PING_KEY": json.dumps(key, separators=(",", ":"), sort_keys=True),
        "DEEP_PING_ATTRIBUTE": attribute,
    }


def comparable_environment(
    observed: dict[str, str], wanted: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """The observed environment seen the way `up` judges it: only the desired keys, and
    any FORCE_FAIL value counts as the desired one."""
    result = []
    for key, value in wanted:
        if key not in observed:
            continue
        result.append((key, value if key == FORCE_FAIL else _shown(key, observed[key])))
    return tuple(result)


def merged_environment(
    current: dict[str, str], wanted: tuple[tuple[str, str], ...]
) -> dict[str, str]:
    """What to write: the current variables, with the desired ones set (FORCE_FAIL kept)."""
    merged = dict(current)
    for key, value in wanted:
        if key == FORCE_FAIL and key in merged:
            continue
        merged[key] = value
    return merged


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    fn = config.function
    code = inputs.code
    props = FunctionProps(
        runtime=fn.runtime,
        architecture=fn.architecture,
        memory=fn.memory_mb,
        timeout=fn.timeout_s,
        handler=HANDLER_NAME,
        role_arn=role_arn(config.role_name),
        code_sha256=code.sha256 if code is not None else "",  # `down` needs no bundle
        environment=tuple(sorted(environment(config, inputs.secret).items())),
        tags=tuple(sorted(config.ownership_tags().items())),
        reserved_concurrency=fn.reserved_concurrency,
        code=code,
    )
    return [
        Spec(
            KIND,
            region,
            fn.name,
            props,
            depends_on=(
                f"role:{GLOBAL}:{config.role_name}",
                f"log_group:{region}:{config.log_group_name}",
            ),
        )
        for region in config.regions
    ]


def role_not_ready(error: Exception) -> bool:
    """The one CreateFunction error that means "IAM has not propagated the new role yet"."""
    return (
        isinstance(error, ClientError)
        and error_code(error) == "InvalidParameterValueException"
        and "cannot be assumed by Lambda" in str(error)
    )


class FunctionHandler(Handler):
    kind = KIND
    compared_fields = (
        "runtime",
        "architecture",
        "memory",
        "timeout",
        "handler",
        "role_arn",
        "code_sha256",
        "environment",
        "tags",
        "reserved_concurrency",
    )

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: FunctionProps = spec.props
        answer = read_function(ctx, spec.region)  # memoized: shared with the secret lookup
        if answer is None:
            return Observed.missing()
        conf = answer["Configuration"]
        tags: dict[str, str] = answer.get("Tags") or {}
        variables: dict[str, str] = (conf.get("Environment") or {}).get("Variables") or {}
        return Observed(
            exists=True,
            owned=is_owned(tags, ctx.config.stack),
            props={
                "runtime": conf.get("Runtime"),
                "architecture": (conf.get("Architectures") or ["x86_64"])[0],
                "memory": conf.get("MemorySize"),
                "timeout": conf.get("Timeout"),
                "handler": conf.get("Handler"),
                "role_arn": without_account(conf.get("Role", ""), ctx.account_id),
                "code_sha256": conf.get("CodeSha256"),
                "environment": comparable_environment(variables, props.environment),
                "tags": comparable_tags(tags, props.tags),
                "reserved_concurrency": (answer.get("Concurrency") or {}).get(
                    "ReservedConcurrentExecutions"
                ),
            },
            raw={"arn": conf["FunctionArn"], "tags": tags},
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        props: FunctionProps = spec.props
        lam = ctx.client("lambda", spec.region)

        def create_function() -> None:
            lam.create_function(
                FunctionName=spec.name,
                Runtime=props.runtime,
                Role=with_account(props.role_arn, ctx.account_id),
                Handler=props.handler,
                Code={"ZipFile": _zip(props)},
                Timeout=props.timeout,
                MemorySize=props.memory,
                Architectures=[props.architecture],
                Environment={"Variables": dict(props.environment)},
                Tags=dict(props.tags),
                Publish=False,
            )

        said: list[bool] = []

        def waiting(_error: Exception, _pause: float) -> None:
            if not said:  # one line for the whole wait, not one per retry
                said.append(True)
                ctx.progress(
                    spec.where, "waiting for the new IAM role to propagate (retrying until it has)"
                )

        try:
            # A role created seconds ago may not be assumable yet (IAM is eventually consistent).
            retry(create_function, retryable=role_not_ready, clock=ctx.clock, on_retry=waiting)
        except lam.exceptions.ResourceConflictException:
            self._converge_existing(ctx, spec)
            return
        finally:
            forget_function(ctx, spec.region)
        lam.get_waiter("function_active_v2").wait(FunctionName=spec.name)
        if props.reserved_concurrency is not None:
            _reserve(lam, spec.name, props.reserved_concurrency)

    def _converge_existing(self, ctx: Context, spec: Spec) -> None:
        """CreateFunction found it already there (an interrupted run): converge if ours."""
        forget_function(ctx, spec.region)
        seen = self.observe(ctx, spec)
        if not seen.owned:
            raise ConflictError(
                f"Lambda function {spec.name} appeared meanwhile without the stack's tags",
                region=spec.where,
            )
        changes = self.diff(spec, seen)
        if changes:
            self.update(ctx, spec, seen, changes)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        props: FunctionProps = spec.props
        lam = ctx.client("lambda", spec.region)
        changed = {c.field for c in changes}
        updated = lam.get_waiter("function_updated_v2")
        try:
            # Lambda refuses a change while another one is in progress.
            updated.wait(FunctionName=spec.name)
            if changed & {"code_sha256", "architecture"}:
                lam.update_function_code(
                    FunctionName=spec.name,
                    ZipFile=_zip(props),
                    Architectures=[props.architecture],
                    Publish=False,
                )
                updated.wait(FunctionName=spec.name)
            if changed & _CONFIGURATION_FIELDS:
                self._update_configuration(ctx, lam, spec)
                updated.wait(FunctionName=spec.name)
            if "tags" in changed:
                lam.tag_resource(Resource=observed.raw["arn"], Tags=dict(props.tags))
            if "reserved_concurrency" in changed:
                _reserve(lam, spec.name, props.reserved_concurrency)
        finally:
            forget_function(ctx, spec.region)

    def _update_configuration(self, ctx: Context, lam: Any, spec: Spec) -> None:
        props: FunctionProps = spec.props
        # UpdateFunctionConfiguration replaces the whole environment: read it fresh (force-fail
        # may have changed it since observe), merge, write.
        current = lam.get_function_configuration(FunctionName=spec.name)
        variables = (current.get("Environment") or {}).get("Variables") or {}
        lam.update_function_configuration(
            FunctionName=spec.name,
            Runtime=props.runtime,
            Role=with_account(props.role_arn, ctx.account_id),
            Handler=props.handler,
            Timeout=props.timeout,
            MemorySize=props.memory,
            Environment={"Variables": merged_environment(variables, props.environment)},
        )

    def delete(self, ctx: Context, spec: Spec, observed: Observed) -> None:
        lam = ctx.client("lambda", spec.region)
        try:
            lam.delete_function(FunctionName=spec.name)
        except lam.exceptions.ResourceNotFoundException:
            pass  # already gone
        finally:
            forget_function(ctx, spec.region)


def _reserve(lam: Any, name: str, concurrency: int | None) -> None:
    """Set the function's reserved concurrency, or remove it (None): a cap on how much of the
    account's concurrency strangers calling the open API can take, and a floor for the function."""
    if concurrency is None:
        lam.delete_function_concurrency(FunctionName=name)
    else:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=concurrency)


def _zip(props: FunctionProps) -> bytes:
    if props.code is None:
        raise RuntimeError("the function spec was built without a code bundle")
    return props.code.zip_bytes


HANDLER = FunctionHandler()
