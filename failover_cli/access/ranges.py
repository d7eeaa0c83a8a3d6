"""AWS's published address ranges (`ip-ranges.json`): read, cached, reduced to the checkers'.

The document comes from `FAILOVER_IP_RANGES` (an http(s) URL or a file path;
default AWS's URL). Only what the allow-list needs is kept: the
`ROUTE53_HEALTHCHECKS` prefixes (IPv4 and IPv6) per region, the `syncToken`
and the `createDate`. The kept part is cached under the user's cache folder
(`$XDG_CACHE_HOME/failover`, else `~/.cache/failover`) with the answer's ETag,
so a later read asks "changed since?" and AWS's 1.5 MB document travels only
when it did change.

A document that cannot be read, is not AWS's shape, lacks prefixes for a
configured checker region, or lists a prefix wider than a checker's
(statement.document_problem) is an error (exit 2, nothing changed): the allow-list
would fail that region's checks, or open the API to a good part of the Internet.
Plain `http://` is refused but for loopback (anyone on the path could rewrite the
list). A cached document is checked again before a 304 lets it be used: its record
carries a hash of what it holds, and one that does not match is downloaded again.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from failover_cli.access.statement import GLOBAL, SERVICE, checker_prefixes, document_problem
from failover_cli.errors import BadInput

VARIABLE = "FAILOVER_IP_RANGES"
AWS_URL = "https://ip-ranges.amazonaws.com/ip-ranges.json"
TIMEOUT_S = 10.0  # connect and each read
MAX_BYTES = 32 * 1024 * 1024  # today's document is ~1.5 MB
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class RangesUnreadable(BadInput):
    """The ranges document could not be read or used: exit 2, nothing changed."""


@dataclass(frozen=True)
class Ranges:
    """The checker prefixes of one ranges document."""

    sync_token: str  # seconds since the epoch, as a string (AWS's own format)
    create_date: str  # "YYYY-MM-DD-hh-mm-ss", UTC
    prefixes: tuple[tuple[str, str], ...]  # (region or GLOBAL, CIDR), in document order
    source: str = AWS_URL

    def checkers(self, regions: tuple[str, ...]) -> list[str]:
        """The prefixes of these checker regions, plus the GLOBAL ones."""
        wanted = {*regions, GLOBAL}
        return [cidr for region, cidr in self.prefixes if region in wanted]

    @property
    def created(self) -> datetime | None:
        try:
            return datetime.strptime(self.create_date, "%Y-%m-%d-%H-%M-%S").replace(tzinfo=UTC)
        except ValueError:
            return None

    @property
    def date(self) -> str:
        """The document's date for people: 2026-12-04 08:15 UTC."""
        created = self.created
        return created.strftime("%Y-%m-%d %H:%M UTC") if created else self.create_date


def source() -> str:
    return os.environ.get(VARIABLE, "").strip() or AWS_URL


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "failover"


def load_ranges(where: str | None = None, checker_regions: tuple[str, ...] = ()) -> Ranges:
    """The current document from `where` (default: FAILOVER_IP_RANGES or AWS's URL),
    refused unless it gives every one of `checker_regions` a sane prefix."""
    ranges = _load(where or source())
    problem = document_problem(list(ranges.prefixes), checker_regions)
    if problem:
        raise RangesUnreadable(
            f"The IP ranges document {ranges.source} {problem}; nothing was changed",
            hint=f"Point {VARIABLE} at AWS's document ({AWS_URL}), or drop that region "
            "from health_check.checker_regions.",
        )
    return ranges


def _load(where: str) -> Ranges:
    parts = urllib.parse.urlsplit(where)
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise RangesUnreadable(
            f"The IP ranges document {where} ({VARIABLE}) is plain http: anyone on the "
            "way could rewrite the allow-list",
            hint="Use https (AWS's document is at " + AWS_URL + "); http is for loopback only.",
        )
    if parts.scheme in ("http", "https"):
        return _from_url(where)
    path = Path(where).expanduser()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RangesUnreadable(
            f"Cannot read the IP ranges document {path} ({VARIABLE}): {error.strerror}",
            hint=f"Point {VARIABLE} at a copy of {AWS_URL}, or unset it to use AWS's.",
        ) from None
    return parse(data, str(path))


def parse(data: bytes, where: str) -> Ranges:
    """The checker prefixes of a document; RangesUnreadable when it is not AWS's shape."""
    try:
        document = json.loads(data)
        sync_token, create_date = str(document["syncToken"]), str(document["createDate"])
        found = checker_prefixes(document)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise RangesUnreadable(
            f"The IP ranges document {where} is not shaped like AWS's ip-ranges.json "
            f"({type(error).__name__}: {error})",
            hint=f"Point {VARIABLE} at a copy of {AWS_URL}, or unset it to use AWS's.",
        ) from None
    if not found:
        raise RangesUnreadable(
            f"The IP ranges document {where} lists no {SERVICE} prefix; an allow-list "
            "from it would refuse every health checker",
            hint=f"Point {VARIABLE} at AWS's document ({AWS_URL}).",
        )
    return Ranges(sync_token, create_date, tuple(found), where)


def _from_url(url: str) -> Ranges:
    cache = cache_folder() / f"ip-ranges-{hashlib.sha256(url.encode()).hexdigest()[:12]}.json"
    cached = _read_cache(cache)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if cached is not None and cached.get("etag"):
        request.add_header("If-None-Match", str(cached["etag"]))
    opener = urllib.request.build_opener()
    if urllib.parse.urlsplit(url).hostname in _LOOPBACK:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=TIMEOUT_S) as answer:
            data = answer.read(MAX_BYTES + 1)
            etag = answer.headers.get("ETag")
    except urllib.error.HTTPError as error:
        if error.code == 304 and cached is not None:
            return _ranges(cached, url)
        raise _unreadable(url, f"HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise _unreadable(url, str(getattr(error, "reason", error))) from None
    if len(data) > MAX_BYTES:
        raise _unreadable(url, f"larger than {MAX_BYTES} bytes")
    ranges = parse(data, url)
    _write_cache(cache, ranges, etag)
    return ranges


def _unreadable(url: str, why: str) -> RangesUnreadable:
    return RangesUnreadable(
        f"Cannot read the IP ranges document {url} ({VARIABLE}): {why}. Nothing was changed",
        hint="Check the network (or the address) and re-run; the allow-list is never "
        "written without the checkers' current prefixes.",
    )


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or not found.get("prefixes"):
        return None
    # Trusted on a 304 only when it still holds what was written (a hand-edited or
    # damaged cache is downloaded again).
    return found if found.get("sha256") == _digest(found) else None


def _digest(record: dict[str, Any]) -> str:
    kept = [str(record.get("syncToken")), str(record.get("createDate")), record.get("prefixes")]
    return hashlib.sha256(json.dumps(kept, separators=(",", ":")).encode()).hexdigest()


def _ranges(cached: dict[str, Any], url: str) -> Ranges:
    pairs = tuple((str(r), str(c)) for r, c in cached["prefixes"])
    return Ranges(str(cached["syncToken"]), str(cached["createDate"]), pairs, url)


def _write_cache(path: Path, ranges: Ranges, etag: str | None) -> None:
    """Best effort: a cache that cannot be written only costs the next full download."""
    record = {
        "source": ranges.source,
        "etag": etag,
        "syncToken": ranges.sync_token,
        "createDate": ranges.create_date,
        "prefixes": [list(pair) for pair in ranges.prefixes],
    }
    record["sha256"] = _digest(record)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(record), encoding="utf-8")
        partial.replace(path)
    except OSError:
        pass
