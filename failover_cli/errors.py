"""The tool's own errors: each knows its exit code and renders as one paragraph.

`main()` prints them without a traceback (unless -v). AWS errors are translated
into these at one boundary (`failover_cli.aws.errors.translate`).
"""

from __future__ import annotations

import re
from enum import IntEnum

# The health-checker secret as it appears in requests and in what prints them: the check's
# path (`healthCheckerId=`, URL-encoded once `%3D` or twice `%253D`), the functions'
# environment (JSON, Python repr, KEY=value, any of them URL-encoded), a query parsed into pairs
# (`('healthCheckerId', '…')`) or lists (`"healthCheckerId": ["…"]`), JSON inside JSON
# (`\"healthCheckerId\": \"…\"`), in any casing. AWS errors sometimes quote the request
# they refuse, and the functions' logs may print the event they were given.
_SECRET_KEY = r"health[_-]?checker[_-]?id(?:[_-]?next)?"
_QUOTE = r"(?:\\?[\"']|%(?:25)*2[27])"
_QUOTED_SECRET = re.compile(
    rf"((?:{_SECRET_KEY}{_QUOTE}?\s*(?:[:=]|%(?:25)*3[AD])\s*\[?\s*{_QUOTE}?)"
    rf"|(?:{_SECRET_KEY}{_QUOTE}\s*,\s*{_QUOTE}))"
    # The value ends where the text around it resumes (a quote, a separator, an encoded &).
    r"((?:(?!%(?:25)*2[267C])[^\s\"'&,;}\]<>\\])+)",
    re.IGNORECASE,
)


def mask(secret: str) -> str:
    """A secret as shown anywhere: a fixed `****` and its length, no character of it
    (even a prefix narrows a brute force and links logs to one secret)."""
    return f"****({len(secret)})"


def redact(text: str) -> str:
    """`text` with every health-checker secret it quotes masked like `mask()` does."""
    return _QUOTED_SECRET.sub(lambda m: m.group(1) + mask(m.group(2)), text)


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # an AWS error the tool could not get past
    BAD_INPUT = 2  # usage, config, missing credentials; nothing changed in AWS
    DEGRADED = 3  # status degraded / plan has pending changes


class FailoverError(Exception):
    """Base error: `message` says what failed, `hint` what to do about it."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, hint: str | None = None, region: str | None = None):
        message = redact(message)  # AWS messages are embedded here: they may quote a secret
        super().__init__(message)
        self.message = message
        self.hint = redact(hint) if hint else hint
        self.region = region

    def render(self) -> str:
        where = f" (in {self.region})" if self.region else ""
        text = f"{self.message}{where}."
        text = text.replace("..", ".")
        if self.hint:
            text += f" {self.hint}"
        return text


class BadInput(FailoverError):
    """Bad usage or arguments: exit 2, nothing changed."""

    exit_code = ExitCode.BAD_INPUT


class ConfigError(BadInput):
    """A config problem, located as `file:line: key: what is wrong`."""

    def __init__(self, path: str, line: int | None, key: str, problem: str):
        loc = f"{path}:{line}" if line else path
        super().__init__(f"{loc}: {key}: {problem}")
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem

    def render(self) -> str:
        return self.message


class CredentialsError(BadInput):
    """No usable AWS credentials: exit 2."""


class AwsError(FailoverError):
    """An AWS call failed in a way the tool could not get past: exit 1."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        code: str = "",
        region: str | None = None,
        hint: str | None = None,
    ):
        super().__init__(message, hint=hint, region=region)
        self.operation = operation
        self.code = code


class ConflictError(FailoverError):
    """A resource with the stack's name exists but is not owned by the stack."""


class TimeoutExpired(FailoverError):
    """A wait did not finish within its budget."""
