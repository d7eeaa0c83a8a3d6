"""What `up` prints so a newcomer can call the app: the public route, in a form that works here.

The starter bundle serves `GET /hi` without the health-checker secret (`/hello` and
`/health` keep it, as the function's contract says). `up` prints a `curl` command per
API and one through the custom domain, each built the way the tool's own requests
go (net/http.py's `curl_command`): the AWS URL as it is, or, when FAILOVER_RESOLVE (or
a custom AWS endpoint) sends the host elsewhere, the form that reaches that address.
Nothing here knows about the sandbox. A bundle that dropped the route gets no lines.
"""

from __future__ import annotations

import re
from pathlib import Path

PUBLIC_ROUTE = "hi"
_DECLARED = re.compile(r"""@route\(\s*["']/?hi/?["']""")


def has_public_route(source: Path) -> bool:
    """Whether the function's code still declares the starter's public route."""
    try:
        files = [source] if source.is_file() else sorted(source.rglob("*.py"))
        return any(_DECLARED.search(f.read_text(errors="replace")) for f in files)
    except OSError:
        return False


def custom_endpoint(endpoint_url: str | None) -> str | None:
    """The AWS endpoint when it is not AWS's own (an emulator, a proxy), else None."""
    if not endpoint_url or re.search(r"\.amazonaws\.com(\.cn)?(:\d+)?/?$", endpoint_url):
        return None
    return endpoint_url.rstrip("/")


def call_commands(
    apis: dict[str, str], domain_url: str | None, endpoint: str | None = None
) -> dict[str, str]:
    """{"us-east-1": "curl …/prod/hi", …, "domain": "curl …/v1/hi"}: each base URL's public
    route as a command that works from this machine. A custom AWS `endpoint` serves the
    APIs' hosts, not the domain: that one only FAILOVER_RESOLVE (or DNS) sends anywhere."""
    import os

    from failover_cli.net.http import RESOLVE_VARIABLE, curl_command, parse_overrides

    overrides = parse_overrides(os.environ.get(RESOLVE_VARIABLE))
    found = {
        region: curl_command(f"{base}/{PUBLIC_ROUTE}", overrides, endpoint)
        for region, base in apis.items()
    }
    if domain_url:
        found["domain"] = curl_command(f"{domain_url}/{PUBLIC_ROUTE}", overrides)
    return found
