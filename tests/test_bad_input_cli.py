"""Hostile command lines for every command: exit 2, the problem named, no traceback, no AWS call.

The config is valid unless a case is about the config path, so each refusal
is the argument's doing. AWS is refused three ways (see bad_input_helpers):
any API call, any request, or a line in FAILOVER_CALL_LOG fails the case.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bad_input_helpers import Outcome, assert_refused, run_bad

COMMANDS = (
    "init", "validate", "plan", "up", "status", "force-fail", "drill", "gc-logs",
    "rotate-secret", "down", "sandbox", "demo", "logs", "invoke",
)  # fmt: skip
# What each stack command needs besides the config to get as far as AWS.
AWS_COMMANDS: dict[str, list[str]] = {
    "plan": ["plan"],
    "up": ["up"],
    "status": ["status"],
    "force-fail": ["force-fail", "--region", "us-east-1"],
    "drill": ["drill", "--region", "us-east-1"],
    "gc-logs": ["gc-logs"],
    "logs": ["logs"],
    "invoke": ["invoke", "--region", "us-east-1"],
    "rotate-secret": ["rotate-secret"],
    "down": ["down", "--yes"],
}
CONFIG_COMMANDS = {"validate": ["validate"], **AWS_COMMANDS}
HOSTILE_REGIONS = [
    "us-east-9",
    "",
    "$(rm -rf /)",
    "\x1b[31mus-east-1",
    "eu-west-1",  # a real region, but not one of the stack's
    "US-EAST-1",
    "us-east-1 ",
    "us-east-1;reboot",
    "../../etc/passwd",
    "us-\u0435ast-1",  # Cyrillic e
    "x" * 5000,
]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A valid config (the shipped bundle), with the working folder set to an empty one."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    path = tmp_path / "failover.yaml"
    path.write_text("stack: hello\nregions: [us-east-1, us-west-2]\n", encoding="utf-8")
    yield path


def run(config: Path, *args: str, env: dict[str, str | None] | None = None) -> Outcome:
    return run_bad(["--config", str(config), *args], config.parent, env=env)


@pytest.mark.parametrize("command", COMMANDS)
def test_unknown_option_on_every_command(config: Path, command: str) -> None:
    assert_refused(run(config, command, "--frobnicate"), "No such option '--frobnicate'")


@pytest.mark.parametrize("command", COMMANDS)
def test_unexpected_argument_on_every_command(config: Path, command: str) -> None:
    region = ["--region", "us-east-1"] if command in ("force-fail", "drill", "invoke") else []
    outcome = run(config, command, *region, "surplus")
    assert_refused(outcome, "unexpected extra argument (surplus)")


def test_unknown_command_and_unknown_global_option(config: Path) -> None:
    assert_refused(run(config, "frobnicate"), "No such command 'frobnicate'")
    assert_refused(run(config, "--colour", "plan"), "No such option '--colour'")
    assert_refused(run(config, "--profile"), "Option '--profile' requires an argument")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["gc-logs", "--min-age", "-1h"], "'-1h' is not a duration"),
        (["gc-logs", "--min-age", "abc"], "'abc' is not a duration"),
        (["gc-logs", "--min-age", "1w"], "'1w' is not a duration"),
        (["gc-logs", "--min-age", ""], "'' is not a duration"),
        (["gc-logs", "--min-age", "99999d"], "is not between 0s and 3650d"),
        (["gc-logs", "--dry-run", "--min-age", "1e9"], "'1e9' is not a duration"),
        (["force-fail", "--region", "us-east-1", "--timeout", "0"], "'0' is no time at all"),
        (["force-fail", "--region", "us-east-1", "--wait", "--timeout", "-5m"], "'-5m'"),
        (["force-fail", "--region", "us-east-1", "--timeout", "1e3"], "'1e3' is not a duration"),
        (["drill", "--region", "us-east-1", "--timeout", "0s"], "'0s' is no time at all"),
        (["drill", "--region", "us-east-1", "--timeout", "10x"], "'10x' is not a duration"),
        (["rotate-secret", "--timeout", "0m"], "'0m' is no time at all"),
        (["rotate-secret", "--timeout", "nan"], "'nan' is not a duration"),
        (["status", "--interval", "abc"], "'abc' is not a duration"),
        (["status", "--watch", "--interval", "0"], "'0' is no time at all"),
        (["status", "--watch", "--interval", "0.5s"], "must be at least 1s"),
        (["status", "--interval", "inf"], "'inf' is not a duration"),
        (["logs", "--since", "yesterday"], "'yesterday' is not a duration"),
        (["logs", "--follow", "--since", "-5m"], "'-5m' is not a duration"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_bad_durations(config: Path, args: list[str], fragment: str) -> None:
    option = args[-2]  # every case ends with the duration option and its value
    assert_refused(run(config, *args), "Invalid value for", option, fragment)


@pytest.mark.parametrize("command", ["force-fail", "drill", "logs", "invoke"])
@pytest.mark.parametrize("region", HOSTILE_REGIONS, ids=lambda r: repr(r)[:30])
def test_regions_not_in_the_stack_are_refused_before_any_aws_call(
    config: Path, command: str, region: str
) -> None:
    outcome = run(config, command, "--region", region)
    assert_refused(outcome, "is not one of stack hello's regions (us-east-1, us-west-2)")
    assert "Pass --region with one of them" in outcome.stderr
    assert "\x1b" not in outcome.output
    if region == "":
        assert "Error: '' is not one of" in outcome.stderr


@pytest.mark.parametrize("command", ["force-fail", "drill", "invoke"])
def test_a_missing_region_is_a_usage_error(config: Path, command: str) -> None:
    assert_refused(run(config, command), "Missing option '--region'")


@pytest.mark.parametrize("command", list(CONFIG_COMMANDS))
@pytest.mark.parametrize(
    "kind", ["directory", "missing", "dev-null", "binary", "nul-bytes", "fifo", "empty", "loop"]
)
def test_config_paths_that_are_not_configs(config: Path, command: str, kind: str) -> None:
    folder = config.parent
    fragments = {
        "directory": "is not a file",
        "missing": "No config file at",
        "dev-null": "is not a file",
        "binary": "is not valid UTF-8 text",
        "nul-bytes": "control character #x0000",
        "fifo": "is not a file",
        "empty": "The config path is empty",
        "loop": "No config file at",
    }
    if kind == "directory":
        target = str(folder)
    elif kind == "missing":
        target = str(folder / "absent.yaml")
    elif kind == "dev-null":
        target = os.devnull
    elif kind == "binary":
        (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfd")
        target = str(folder / "image.png")
    elif kind == "nul-bytes":
        (folder / "nul.yaml").write_bytes(b"stack: hello\x00\nregions: []\n")
        target = str(folder / "nul.yaml")
    elif kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(folder / "pipe.yaml")  # opening it to read would block forever
        target = str(folder / "pipe.yaml")
    elif kind == "loop":
        (folder / "a.yaml").symlink_to(folder / "b.yaml")
        (folder / "b.yaml").symlink_to(folder / "a.yaml")
        target = str(folder / "a.yaml")
    else:
        target = ""
    outcome = run_bad(["--config", target, *CONFIG_COMMANDS[command]], folder)
    assert_refused(outcome, fragments[kind])


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("\x1b[31m;rm -rf /\x07", "No config file at \\x1b[31m;rm -rf /\\x07"),
        ("/", "The config path / is not a file"),
        ("  ", "The config path is empty"),
        ("", "No config file at failover.yaml"),  # click reads an empty variable as unset
        ("../../../../../../no/such/dir/../failover.yaml\x00", "No config file at"),
    ],
    ids=["ansi-and-shell", "root", "blank", "empty", "traversal"],
)
def test_failover_config_set_to_garbage(config: Path, value: str, fragment: str) -> None:
    if "\x00" in value:
        value = value.replace("\x00", "")  # an environment variable cannot hold NUL
    for command in (["validate"], ["plan"], ["down", "--yes"]):
        outcome = run_bad(command, config.parent, env={"FAILOVER_CONFIG": value})
        assert_refused(outcome, fragment)
        assert "\x1b" not in outcome.output and "\x07" not in outcome.output


@pytest.mark.parametrize("command", list(AWS_COMMANDS))
def test_a_profile_that_does_not_exist(config: Path, command: str) -> None:
    outcome = run(config, "--profile", "no-such-profile", *AWS_COMMANDS[command])
    assert_refused(outcome, "The config profile (no-such-profile) could not be found")
    by_env = run(config, *AWS_COMMANDS[command], env={"AWS_PROFILE": "no-such-profile"})
    assert_refused(by_env, "could not be found")


def test_validate_never_consults_the_profile(config: Path) -> None:
    """validate is offline (SPEC §2): the profile only matters to commands that call AWS."""
    outcome = run(config, "--profile", "no-such-profile", "validate")
    assert outcome.exit_code == 0, outcome.explain()
    assert outcome.aws_calls == [] and not outcome.call_log_written


@pytest.mark.parametrize("command", list(AWS_COMMANDS))
def test_no_credentials_at_all(config: Path, command: str) -> None:
    gone: dict[str, str | None] = {
        name: None for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    }
    outcome = run(config, *AWS_COMMANDS[command], env=gone)
    assert_refused(outcome, "No AWS credentials were found", "AWS_PROFILE")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["force-fail", "--region", "us-east-1", "--restore", "--allow-total-outage"],
            "do not go together",
        ),
        (["init", "--no-input", "--hosted-zone", "example.com"], "give --domain too"),
        (["init", "--no-input", "--routing", "failover"], "give --domain too"),
        (["init", "--no-input", "--routing", "weighted"], "'weighted' is not one of"),
        (["init", "--no-input", "--stack", "Bad Name"], "Nothing was written: stack (--stack)"),
        (["init", "--no-input", "--regions", "us-east-9,us-west-2"], "us-east-9"),
        (["init", "--no-input", "--stack", "a\x1b[2J"], "control character U+001B"),
        (
            [
                *("init", "--no-input", "--domain", "a.example.com", "--routing", "failover"),
                *("--regions", "us-east-1,us-west-2,eu-west-1"),
            ],
            "exactly 2 regions",
        ),
        (["init", "--no-input", "--domain", "a.example.com", "--hosted-zone", "b.org"], "zone"),
        (["init", "--no-input", "--email", "$(id)"], "not an e-mail address"),
        (["sandbox", "--port", "70000"], "70000 is not in the range 0<=x<=65535"),
        (["sandbox", "--port", "-1"], "-1 is not in the range"),
        (["sandbox", "--port", "http"], "'http' is not a valid integer"),
        (["sandbox", "--time-scale", "0"], "is not in the range 0<x<=1000"),
        (["sandbox", "--time-scale", "nan"], "nan is not a number"),
        (["sandbox", "--time-scale", "inf"], "is not in the range 0<x<=1000"),
        (["sandbox", "--client-region", "us-east-9"], "did you mean us-east-2"),
        (["sandbox", "--client-region", ""], "is not an AWS region name"),
        (["sandbox", "--client-region", "$(id)"], "is not an AWS region name"),
        (["sandbox", "--port", "0", "--outbox", os.devnull], "Cannot create the outbox"),
        (["demo", "--port", "70000"], "70000 is not in the range"),
        (["demo", "--time-scale", "-1"], "-1.0 is not in the range 0<x<=1000"),
        (["demo", "--time-scale", "nan"], "nan is not a number"),
    ],
    ids=lambda value: " ".join(value)[:60] if isinstance(value, list) else "",
)
def test_conflicting_and_out_of_range_arguments(
    config: Path, args: list[str], fragment: str
) -> None:
    target = config.parent / "new" / "failover.yaml" if args[0] == "init" else config
    outcome = run_bad(["--config", str(target), *args], config.parent)
    assert_refused(outcome, fragment)
    assert not (config.parent / "new").exists(), "init wrote something after refusing"
    assert "\x1b" not in outcome.output


@pytest.mark.parametrize(
    "args",
    # force-fail sends a request only to watch (--wait): the switch write itself probes nothing
    [
        ["status"],
        ["drill", "--region", "us-east-1"],
        ["force-fail", "--region", "us-east-1", "--wait"],
    ],
    ids=lambda a: a[0],
)
@pytest.mark.parametrize("value", ["garbage", "*.amazonaws.com=ftp://x", "=http://127.0.0.1:1"])
def test_failover_resolve_garbage_on_the_commands_that_probe(
    config: Path, args: list[str], value: str
) -> None:
    outcome = run(config, *args, env={"FAILOVER_RESOLVE": value})
    assert_refused(outcome, "FAILOVER_RESOLVE has an entry that is not HOST_PATTERN=")


@pytest.mark.parametrize("extra", [[], ["--keep-table"], ["--json"]])
def test_down_without_yes_and_nobody_to_ask_refuses_before_reading_aws(
    config: Path, extra: list[str]
) -> None:
    outcome = run(config, "down", *extra)  # CliRunner's stdin is not a terminal
    assert_refused(outcome, "needs confirmation", "--yes")


@pytest.mark.parametrize("command", [["status"], ["plan"], ["logs"], ["up", "--yes"]])
def test_nothing_listening_at_the_endpoint_is_said_at_once(
    config: Path, tmp_path: Path, command: list[str]
) -> None:
    """A sandbox that is not running: one sentence naming the variable, not an outage."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on once this is closed
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    outcome = run_bad(
        ["--config", str(config), *command], tmp_path, env={"AWS_ENDPOINT_URL": closed}
    )
    assert_refused(
        outcome, f"Nothing is listening at AWS_ENDPOINT_URL={closed}", "failover sandbox"
    )
