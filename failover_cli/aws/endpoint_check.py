"""A custom AWS endpoint (AWS_ENDPOINT_URL) where nothing listens is said at once.

Without this, a sandbox that is not running (or a typo in the port) reads as a
regional outage: every call is refused, botocore retries it, and `status` reports
each region unreachable after its deadline. A TCP connection refused by the
endpoint's own host and port is certain and immediate, so commands that talk to
AWS check it first: exit 2, nothing changed, naming the variable. Only a refusal
counts (a time-out may be a real outage, and is left to the deadlines).
"""

from __future__ import annotations

import os
import socket
import urllib.parse

from failover_cli.errors import BadInput

VARIABLE = "AWS_ENDPOINT_URL"
CONNECT_TIMEOUT = 2.0  # seconds; a refusal comes back at once, this only bounds a stall


def refuse_dead_endpoint() -> None:
    url = os.environ.get(VARIABLE, "").strip()
    parts = urllib.parse.urlsplit(url)
    if not url or not parts.hostname or parts.hostname.endswith(".amazonaws.com"):
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT).close()
    except ConnectionRefusedError as error:
        raise BadInput(
            f"Nothing is listening at {VARIABLE}={url} ({error.strerror or error}); "
            "nothing was read or changed",
            hint="Start the sandbox (`failover sandbox` prints the value to export), fix the "
            f"port, or unset {VARIABLE} to use AWS.",
        ) from None
    except OSError:
        return  # not certain: the command's own deadlines decide
