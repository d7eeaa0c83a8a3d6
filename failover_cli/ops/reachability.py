"""Before a command changes anything: does every region answer? And when one stops answering
midway, the one paragraph that says what was and was not done.

Each region's Lambda API is asked for the stack's function with the read-only
deadline, all regions at once: a region whose endpoints hang, refuse or answer
only 5xx is known within LAMBDA_WAIT seconds instead of after a mutating call's
budget. A missing function is an answer (the region is up).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from failover_cli.aws.deadlines import READ_ONLY
from failover_cli.aws.outage import Unreachable, answer_within, outage_region
from failover_cli.engine.context import Context
from failover_cli.errors import FailoverError
from failover_cli.ops.function_environment import read_configuration, variables_of

LAMBDA_WAIT = 12.0  # seconds a region's Lambda API gets to answer before it counts as out


@dataclass(frozen=True)
class FunctionRead:
    """The region's function environment, or why it could not be read."""

    variables: dict[str, str] | None
    unreachable: Unreachable | None = None


def read_function_within(ctx: Context, region: str, seconds: float = LAMBDA_WAIT) -> FunctionRead:
    """The function's variables, read with the read-only deadline and a wall time."""
    try:
        configuration = answer_within(
            lambda: read_configuration(ctx, region, READ_ONLY),
            seconds,
            region=region,
            what="its Lambda API",
        )
    except Unreachable as why:
        return FunctionRead(None, why)
    return FunctionRead(variables_of(configuration))


def unreachable_regions(
    ctx: Context, regions: list[str] | None = None, wait: float = LAMBDA_WAIT
) -> dict[str, Unreachable]:
    """{region: why} for each region whose Lambda API gives no answer within `wait`."""
    regions = list(regions or ctx.config.regions)

    def probe(region: str) -> Unreachable | None:
        try:
            return read_function_within(ctx, region, wait).unreachable
        except FailoverError:  # "the function does not exist" is an answer
            return None

    with ThreadPoolExecutor(max_workers=max(len(regions), 1)) as pool:
        found = dict(zip(regions, pool.map(probe, regions), strict=True))
    return {r: why for r, why in found.items() if why is not None}


def require_reachable(ctx: Context, command: str) -> None:
    """Stop (exit 1) before any change when a region does not answer."""
    out = unreachable_regions(ctx)
    if out:
        raise FailoverError(
            f"{_sentences(out)}. `{command}` changed nothing",
            hint=f"Re-run `failover {command}` once {_names(out)} answers.",
        )


@dataclass(frozen=True)
class Progress:
    """What a mutating command had done when an outage stopped it."""

    done: list[str]
    not_done: list[str]


def applied_progress(pending: list[str], error: BaseException) -> Progress:
    """Done and not done, from the plan's pending changes and what the runner noted on the
    error (`applied`, an ApplyReport) before it was raised."""
    report = getattr(error, "applied", None)
    done = [c.describe() for c, _ in getattr(report, "done", [])]
    return Progress(_listed(done), _listed([p for p in pending if p not in done]))


def _listed(items: list[str], most: int = 6) -> list[str]:
    """At most `most` items, then how many more (a paragraph, not a log)."""
    return items if len(items) <= most else [*items[:most], f"{len(items) - most} more"]


def stopped_by_outage(
    command: str, error: BaseException, progress: Progress | None = None
) -> FailoverError | None:
    """The paragraph for a command stopped by a region that no longer answers, or None
    when `error` is not an outage. Every step is find-or-create or accepts "gone", so a
    re-run finishes what was started."""
    region = outage_region(error)
    if region is None:
        return None
    first = (str(error).splitlines() or [type(error).__name__])[0].rstrip(".")
    what = f"`{command}` stopped: {region or 'a region'} is unreachable ({first})"
    if progress is not None:
        done = "; ".join(progress.done) if progress.done else "nothing"
        pending = "; ".join(progress.not_done) if progress.not_done else "nothing"
        what += f". Done: {done}. Not done: {pending}"
    return FailoverError(
        what,
        hint=f"Nothing is half-written that a re-run cannot finish: run `failover {command}` "
        f"again once {region or 'the region'} answers; it resumes where it stopped.",
    )


def _sentences(out: dict[str, Unreachable]) -> str:
    return "; ".join(str(why).rstrip(".") for why in out.values())


def _names(out: dict[str, Unreachable]) -> str:
    return " and ".join(out)
