"""The rules a config value must follow, as pure checks.

Each check takes a value already of the right type and returns None when it
is fine, or the problem as the end of a sentence that starts with the key
("must be 1 to 64 characters of …"). Limits come from the AWS services that
will receive the value, so `validate` catches offline what AWS would reject.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from failover_cli.config.nodes import show, suggest

RUNTIMES = ("python3.12", "python3.13", "python3.14")
ARCHITECTURES = ("arm64", "x86_64")
BILLING_MODES = ("provisioned", "on-demand")
ROUTINGS = ("latency", "failover")
HEALTH_CHECK_INTERVALS = (10, 30)
# CloudWatch Logs PutRetentionPolicy accepts exactly these.
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
# Variables the tool itself puts in the function's environment.
TOOL_ENV_NAMES = (
    "TABLE_NAME", "DEEP_PING_PERCENT", "FORCE_FAIL", "HEALTH_CHECKER_ID",
    "HEALTH_CHECKER_ID_NEXT", "DEEP_PING_KEY", "DEEP_PING_ATTRIBUTE",
)  # fmt: skip
# Lambda rejects the whole environment above 4 KB; keep 1 KB for the tool's own variables.
USER_ENV_MAX_BYTES = 3072
# Lambda's concurrency quota starts at 1,000 per region and can be raised; AWS itself refuses a
# reservation that leaves the account under 100 unreserved, so this only stops absurd values.
MAX_RESERVED_CONCURRENCY = 100_000
MAX_USER_TAGS = 40  # resources allow 50 tags; the two ownership tags and headroom need the rest
OWNERSHIP_TAG_KEYS = ("failover:stack", "failover:managed-by")
SEED_VALUE_MAX = (
    1024  # the deep-ping answer must keep the search string in Route 53's first 5,120 bytes
)
ACM_FIRST_NAME_MAX = 64  # ACM puts the first domain name in the certificate's CN: 64 octets at most

_STACK = re.compile(r"[a-z][a-z0-9-]{0,31}")
_TABLE = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
_FUNCTION = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_STAGE = re.compile(r"[a-zA-Z0-9_]{1,128}")
# Lambda's own rule (EnvironmentVariableName): a letter first, at least two characters.
_ENV_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]+")
_BASE_PATH = re.compile(r"[a-zA-Z0-9._-]+")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
# The characters every AWS tagging API accepts in keys and values.
_TAG_TEXT = re.compile(r"[\w .:/=+\-@]*")


def one_of(value: object, choices: Sequence[object]) -> str | None:
    if value in choices:
        return None
    if not isinstance(value, str):
        return f"is {value}; allowed: {', '.join(str(c) for c in choices)}"
    hint = suggest(value, [str(c) for c in choices])
    return f"is {show(value)}{hint}; allowed: {', '.join(str(c) for c in choices)}"


def in_range(value: int, low: int, high: int, unit: str = "", why: str = "") -> str | None:
    if low <= value <= high:
        return None
    suffix = f" {unit}" if unit else ""
    return f"is {value}; it must be between {low} and {high}{suffix}{why}"


def stack_name(value: str) -> str | None:
    if _STACK.fullmatch(value):
        return None
    return (
        f"is {show(value)}; a stack name is 1 to 32 characters: a lowercase letter, then "
        "lowercase letters, digits or hyphens"
    )


def table_name(value: str) -> str | None:
    if _TABLE.fullmatch(value):
        return None
    return (
        f"is {show(value)}; a DynamoDB table name is 3 to 255 characters of letters, digits, "
        "underscores, hyphens or dots"
    )


def attribute_name(value: str) -> str | None:
    size = len(value.encode())
    if 1 <= size <= 255:
        return None
    return f"is {size} bytes long; a DynamoDB key attribute name is 1 to 255 bytes"


def function_name(value: str) -> str | None:
    if _FUNCTION.fullmatch(value):
        return None
    return (
        f"is {show(value)}; a Lambda function name is 1 to 64 characters of letters, digits, "
        "hyphens or underscores"
    )


def stage_name(value: str) -> str | None:
    if _STAGE.fullmatch(value):
        return None
    return f"is {show(value)}; a stage name is 1 to 128 letters, digits or underscores"


def env_name(name: str) -> str | None:
    """Problem with an environment variable *name* (None when the name may be used)."""
    if not _ENV_NAME.fullmatch(name):
        return (
            "is not a valid variable name; Lambda wants a letter first, then at least one "
            "more letter, digit or underscore"
        )
    if name.upper().startswith("AWS_"):
        return "starts with AWS_, which Lambda reserves for its own variables; choose another name"
    if name in TOOL_ENV_NAMES:
        return (
            f"is set by failover itself (it sets {', '.join(TOOL_ENV_NAMES)}); choose another name"
        )
    if name in ("LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"):
        return "is reserved by the Lambda runtime; choose another name"
    return None


def base_path(value: str) -> str | None:
    if value in (".", ".."):
        return (
            f"is {show(value)}, a path segment that HTTP clients remove from every URL, so "
            "nothing could reach the API under it; use a name such as v1, or empty for none"
        )
    if value == "" or _BASE_PATH.fullmatch(value):
        return None
    return (
        f"is {show(value)}; a base path is letters, digits, dots, underscores or hyphens "
        "(no slashes), or empty for none"
    )


def dns_name(value: str) -> str | None:
    """Problem with a DNS name written without the trailing dot (lowercase, at least two labels)."""
    if value != value.lower():
        return f"is {show(value)}; write DNS names in lowercase"
    if len(value) > 253:
        return f"is {len(value)} characters long; a DNS name is at most 253"
    labels = value.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return (
            f"is {show(value)}, which is not a DNS name; use dot-separated labels of 1 to 63 "
            "lowercase letters, digits or inner hyphens, e.g. hello.example.com"
        )
    return None


def within_zone(name: str, zone: str) -> bool:
    """True when `name` is the zone's apex or any name below it."""
    return name == zone or name.endswith("." + zone)


# An IAM managed policy: a customer one (account id) or an AWS one (`aws`), with a path.
_POLICY_ARN = re.compile(r"arn:aws:iam::(\d{12}|aws):policy/([\w+=,.@-]+/)*[\w+=,.@-]{1,128}")


def policy_arn(value: str) -> str | None:
    if len(value) <= 2048 and _POLICY_ARN.fullmatch(value):
        return None
    return (
        f"is {show(value)}, which is not an IAM managed policy ARN like "
        "arn:aws:iam::123456789012:policy/failover-boundary"
    )


def email(value: str) -> str | None:
    if len(value) <= 254 and _EMAIL.fullmatch(value):
        return None
    return f"is {show(value)}, which is not an e-mail address like ops@example.com"


def tag_key(key: str) -> str | None:
    if not 1 <= len(key) <= 128:
        return f"is a tag key of {len(key)} characters; tag keys are 1 to 128 characters"
    if key.lower().startswith("aws:"):
        return "starts with aws:, which AWS reserves for its own tags; choose another key"
    if key in OWNERSHIP_TAG_KEYS:
        return (
            f"is an ownership tag that failover sets itself ({', '.join(OWNERSHIP_TAG_KEYS)}); "
            "choose another key"
        )
    skeleton = _skeleton(key)
    if skeleton.startswith("aws:") or skeleton in OWNERSHIP_TAG_KEYS:
        like = "aws:" if skeleton.startswith("aws:") else skeleton
        return (
            f"looks like {like} but is written with other characters (another case, "
            "full-width or Cyrillic/Greek look-alike letters), which would mislead whoever "
            "reads the tags; choose a plainly different key"
        )
    if not _TAG_TEXT.fullmatch(key):
        return (
            "has characters AWS tags do not allow; use letters, digits, spaces and _ . : / = + - @"
        )
    return None


# Cyrillic and Greek letters that look like Latin ones (NFKC already folds full-width forms).
_LOOK_ALIKES = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u04cf\u043a"
    "\u03b1\u03bf\u03bd\u03b9\u03ba\u03c1\u03c4\u0131",
    "aeopcyxijsdlkaovikpti",
)


def _skeleton(text: str) -> str:
    """`text` reduced to what it looks like: compatibility forms, case and look-alikes folded."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_LOOK_ALIKES)


def tag_value(value: str) -> str | None:
    if len(value) > 256:
        return f"is {len(value)} characters long; tag values are at most 256 characters"
    if not _TAG_TEXT.fullmatch(value):
        return (
            "has characters AWS tags do not allow; use letters, digits, spaces and _ . : / = + - @"
        )
    return None


def distinct(values: Sequence[str]) -> list[int]:
    """Indexes of values that repeat an earlier one."""
    seen: set[str] = set()
    repeats = []
    for index, value in enumerate(values):
        if value in seen:
            repeats.append(index)
        seen.add(value)
    return repeats
