"""What a doctor check is, and what every check uses: a verdict, one line, a fix.

A check whose answer cannot be read says "could not check" (`reason`) instead of
failing the run; a region not enabled for the account says so by name.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from failover_cli.aws.errors import error_code
from failover_cli.engine.context import Context
from failover_cli.errors import FailoverError

# What AWS answers for a region not enabled for the account (an opt-in region):
# https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html
REGION_DISABLED = "region not enabled"
_REGION_DISABLED_CODES = {"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure"}


class Verdict(enum.Enum):
    OK = "ok"
    WARN = "warn"  # works, but the user should know (pending e-mail, little headroom)
    FAIL = "fail"  # something `up` or an operation will meet
    UNKNOWN = "could not check"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    name: str
    verdict: Verdict
    detail: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "check": self.name,
            "verdict": self.verdict.value,
            "detail": self.detail,
            "fix": self.fix,
        }


def each_region(ctx: Context, read: Callable[[Context, str], Any]) -> dict[str, tuple[Any, Any]]:
    """`read(ctx, region)` in every region (memoised per run): (answer, None) or
    (None, the error)."""

    def one(region: str) -> tuple[Any, Any]:
        try:
            key = f"doctor:{read.__name__}:{region}"
            return ctx.memo(key, lambda: read(ctx, region)), None
        except Exception as error:  # said as "could not check" by the caller
            code = error_code(error)
            return None, REGION_DISABLED if code in _REGION_DISABLED_CODES else reason(error)

    regions = list(ctx.config.regions)
    with ThreadPoolExecutor(max_workers=len(regions)) as pool:
        return dict(zip(regions, pool.map(one, regions), strict=True))


def reason(error: BaseException) -> str:
    """One short line: AWS's answer may be a whole HTML page (an API the endpoint lacks)."""
    from failover_cli.aws.errors import translate

    translated = translate(error)
    text = translated.message if isinstance(translated, FailoverError) else str(error)
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"could not check: {first[:160]}"
