"""Lambda alias `live` per region: the published version the region's API invokes.

The function kind writes `$LATEST`; nothing serves it. This kind publishes
`$LATEST` as a version and points `live` at it, only when the version `live`
serves is not the desired release (code hash and configuration, judged the
way the function kind judges `$LATEST`: the environment as a merge, any
FORCE_FAIL value accepted). So a no-change `up` publishes nothing, and a
version never changes under a running alias: the API keeps serving the old
release until the alias moves.

Old versions are pruned to the newest live_alias.KEEP_VERSIONS (never the aliased one)
after each move. The alias goes with the function (DeleteFunction removes
versions and aliases), so `down` deletes nothing of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from failover_cli.aws.tags import is_owned
from failover_cli.engine.context import Context
from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.handler import Handler
from failover_cli.engine.model import FieldChange, Observed, Spec
from failover_cli.engine.secret import read_function
from failover_cli.resources.function import FunctionProps, comparable_environment
from failover_cli.resources.role import without_account
from failover_cli.services import live_alias

KIND = "alias"
ALIAS = live_alias.ALIAS


@dataclass(frozen=True)
class AliasProps:
    function_name: str
    release: tuple[tuple[str, Any], ...]  # what the live version must be (see release_of)
    function: FunctionProps | None = field(default=None, repr=False, compare=False)


def desired_release(props: FunctionProps) -> tuple[tuple[str, Any], ...]:
    return (
        ("code_sha256", props.code_sha256),
        ("runtime", props.runtime),
        ("architecture", props.architecture),
        ("memory", props.memory),
        ("timeout", props.timeout),
        ("handler", props.handler),
        ("role_arn", props.role_arn),
        ("environment", props.environment),
    )


def release_of(
    configuration: dict[str, Any], wanted: FunctionProps, account: str
) -> tuple[tuple[str, Any], ...]:
    """A version's GetFunctionConfiguration in desired_release's representation."""
    variables: dict[str, str] = (configuration.get("Environment") or {}).get("Variables") or {}
    return (
        ("code_sha256", configuration.get("CodeSha256")),
        ("runtime", configuration.get("Runtime")),
        ("architecture", (configuration.get("Architectures") or ["x86_64"])[0]),
        ("memory", configuration.get("MemorySize")),
        ("timeout", configuration.get("Timeout")),
        ("handler", configuration.get("Handler")),
        ("role_arn", without_account(configuration.get("Role", ""), account)),
        ("environment", comparable_environment(variables, wanted.environment)),
    )


def desired(inputs: DesiredInputs) -> list[Spec]:
    from failover_cli.resources import function

    specs: list[Spec] = []
    for fn_spec in function.desired(inputs):
        props: FunctionProps = fn_spec.props
        specs.append(
            Spec(
                KIND,
                fn_spec.region,
                ALIAS,
                AliasProps(fn_spec.name, desired_release(props), props),
                depends_on=(fn_spec.key,),
            )
        )
    return specs


class AliasHandler(Handler):
    kind = KIND
    # Only the release: versions that operational edits published are pruned by the
    # next release, so a no-change `up` changes nothing.
    compared_fields = ("release",)

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)

    def observe(self, ctx: Context, spec: Spec) -> Observed:
        props: AliasProps = spec.props
        answer = read_function(ctx, spec.region)  # memoized with the function kind's read
        if answer is None:
            return Observed.missing()
        owned = is_owned(answer.get("Tags") or {}, ctx.config.stack)
        alias = live_alias.read_alias(ctx, spec.region)
        if alias is None:
            return Observed.missing()
        lam = ctx.client("lambda", spec.region)
        version = alias["FunctionVersion"]
        configuration = lam.get_function_configuration(
            FunctionName=props.function_name, Qualifier=version
        )
        assert props.function is not None
        return Observed(
            exists=True,
            owned=owned,
            props={"release": release_of(configuration, props.function, ctx.account_id)},
            raw={"alias": alias, "version": version},
        )

    def create(self, ctx: Context, spec: Spec) -> None:
        self._release(ctx, spec, None)

    def update(
        self, ctx: Context, spec: Spec, observed: Observed, changes: list[FieldChange]
    ) -> None:
        self._release(ctx, spec, observed.raw["alias"])

    def _release(self, ctx: Context, spec: Spec, alias: dict[str, Any] | None) -> None:
        props: AliasProps = spec.props
        code = props.function.code_sha256 if props.function is not None else ""
        version = live_alias.publish(ctx, spec.region, code_sha256=code or None)
        before = (alias or {}).get("FunctionVersion", version)
        history = live_alias.moved_history(live_alias.history_of(alias), before, version)
        live_alias.point(ctx, spec.region, version, alias, history=history)
        live_alias.prune(ctx, spec.region, version, before)

    def deletes_separately(self, observed: Observed) -> bool:
        return False  # DeleteFunction takes its versions and aliases with it


HANDLER = AliasHandler()
