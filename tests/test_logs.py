"""`failover logs` against moto in-process: both regions merged by time, secrets masked.

Events are planted with put_log_events at chosen timestamps in each region's
`/aws/lambda/<function>` group, interleaved across regions, some holding the
current secret, one an old secret in a `healthCheckerId=` query. The sandbox
end-to-end case (logs after a drill) is in test_drill_sandbox.py.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from failover_cli.aws.clients import ClientFactory
from failover_cli.config.loader import load_config
from failover_cli.engine.context import Context
from failover_cli.ops.logs import LATE_MS, Follower, Masker
from tests.e2e_helpers import failover, unique_stack, write_config
from tests.faults import Fault, FaultInjector, Rule
from tests.ops_fakes import SECRET, deploy_functions

EAST, WEST = "us-east-1", "us-west-2"
OLD_SECRET = "old-secret-before-rotation-42"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A config whose function exists in both regions (holding SECRET) with its log group."""
    with mock_aws():
        name = unique_stack("logs")
        config = write_config(tmp_path, name)
        deploy_functions(load_config(config))
        tags = load_config(config).ownership_tags()  # as `up` creates it: the stack's own
        for region in (EAST, WEST):
            boto3.client("logs", region).create_log_group(
                logGroupName=f"/aws/lambda/{name}-fn", tags=tags
            )
        yield config, name


def _put(name: str, region: str, stream: str, events: list[tuple[int, str]]) -> None:
    logs = boto3.client("logs", region)
    group = f"/aws/lambda/{name}-fn"
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": t, "message": m} for t, m in events],
    )


def _now() -> int:
    return int(time.time() * 1000)


def test_both_regions_merged_by_time_with_every_secret_masked(
    stack: tuple[Path, str],
) -> None:
    config, name = stack
    base = _now() - 60_000
    _put(name, EAST, "2026/12/04/[$LATEST]aaa", [(base, "east one"), (base + 2000, "east two")])
    _put(
        name,
        WEST,
        "2026/12/04/[$LATEST]bbb",
        [
            (base + 1000, f"west one, secret {SECRET} in the open"),
            (base + 3000, f"GET /prod/health?healthCheckerId={OLD_SECRET}&deep=true"),
        ],
    )
    run = failover(config, "logs", "--json")
    assert run.exit_code == 0, run.stderr
    events = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(e["region"], e["message"].split(",")[0]) for e in events[:3]] == [
        (EAST, "east one"),
        (WEST, "west one"),
        (EAST, "east two"),
    ]
    assert events[3]["region"] == WEST and "healthCheckerId=****" in events[3]["message"]
    assert set(events[0]) == {"time", "timestamp", "region", "stream", "message"}
    assert events[0]["time"].endswith("Z") and events[0]["stream"].endswith("aaa")
    text = failover(config, "logs")
    assert text.exit_code == 0, text.stderr
    lines = [line for line in text.stdout.splitlines() if line.strip()]
    assert [line.split()[1] for line in lines] == [EAST, WEST, EAST, WEST]
    for said in (run.stdout, run.stderr, text.stdout, text.stderr):
        assert SECRET not in said and OLD_SECRET not in said


def test_since_region_and_filter_narrow_what_is_shown(stack: tuple[Path, str]) -> None:
    config, name = stack
    now = _now()
    _put(name, EAST, "s1", [(now - 3_600_000, "an hour ago"), (now - 60_000, "ERROR recent")])
    _put(name, WEST, "s2", [(now - 30_000, "west recent"), (now - 20_000, "ERROR west")])
    recent = failover(config, "logs", "--since", "10m", "--json")
    messages = [json.loads(line)["message"] for line in recent.stdout.splitlines()]
    assert messages == ["ERROR recent", "west recent", "ERROR west"]
    day = failover(config, "logs", "--since", "1d", "--json")
    assert len(day.stdout.splitlines()) == 4
    west = failover(config, "logs", "--region", WEST, "--json")
    assert {json.loads(line)["region"] for line in west.stdout.splitlines()} == {WEST}
    errors = failover(config, "logs", "--filter", "ERROR", "--json")
    assert [json.loads(line)["message"] for line in errors.stdout.splitlines()] == [
        "ERROR recent",
        "ERROR west",
    ]


def test_platform_lines_hidden_unless_asked_and_one_requests_lines_kept_in_order(
    stack: tuple[Path, str],
) -> None:
    config, name = stack
    at = _now() - 5_000
    lines = [
        "START RequestId: r1 Version: $LATEST",
        "zeta: handled /hi",
        "alpha: answered 200",
        "END RequestId: r1",
        "REPORT RequestId: r1\tDuration: 1.2 ms",
    ]
    _put(name, EAST, "s1", [(at, line) for line in lines])  # one millisecond, one request
    shown = failover(config, "logs", "--json")
    assert [json.loads(x)["message"] for x in shown.stdout.splitlines()] == lines[1:3]
    everything = failover(config, "logs", "--json", "--platform")
    assert [json.loads(x)["message"] for x in everything.stdout.splitlines()] == lines

    nothing = failover(config, "logs", "--filter", "NO_SUCH_WORD")
    assert nothing.exit_code == 0 and nothing.stdout == ""
    assert "No event matched --filter 'NO_SUCH_WORD' in the last 10m" in nothing.stderr


def test_a_region_without_its_log_group_is_named_and_the_other_still_shown(
    stack: tuple[Path, str],
) -> None:
    config, name = stack
    _put(name, EAST, "s1", [(_now() - 1000, "still here")])
    boto3.client("logs", WEST).delete_log_group(logGroupName=f"/aws/lambda/{name}-fn")
    run = failover(config, "logs", "--json")
    assert run.exit_code == 1
    assert [json.loads(line)["message"] for line in run.stdout.splitlines()] == ["still here"]
    assert f"no log group /aws/lambda/{name}-fn in {WEST}" in run.stderr
    assert "Could not read the log events of us-west-2" in run.stderr


def test_following_shows_each_event_once_including_late_arrivals(
    stack: tuple[Path, str],
) -> None:
    config, name = stack
    ctx = Context(config=load_config(config), clients=ClientFactory())
    start = _now() - 60_000
    follower = Follower(ctx, [EAST, WEST], start, masker=Masker([SECRET]))
    _put(name, EAST, "s1", [(start + 1000, "first"), (start + 5000, f"key {SECRET}")])
    first = follower.next_batch()
    assert [e.message for e in first.events] == ["first", f"key ****({len(SECRET)})"]
    assert follower.next_batch().events == ()  # nothing new: nothing shown again
    # An event stamped before the newest one seen, ingested late (within LATE_MS).
    _put(name, WEST, "s2", [(start + 5000 - LATE_MS // 2, "late"), (start + 9000, "newer")])
    assert [e.message for e in follower.next_batch().events] == ["late", "newer"]


def test_a_region_that_hangs_is_named_and_the_other_still_shown(
    stack: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bad day: us-west-2's endpoints accept and never answer. `logs` gives up on it
    within its wall deadline, says so, and still prints us-east-1's events."""
    config, name = stack
    _put(name, EAST, "s1", [(_now() - 1000, "east answers")])
    with monkeypatch.context() as patched:
        FaultInjector([Rule(Fault.HANG, regions=(WEST,))]).install(patched)
        run = failover(config, "logs", "--json")
    assert run.exit_code == 1, run.stderr
    assert [json.loads(line)["message"] for line in run.stdout.splitlines()] == ["east answers"]
    assert f"{WEST} is unreachable" in run.stderr


# Every form a function's log may hold the secret in (the API Gateway event as JSON or
# repr, its query raw or URL-encoded once or twice, the environment, any casing), and
# the bare value. With the secret lookup denied, none may reach the terminal.
SECRET_FORMS = {
    "json": '{"queryStringParameters": {"healthCheckerId": "%s"}}',
    "json-in-json": '{"body": "{\\"healthCheckerId\\": \\"%s\\"}"}',
    "json-list": '{"multiValueQueryStringParameters": {"healthCheckerId": ["%s"]}}',
    "repr-dict": "event {'healthCheckerId': '%s', 'deep': 'true'}",
    "repr-pairs": "parsed [('deep', 'true'), ('healthCheckerId', '%s')]",
    "query": "GET /prod/health?healthCheckerId=%s&deep=true",
    "url-encoded": "next=%%2Fprod%%2Fhealth%%3FhealthCheckerId%%3D%s%%26deep%%3Dtrue",
    "double-encoded": "next=%%252Fhealth%%253FhealthCheckerId%%253D%s%%2526deep",
    "upper-case": "HEALTHCHECKERID=%s",
    "lower-case": "healthcheckerid: %s",
    "environment": "{'HEALTH_CHECKER_ID_NEXT': '%s'}",
    "bare": "comparing against %s failed",
}


@pytest.mark.parametrize("form", sorted(SECRET_FORMS))
def test_with_the_secret_lookup_denied_no_form_of_the_secret_is_printed(
    stack: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    """Masking fails closed: the functions' environment cannot be read, so the secret is
    unknown, and every value quoted as one or shaped like one is masked all the same."""
    config, name = stack
    _put(name, EAST, "s1", [(_now() - 1000, SECRET_FORMS[form] % SECRET)])
    denied = Rule(
        Fault.FAIL, operations=("lambda:GetFunctionConfiguration",), code="AccessDeniedException"
    )
    with monkeypatch.context() as patched:
        injector = FaultInjector([denied])
        injector.install(patched)
        runs = [failover(config, "logs", "--json"), failover(config, "logs")]
    assert injector.injected  # the lookup really was refused
    for run in runs:
        assert run.exit_code == 0, run.stderr
        assert SECRET not in run.stdout and SECRET not in run.stderr
        assert SECRET[:8] not in run.stdout
        assert f"****({len(SECRET)})" in run.stdout  # masked, not dropped
        assert "Could not read the health-checker secret of us-east-1" in run.stderr


def test_terminal_control_sequences_in_a_log_line_are_shown_escaped(
    stack: tuple[Path, str],
) -> None:
    config, name = stack
    message = "a \x1b[31mred\x1b]0;owned\x07 \x9b2J\ttab\nus-east-1 forged line\u202e"
    _put(name, EAST, "s1", [(_now() - 1000, message)])
    text = failover(config, "logs")
    assert text.exit_code == 0, text.stderr
    for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert raw not in text.stdout
    line = text.stdout.rstrip("\n")
    assert "\n" not in line  # one event, one line: no forged line after it
    assert "\\x1b[31mred\\x1b]0;owned\\x07 \\x9b2J" in line  # shown, harmless
    assert "tab\\x0aus-east-1 forged line" in line  # the tab is kept (rich expands it)
    machine = failover(config, "logs", "--json")
    for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert raw not in machine.stdout
    assert json.loads(machine.stdout)["message"] == message  # escaped, not altered
