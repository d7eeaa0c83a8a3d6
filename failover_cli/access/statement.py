"""The allow-list's REST API resource policy as data and text; standard library only.

Two statements (API Gateway Developer Guide, "API Gateway resource policy
examples", source IP example): an Allow of `execute-api:Invoke` on the whole
API (once a policy exists, API Gateway needs an explicit Allow), and a Deny on
the restricted routes for every address `NotIpAddress` the allow-list. The
Deny's Sid carries the ranges document's `syncToken`, so `status` can tell which
document the deployed list came from.

`routes: health` restricts `/health` (and `/health/`, which the function also
answers as health); `all` restricts every route. Adjacent and nested prefixes
are merged.

Standard library only: the self-refreshing function (`access.auto_refresh`)
ships this file in its zip, so `up` and the function build the same policy.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

INVOKE_SID = "FailoverInvoke"
DENY_SID = "FailoverAllowList"  # + the document's syncToken
HEALTH_RESOURCES = ("execute-api:/*/*/health", "execute-api:/*/*/health/*")
ALL_RESOURCES = ("execute-api:/*",)
MAX_POLICY_BYTES = 8192  # API Gateway quota: resource policy size
SERVICE = "ROUTE53_HEALTHCHECKS"
GLOBAL = "GLOBAL"  # Route 53 health checkers not tied to one region
_EXPANDED = "arn:aws:execute-api:ap-southeast-2:123456789012:abcdefghij/"


@dataclass(frozen=True)
class AllowList:
    """What the policy says: who may call (merged CIDRs) and which routes are guarded."""

    cidrs: tuple[str, ...]
    resources: tuple[str, ...]
    sync_token: str = ""  # of the ranges document the checker prefixes came from
    # Read back: False when the deployed document says anything else than failover's
    # policy for these CIDRs and routes (an effect, principal, action, condition or
    # statement changed or added): drift, rewritten like any other difference.
    exact: bool = True


def merge(cidrs: Iterable[str]) -> tuple[str, ...]:
    """Prefixes merged where adjacent or nested; IPv4 first, each family in address order."""
    networks = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    v4 = ipaddress.collapse_addresses(n for n in networks if n.version == 4)
    v6 = ipaddress.collapse_addresses(n for n in networks if n.version == 6)
    return tuple(str(n) for n in [*v4, *v6])


def checker_prefixes(
    document: dict[str, Any], regions: Iterable[str] | None = None
) -> list[tuple[str, str]]:
    """(region, CIDR) of the ROUTE53_HEALTHCHECKS entries of `regions` (None: all) and
    GLOBAL, in document order; ValueError/KeyError/TypeError/AttributeError when the
    document is not AWS's shape."""
    wanted = None if regions is None else {*regions, GLOBAL}
    found: list[tuple[str, str]] = []
    for key, field in (("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")):
        for entry in document.get(key) or []:
            region = str(entry.get("region") or GLOBAL)
            if entry.get("service") == SERVICE and (wanted is None or region in wanted):
                found.append((region, str(ipaddress.ip_network(entry[field]))))
    return found


# Wider than these is no checker's range: such a document would open the API to a
# good part of the Internet (AWS's ROUTE53_HEALTHCHECKS prefixes are /26 and /46 today).
WIDEST_PREFIX = {4: 8, 6: 32}


def document_problem(prefixes: list[tuple[str, str]], regions: Iterable[str]) -> str | None:
    """Why checker prefixes cannot make an allow-list for these checker regions (None: they
    can): a region without a prefix of its own would fail its checks, and a prefix wider
    than WIDEST_PREFIX is not a checker's."""
    listed = {region for region, _ in prefixes}
    missing = [r for r in regions if r not in listed]
    if missing:
        return f"lists no {SERVICE} prefix for the checker region(s) {', '.join(missing)}"
    for region, cidr in prefixes:
        network = ipaddress.ip_network(cidr, strict=False)
        if network.prefixlen < WIDEST_PREFIX[network.version]:
            widest = WIDEST_PREFIX[network.version]
            return f"lists {cidr} for {region}, wider than /{widest}: not a checker's range"
    return None


def policy_text(allow: AllowList) -> str:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": INVOKE_SID,
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "execute-api:/*",
            },
            {
                "Sid": f"{DENY_SID}{allow.sync_token if allow.sync_token.isdigit() else ''}",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": list(allow.resources),
                "Condition": {"NotIpAddress": {"aws:SourceIp": list(allow.cidrs)}},
            },
        ],
    }
    return json.dumps(document, separators=(",", ":"))


def policy_size(text: str) -> int:
    """Bytes as API Gateway stores the policy: `execute-api:/` expanded to the API's ARN
    (the longest region name, to be safe)."""
    return len(text.replace("execute-api:/", _EXPANDED).encode())


def read_policy(text: str | None) -> AllowList | None:
    """The allow-list of a deployed policy written by failover; None when there is none."""
    if not text:
        return None
    document = _parse(text)
    if document is None:
        return None
    statements = document.get("Statement") or []
    statements = statements if isinstance(statements, list) else [statements]
    invoke = deny = None
    for statement in statements:
        sid = str(statement.get("Sid") or "") if isinstance(statement, dict) else ""
        if sid == INVOKE_SID:
            invoke = statement
        elif sid.startswith(DENY_SID):
            deny = statement
    if deny is None or invoke is None:
        return None
    condition = (deny.get("Condition") or {}).get("NotIpAddress") or {}
    cidrs: Any = next((v for k, v in condition.items() if str(k).lower() == "aws:sourceip"), [])
    found = AllowList(
        cidrs=merge(_listed(cidrs)),
        resources=tuple(sorted(_shorthand(r) for r in _listed(deny.get("Resource")))),
        sync_token=str(deny.get("Sid"))[len(DENY_SID) :],
    )
    ours = _parse(policy_text(found))
    assert ours is not None
    return replace(found, exact=_canonical(document) == _canonical(ours))


def comparable(allow: AllowList | None) -> tuple[tuple[str, ...], tuple[str, ...], bool] | None:
    """What decides whether the deployed policy must change: the whole document but the
    ranges document's token (CIDRs, routes, and whether anything else was changed)."""
    if allow is None:
        return None
    return allow.cidrs, tuple(sorted(allow.resources)), allow.exact


# API Gateway applies a policy only from the stage's next deployment, and shows no API
# that says which policy a deployment carries: each deployment failover makes names, in
# its description, the meaning of the policy the API held when it was made, so that a
# policy written but never deployed (a run cut between the two calls) is seen as such.
DEPLOYED_MARK = "allow-list "


def deployment_description(what: str, policy: str | None) -> str:
    """`what` (who deployed) and the mark of the REST API's `policy` text being deployed."""
    return f"{what}; {DEPLOYED_MARK}{policy_mark(read_policy(policy))}"


def policy_mark(allow: AllowList | None) -> str:
    """A short, stable name of an allow-list's meaning (none: no failover policy)."""
    key = comparable(allow)
    if key is None:
        return "none"
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]


def deployed_mark(description: str | None) -> str | None:
    """The mark a failover deployment's description carries (None: not made by a
    failover that marks them, so what it deployed is unknown)."""
    _, found, mark = (description or "").rpartition(f"; {DEPLOYED_MARK}")
    return mark.strip() or None if found else None


def _canonical(document: dict[str, Any]) -> str:
    """One text per meaning: statement order, list order, one-item lists, the expanded
    ARNs API Gateway stores, key case in conditions and the Deny's token do not count."""
    statements = document.get("Statement") or []
    statements = statements if isinstance(statements, list) else [statements]
    return json.dumps(
        {
            "Version": document.get("Version"),
            "Statement": sorted(json.dumps(_statement(s), sort_keys=True) for s in statements),
        },
        sort_keys=True,
    )


def _statement(statement: Any) -> Any:
    if not isinstance(statement, dict):
        return statement
    found: dict[str, Any] = {}
    for key, value in statement.items():
        if key == "Sid":
            sid = str(value)
            found[key] = DENY_SID if sid.startswith(DENY_SID) else sid
        elif key in ("Resource", "NotResource"):
            found[key] = sorted({_shorthand(r) for r in _listed(value)})
        elif key in ("Action", "NotAction"):
            found[key] = sorted({a.lower() for a in _listed(value)})
        elif key == "Principal":
            found[key] = "*" if value in ("*", {"AWS": "*"}, {"AWS": ["*"]}) else value
        elif key == "Condition" and isinstance(value, dict):
            found[key] = {
                str(op): {str(k).lower(): sorted(_listed(v)) for k, v in (tests or {}).items()}
                if isinstance(tests, dict)
                else tests
                for op, tests in value.items()
            }
        else:
            found[key] = value
    return found


def _parse(text: str) -> dict[str, Any] | None:
    """API Gateway hands the policy back with its quotes escaped."""
    for candidate in (text, text.replace('\\"', '"')):
        try:
            parsed = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _shorthand(resource: str) -> str:
    """`arn:aws:execute-api:R:ACCOUNT:API/*/*/health` as written: `execute-api:/*/*/health`."""
    if resource.startswith("arn:") and "/" in resource:
        return "execute-api:/" + resource.split("/", 1)[1]
    return resource
