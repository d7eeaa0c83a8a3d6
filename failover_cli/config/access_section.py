"""The `access:` section: who may call the API, checked offline like every section.

`allow` lists `route53-health-checkers` (the published ROUTE53_HEALTHCHECKS
prefixes of the checker regions, read at plan/up time) and/or CIDRs, IPv4 or
IPv6; a bare address counts as its /32 or /128. A CIDR with host bits set
(198.51.100.7/24) is refused: it is almost always a typo for another network.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from failover_cli.config.fields import FieldReader
from failover_cli.config.nodes import Entry, show
from failover_cli.config.schema import CHECKERS_KEYWORD, AccessConfig, Config

ROUTES = ("health", "all")
_BOOL = "tag:yaml.org,2002:bool"


def build_access(builder: FieldReader, entry: Entry | None) -> AccessConfig | None:
    """The section; None both when absent and when invalid (problems tell them apart)."""
    fields = builder.fields(entry, ("allow", "routes", "auto_refresh"))
    if entry is None or not fields:
        return None
    start = builder._mark()
    kw: dict[str, Any] = {}
    if "allow" not in fields:
        builder.reader.fail(
            entry, f"has no allow; list {CHECKERS_KEYWORD} and/or CIDRs such as 198.51.100.0/24"
        )
    else:
        allow = _allow(builder, fields["allow"])
        if allow is not None:
            kw["allow"] = allow
    builder.choice(fields, "routes", kw, ROUTES)
    if "auto_refresh" in fields:
        flag = fields["auto_refresh"]
        if flag.node.tag != _BOOL:
            builder.reader.fail(flag, "must be true or false")
        else:
            kw["auto_refresh"] = flag.node.value.lower() in ("true", "yes", "on")
            allow = kw.get("allow") or ()
            if kw["auto_refresh"] and "allow" in kw and CHECKERS_KEYWORD not in allow:
                builder.reader.fail(
                    flag,
                    f"is true, but allow has no {CHECKERS_KEYWORD}: there is nothing for it to "
                    "refresh; set it false or add the keyword",
                )
    return AccessConfig(**kw) if builder._ok(start) else None


def _allow(builder: FieldReader, entry: Entry) -> tuple[str, ...] | None:
    start = builder._mark()
    items = builder.reader.string_list(entry, what=f"a list of {CHECKERS_KEYWORD} and CIDRs")
    if items is None:
        return None
    out: list[str] = []
    for item, value in items:
        normal = value if value == CHECKERS_KEYWORD else _cidr(builder, item, value)
        if normal is None:
            continue
        if normal in out:
            builder.reader.fail(item, f"repeats {show(normal)}; list it once")
        out.append(normal)
    if builder._ok(start) and not out:
        builder.reader.fail(
            entry,
            f"is empty, which would refuse every caller; list {CHECKERS_KEYWORD} and/or "
            "CIDRs, or remove the access section",
        )
    return tuple(out) if builder._ok(start) else None


def _cidr(builder: FieldReader, item: Entry, value: str) -> str | None:
    try:
        return str(ipaddress.ip_network(value.strip()))
    except ValueError:
        pass
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        builder.reader.fail(
            item,
            f"is {show(value)}, which is neither {CHECKERS_KEYWORD} nor a CIDR "
            "(e.g. 198.51.100.0/24 or 2001:db8::/32)",
        )
        return None
    builder.reader.fail(item, f"is {show(value)}, which has host bits set; did you mean {network}?")
    return None


def access_warnings(config: Config) -> list[str]:
    """What `validate` points out about a valid access section (nothing refused)."""
    access = config.access
    if access is None or access.routes != "all" or access.cidrs:
        return []
    return [
        f"{config.path}: access.routes is all but access.allow lists no CIDR of your own: "
        "only Route 53's health checkers will reach /hello and your other routes; add "
        "your network (e.g. 198.51.100.0/24) or use routes: health"
    ]


def describe_access(access: AccessConfig | None) -> str:
    if access is None:
        return "anyone may call the API (the shared secret guards /health and /hello)"
    where = "/health" if access.routes == "health" else "every route"
    return f"{where} only from {', '.join(access.allow)}"
