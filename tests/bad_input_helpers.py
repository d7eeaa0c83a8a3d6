"""Run the CLI in-process on bad input and prove it never reached AWS.

Three witnesses, each enough on its own: botocore's `BaseClient._make_api_call`
(every API call, before signing) and `Endpoint.make_request` (every request
sent) are replaced by recorders that refuse, and FAILOVER_CALL_LOG points at a
file that must stay absent (the tool's own per-call hook writes it).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import botocore.client
import botocore.endpoint
from click.testing import CliRunner

from failover_cli.cli.main import cli

# A port that accepts connections (the kernel's backlog) and never answers: the tool's
# check that something listens at AWS_ENDPOINT_URL passes, and refusing_aws() fails any
# request that slips through.
_LISTENER = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
_LISTENER.bind(("127.0.0.1", 0))
_LISTENER.listen(64)
CLOSED_ENDPOINT = f"http://127.0.0.1:{_LISTENER.getsockname()[1]}"


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    aws_calls: list[str] = field(default_factory=list)
    call_log_written: bool = False
    exception: BaseException | None = None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def explain(self) -> str:
        return (
            f"exit {self.exit_code}, calls {self.aws_calls}, exception {self.exception!r}\n"
            f"stdout: {self.stdout}\nstderr: {self.stderr}"
        )


@contextmanager
def refusing_aws() -> Iterator[list[str]]:
    """Record (and refuse) every botocore API call and HTTP request made inside."""
    calls: list[str] = []

    def api_call(self: object, operation: str, *_args: object, **_kwargs: object) -> None:
        calls.append(f"api:{operation}")
        raise AssertionError(f"bad input reached AWS: {operation}")

    def request(self: object, *_args: object, **_kwargs: object) -> None:
        calls.append("http")
        raise AssertionError("bad input sent an AWS request")

    with (
        mock.patch.object(botocore.client.BaseClient, "_make_api_call", api_call),
        mock.patch.object(botocore.endpoint.Endpoint, "make_request", request),
    ):
        yield calls


def run_bad(
    args: list[str],
    folder: Path,
    *,
    env: Mapping[str, str | None] | None = None,
    input: str | None = None,
) -> Outcome:
    """`failover <args>` in-process with AWS refused; the outcome and every attempted call."""
    call_log = folder / "calls.jsonl"
    environment: dict[str, str | None] = {
        "FAILOVER_CALL_LOG": str(call_log),
        "AWS_ENDPOINT_URL": CLOSED_ENDPOINT,
        "FAILOVER_RESOLVE": f"*={CLOSED_ENDPOINT}",
        **(env or {}),
    }
    with refusing_aws() as calls:
        result = CliRunner().invoke(cli, args, env=environment, input=input)
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return Outcome(
        exit_code=int(result.exit_code),
        stdout=result.stdout,
        stderr=result.stderr,
        aws_calls=calls,
        call_log_written=os.path.exists(call_log),
        exception=exception,
    )


def assert_refused(outcome: Outcome, *fragments: str) -> None:
    """Exit 2, a message holding every fragment, no traceback, and no AWS call of any kind."""
    assert outcome.exit_code == 2, outcome.explain()
    assert outcome.exception is None, outcome.explain()
    assert "Traceback" not in outcome.output, outcome.explain()
    assert "Error:" in outcome.stderr, outcome.explain()
    for fragment in fragments:
        assert fragment in outcome.stderr, f"{fragment!r} missing\n{outcome.explain()}"
    assert outcome.aws_calls == [], outcome.explain()
    assert not outcome.call_log_written, outcome.explain()
