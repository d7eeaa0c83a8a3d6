"""The tool's own HTTP requests (status probes, drill phases), with FAILOVER_RESOLVE.

FAILOVER_RESOLVE is a comma-separated list of `HOST_PATTERN=ADDRESS` pairs,
e.g. `*.amazonaws.com=http://127.0.0.1:4566,hello.example.com=http://127.0.0.1:4566`.
A request whose host matches a pattern is sent to that address instead, with
the original Host header — like curl's --resolve, and useful with split-horizon
DNS. Nothing here knows about the sandbox; it is one general override.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from failover_cli.errors import BadInput

RESOLVE_VARIABLE = "FAILOVER_RESOLVE"
LOOKUP_TIMEOUT = 5.0  # seconds a name lookup gets before the name counts as not resolving
RESOLVE_HINT = (
    f"Export {RESOLVE_VARIABLE} with an entry for it (HOST_PATTERN=http://ADDRESS:PORT, as "
    "curl's --resolve; `failover sandbox` prints the value for the sandbox), or fix the "
    "name's DNS (`failover doctor` checks the hosted zone's delegation)."
)


@dataclass(frozen=True)
class Override:
    pattern: str
    address: str  # scheme://host[:port]


@dataclass(frozen=True)
class HttpAnswer:
    status: int  # 0 when no HTTP answer came back
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


def parse_overrides(text: str | None) -> list[Override]:
    overrides = []
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        pattern, sep, address = item.partition("=")
        parsed = urllib.parse.urlsplit(address.strip())
        if (
            not sep
            or not pattern.strip()
            or parsed.scheme not in ("http", "https")
            or not parsed.netloc
        ):
            raise BadInput(
                f"{RESOLVE_VARIABLE} has an entry that is not "
                f"HOST_PATTERN=http(s)://ADDRESS[:PORT]: {item!r}",
                hint="Example: *.amazonaws.com=http://127.0.0.1:4566",
            )
        overrides.append(Override(pattern.strip().lower(), f"{parsed.scheme}://{parsed.netloc}"))
    return overrides


def route(url: str, overrides: list[Override]) -> tuple[str, str | None]:
    """(URL to connect to, Host header to send or None)."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    for override in overrides:
        if fnmatch.fnmatchcase(host, override.pattern):
            target = urllib.parse.urlsplit(override.address)
            rewritten = parts._replace(scheme=target.scheme, netloc=target.netloc)
            return urllib.parse.urlunsplit(rewritten), parts.netloc
    return url, None


def name_problem(host: str, error: BaseException | str, *, via: str | None = None) -> str:
    """One sentence: `host` does not resolve, and what FAILOVER_RESOLVE did about it."""
    if via is not None:
        return f"{RESOLVE_VARIABLE} sends {host} to {via}, which does not resolve ({error})"
    if not os.environ.get(RESOLVE_VARIABLE, "").strip():
        told = f"{RESOLVE_VARIABLE} is not set"
    else:
        told = f"no {RESOLVE_VARIABLE} entry matches it"
    return f"{host} does not resolve from this machine ({error}) and {told}"


def lookup(name: str, port: int, timeout: float = LOOKUP_TIMEOUT) -> None:
    """Resolve `name` or raise OSError; a resolver that does not answer in `timeout` counts
    as a failure (getaddrinfo has no timeout of its own, so it runs on a daemon thread)."""
    failed: list[OSError] = []

    def run() -> None:
        try:
            socket.getaddrinfo(name, port, proto=socket.IPPROTO_TCP)
        except OSError as error:
            failed.append(error)

    thread = threading.Thread(target=run, name="lookup", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise OSError(f"no DNS answer within {timeout:g} s")
    if failed:
        raise failed[0]


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def curl_command(url: str, overrides: list[Override], endpoint: str | None = None) -> str:
    """A command a person can paste to GET `url` from this machine, the way the tool's own
    requests go: straight to it, unless a FAILOVER_RESOLVE entry (or, failing that,
    `endpoint`: a custom AWS endpoint in use, which then serves the API's host too)
    sends its host elsewhere. To a loopback address the name `<host>.localhost:<port>`
    reaches it with the host still named (names under .localhost resolve to loopback,
    RFC 6761), for servers that route by name; elsewhere curl sends the Host header,
    as FAILOVER_RESOLVE does."""
    target, host = route(url, overrides)
    if host is None and endpoint:
        target, host = route(url, [Override("*", endpoint)])
    if host is None:
        return f"curl {url}"
    parts = urllib.parse.urlsplit(target)
    if is_loopback(parts.hostname or ""):
        port = f":{parts.port}" if parts.port else ""
        local = parts._replace(netloc=f"{urllib.parse.urlsplit(url).hostname}.localhost{port}")
        return f"curl {urllib.parse.urlunsplit(local)}"
    return f"curl -H 'Host: {host}' {target}"


class HttpClient:
    """GET with a timeout, honouring FAILOVER_RESOLVE; never raises for HTTP or network errors."""

    def __init__(self, overrides: list[Override] | None = None) -> None:
        self.overrides = (
            overrides
            if overrides is not None
            else parse_overrides(os.environ.get(RESOLVE_VARIABLE))
        )
        # Proxies from the environment still apply to hosts that are not overridden;
        # overridden ones go straight to their address (it is usually loopback).
        self._direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._default = urllib.request.build_opener()

    def get(self, url: str, *, timeout: float = 5.0) -> HttpAnswer:
        return self.request("GET", url, timeout=timeout)

    def request(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
    ) -> HttpAnswer:
        """Any method, with an optional body (`failover invoke`)."""
        target, host = route(url, self.overrides)
        request = urllib.request.Request(target, data=data, method=method, headers=headers or {})
        if host:
            request.add_header("Host", host)
        opener = self._direct if host else self._default
        started = time.monotonic()
        try:
            with opener.open(request, timeout=timeout) as answer:
                body = answer.read(65536).decode("utf-8", "replace")
                return HttpAnswer(
                    answer.status, body, dict(answer.headers), time.monotonic() - started
                )
        except urllib.error.HTTPError as error:
            body = error.read(65536).decode("utf-8", "replace") if error.fp else ""
            return HttpAnswer(
                error.code, body, dict(error.headers or {}), time.monotonic() - started
            )
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, socket.gaierror):  # say which name and which variable
                name = urllib.parse.urlsplit(url).hostname or url
                via = urllib.parse.urlsplit(target).netloc if host else None
                reason = name_problem(name, reason, via=via)
            return HttpAnswer(0, "", {}, time.monotonic() - started, error=str(reason))

    def unresolvable(self, url: str, *, timeout: float = LOOKUP_TIMEOUT) -> str | None:
        """Why a request to `url` cannot find its host from here (None when it can): the
        FAILOVER_RESOLVE address when an entry matches, else the name itself. A proxy from
        the environment resolves names for us, so then there is nothing to check."""
        target, host = route(url, self.overrides)
        parts = urllib.parse.urlsplit(target)
        name = parts.hostname or ""
        proxied = host is None and urllib.request.getproxies().get(parts.scheme)
        if proxied and not urllib.request.proxy_bypass(name):
            return None
        try:
            lookup(name, parts.port or (443 if parts.scheme == "https" else 80), timeout)
        except OSError as error:
            asked = urllib.parse.urlsplit(url).hostname or url
            return name_problem(asked, error, via=parts.netloc if host else None)
        return None
