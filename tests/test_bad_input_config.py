"""Bad configs beyond tests/test_config_invalid.py, and every bad config through AWS commands.

tests/test_config_invalid.py holds the main corpus (syntax, types, unknown
keys, ranges, impossible combinations) and runs it through `validate`. This
file adds what that corpus lacks — hostile strings (NUL, ANSI escapes, bidi
and zero-width characters, shell metacharacters), path tricks in
function.source, absurd numbers, Unicode look-alikes, YAML's more exotic
features — and then runs BOTH corpora through commands that do talk to AWS
(`plan`, `up`, `down --yes`, …): each must stop at the config, exit 2 naming
file:line: key, print no traceback, and make no AWS call at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bad_input_helpers import assert_refused, run_bad
from tests.test_config_invalid import CASES as MAIN_CORPUS

BASE = "stack: hello\nregions: [us-east-1, us-west-2]\n"  # lines 1-2; cases append from line 3
DOMAIN = "domain:\n  name: a.example.com\n  hosted_zone: example.com\n"  # lines 3-5

Case = tuple[str, str | bytes, str, int | None, str]

HOSTILE: list[Case] = [
    # (id, file content, dotted key, line, fragment of the problem)
    # Control and invisible characters: never in a name, a tag, a message or a terminal.
    ("nul-in-stack", 'stack: "a\\0b"\nregions: [us-east-1, us-west-2]\n', "stack", 1, "U+0000"),
    ("nul-in-seed-key-value", BASE + 'table:\n  seed_item: {HelloKey: "He\\0llo", Hello: x}\n',
     "table.seed_item.HelloKey", 4, "U+0000"),
    ("nul-in-env-value", BASE + 'function:\n  environment:\n    AB: "x\\0y"\n',
     "function.environment.AB", 5, "U+0000"),
    ("ansi-in-tag-value", BASE + 'tags:\n  team: "\\e[31mred"\n', "tags.team", 4, "U+001B"),
    ("ansi-in-function-name", BASE + 'function:\n  name: "\\x1b[2Jfn"\n', "function.name", 4,
     "U+001B"),
    ("ansi-in-search-string", BASE + 'health_check:\n  search_string: "hello\\e from"\n',
     "health_check.search_string", 4, "U+001B"),
    ("ansi-in-key", BASE + 'tags:\n  "\\e[1mteam": x\n', 'tags."\\u001b[1mteam"', 4, "U+001B"),
    ("zero-width-space-in-stack", 'stack: "hel\\u200blo"\nregions: [us-east-1, us-west-2]\n',
     "stack", 1, "U+200B"),
    ("bidi-override-in-tag", BASE + 'tags:\n  team: "abc\\u202egpj.exe"\n', "tags.team", 4,
     "U+202E"),
    ("bom-inside-value", BASE + 'tags:\n  team: "a\\ufeffb"\n', "tags.team", 4, "U+FEFF"),
    ("newline-in-email", BASE + 'alarms:\n  email: "a@b.com\\nBcc: x@y.com"\n', "alarms.email",
     4, "U+000A"),
    ("line-separator-in-stage", BASE + 'api:\n  stage: "prod\\u2028x"\n', "api.stage", 4,
     "U+2028"),
    # Shell metacharacters: names are passed to AWS APIs, never to a shell, and still refused.
    ("shell-in-stack", 'stack: "$(rm -rf /)"\nregions: [us-east-1, us-west-2]\n', "stack", 1,
     "a stack name is 1 to 32 characters"),
    ("shell-in-table-name", BASE + 'table:\n  name: "t; rm -rf ~"\n', "table.name", 4,
     "DynamoDB table name"),
    ("shell-in-function-name", BASE + 'function:\n  name: "fn|nc evil 9"\n', "function.name", 4,
     "Lambda function name"),
    ("backtick-in-tag", BASE + "tags:\n  team: '`id`'\n", "tags.team", 4,
     "characters AWS tags do not allow"),
    ("shell-in-stage", BASE + "api:\n  stage: 'prod&&id'\n", "api.stage", 4, "stage name"),
    ("shell-in-base-path", BASE + DOMAIN + "  base_path: '$(id)'\n", "domain.base_path", 6,
     "base path"),
    # Path tricks in function.source (relative paths start at the config's folder).
    ("source-traversal-to-etc", BASE + "function:\n  source: ../../../../../../../../etc\n",
     "function.source", 4, "has no handler.py"),
    ("source-root", BASE + "function:\n  source: /\n", "function.source", 4, "has no handler.py"),
    ("source-is-a-file", BASE + "function:\n  source: /etc/hostname\n", "function.source", 4,
     "does not exist"),
    ("source-unknown-user-home", BASE + "function:\n  source: '~no-such-user-xyz/code'\n",
     "function.source", 4, "cannot be used as a folder"),
    ("source-name-too-long", BASE + f"function:\n  source: {'a' * 300}\n", "function.source", 4,
     "cannot be used as a folder"),
    ("source-empty", BASE + "function:\n  source: ''\n", "function.source", 4,
     "has no handler.py"),
    ("base-path-dot-dot", BASE + DOMAIN + "  base_path: '..'\n", "domain.base_path", 6,
     "HTTP clients remove"),
    # Absurd numbers.
    ("int-5000-digits", BASE + f"function:\n  memory_mb: {'9' * 5000}\n", "function.memory_mb", 4,
     "no setting allows one that large"),
    ("int-huge", BASE + "function:\n  memory_mb: 99999999999999999999\n", "function.memory_mb",
     4, "between 128 and 10240"),
    ("int-negative", BASE + "health_check:\n  failure_threshold: -1\n",
     "health_check.failure_threshold", 4, "between 1 and 10"),
    ("float-infinity", BASE + "function:\n  timeout_s: .inf\n", "function.timeout_s", 4,
     "whole number, not a decimal number"),
    ("float-nan", BASE + "domain:\n  name: a.example.com\n  hosted_zone: example.com\n"
     "  ttl: .nan\n", "domain.ttl", 6, "whole number"),
    ("huge-tag-key", BASE + f"tags:\n  {'k' * 200}: v\n", f'tags."{"k" * 40}…"', 4,
     "1 to 128 characters"),
    # Unicode look-alikes: every name is ASCII; tag keys may not imitate reserved ones.
    ("cyrillic-in-stack", "stack: h\u0435llo\nregions: [us-east-1, us-west-2]\n", "stack", 1,
     "lowercase letters"),
    ("cyrillic-in-region", "stack: hello\nregions: [us-east-1, us-w\u0435st-2]\n", "regions[1]", 2,
     "did you mean us-west-2"),
    ("cyrillic-in-domain", BASE + "domain:\n  name: h\u0435llo.example.com\n"
     "  hosted_zone: example.com\n", "domain.name", 4, "not a DNS name"),
    ("cyrillic-ownership-tag", BASE + "tags:\n  f\u0430ilover:stack: other\n",
     "tags.f\u0430ilover:stack", 4, "looks like failover:stack"),
    ("uppercase-ownership-tag", BASE + "tags:\n  Failover:Managed-By: me\n",
     "tags.Failover:Managed-By", 4, "looks like failover:managed-by"),
    ("fullwidth-aws-prefix", BASE + "tags:\n  \uff41ws:owner: me\n", "tags.\uff41ws:owner", 4,
     "looks like aws:"),
    ("fullwidth-colon-tag", BASE + "tags:\n  failover\uff1astack: x\n", "tags.failover\uff1astack",
     4, "looks like failover:stack"),
    ("fullwidth-colon-plain-tag", BASE + "tags:\n  team\uff1aname: x\n", "tags.team\uff1aname", 4,
     "characters AWS tags do not allow"),
    ("look-alike-checker-region", BASE + "health_check:\n  checker_regions:\n"
     "    - us-east-1\n    - us-west-1\n    - u\u0455-west-2\n", "health_check.checker_regions[2]",
     7, "Route 53 checker region"),
    # YAML features a config has no use for.
    ("python-object-tag", BASE + "api:\n  stage: !!python/object/apply:os.system [id]\n",
     "api.stage", 4, "must be a string"),
    ("binary-tag", BASE + "api:\n  stage: !!binary aGVsbG8=\n", "api.stage", 4,
     "must be a string"),
    ("date-as-stage", BASE + "api:\n  stage: 2024-01-01\n", "api.stage", 4, "not a date"),
    ("omap-as-tags", BASE + "tags: !!omap [a: b]\n", "tags", 3, "must be a mapping"),
    ("list-as-key", BASE + "tags:\n  ? [a, b]\n  : c\n", "tags", 4, "keys must be strings"),
    ("null-key", BASE + "tags:\n  ~: c\n", "tags", 4, "keys must be strings"),
    ("alias-section", BASE + "tags: &t {team: x}\nlogs: *t\n", "logs.team", 3,
     "not a known key"),
    ("alias-bomb", BASE + "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a]\n"
     "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n", "a", 3, "not a known key"),
    # "Billion laughs": nine levels of ten aliases would be 10**10 values to walk.
    ("billion-laughs", BASE + "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
     + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10))
     + "tags: {team: *l9}\n", "(syntax)", None, "more values than it writes"),
    ("alias-loop", BASE + "tags: &t {team: *t}\n", "(syntax)", 3, "alias inside the value"),
    ("tab-indent", BASE + "table:\n\tname: x\n", "(syntax)", 4, "not valid YAML"),
    ("utf16-file", ("\ufeff" + BASE).encode("utf-16"), "(file)", 1, "not valid UTF-8"),
    ("regions-nested-list", "stack: hello\nregions: [[us-east-1], us-west-2]\n", "regions[0]", 2,
     "must be a string, not a list"),
    ("regions-null-item", "stack: hello\nregions: [us-east-1, ~]\n", "regions[1]", 2,
     "must be a string, not empty"),
    ("stack-null", "stack:\nregions: [us-east-1, us-west-2]\n", "stack", 1,
     "must be a string, not empty"),
    ("merge-key-top-level", "<<: {stack: hello}\nregions: [us-east-1, us-west-2]\n", "", 1,
     "merge key"),
]  # fmt: skip

# A few of each kind of the main corpus, through every command that would touch AWS.
AWS_COMMANDS: list[list[str]] = [
    ["plan"],
    ["up"],
    ["status"],
    ["force-fail", "--region", "us-east-1"],
    ["drill", "--region", "us-east-1"],
    ["gc-logs"],
    ["logs"],
    ["rotate-secret"],
    ["down", "--yes"],
]


def _write(folder: Path, content: str | bytes) -> Path:
    path = folder / "failover.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _location(path: Path, key: str, line: int | None) -> str:
    return f"{path}:{line}: {key}: " if line else f"{path}: {key}: "


@pytest.mark.parametrize(
    ("content", "key", "line", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in HOSTILE],
)
@pytest.mark.parametrize("command", [["validate"], ["plan"]], ids=["validate", "plan"])
def test_hostile_config_exits_2_at_its_key_without_aws(
    tmp_path: Path,
    command: list[str],
    content: str | bytes,
    key: str,
    line: int | None,
    fragment: str,
) -> None:
    path = _write(tmp_path, content)
    outcome = run_bad(["--config", str(path), *command], tmp_path)
    assert_refused(outcome, _location(path, key, line), fragment)
    assert outcome.stdout == ""
    assert "\x1b" not in outcome.output and "\x00" not in outcome.output


@pytest.mark.parametrize(
    ("content", "key", "line", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in MAIN_CORPUS],
)
def test_main_corpus_stops_plan_before_any_aws_call(
    tmp_path: Path, content: str | bytes, key: str, line: int | None, fragment: str
) -> None:
    path = _write(tmp_path, content)
    outcome = run_bad(["--config", str(path), "plan"], tmp_path)
    assert_refused(outcome, _location(path, key, line), fragment)


@pytest.mark.parametrize("command", AWS_COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(
    "case_id", ["unknown-top-key", "stack-number", "failover-three-regions", "syntax-error"]
)
def test_every_aws_command_stops_at_a_bad_config(
    tmp_path: Path, command: list[str], case_id: str
) -> None:
    [(_, content, key, line, fragment)] = [c for c in MAIN_CORPUS if c[0] == case_id]
    path = _write(tmp_path, content)
    outcome = run_bad(["--config", str(path), *command], tmp_path)
    assert_refused(outcome, _location(path, key, line), fragment)


@pytest.mark.parametrize("command", AWS_COMMANDS, ids=lambda c: c[0])
def test_a_hostile_file_name_is_escaped_in_the_message(tmp_path: Path, command: list[str]) -> None:
    """The config path is echoed in errors: its escape characters must not reach the terminal."""
    path = tmp_path / "evil\x1b[2J\x07.yaml"
    path.write_text("stack: Hello\nregions: [us-east-1, us-west-2]\n", encoding="utf-8")
    outcome = run_bad(["--config", str(path), *command], tmp_path)
    assert_refused(outcome, "evil\\x1b[2J\\x07.yaml:1: stack: ")
    assert "\x1b" not in outcome.output and "\x07" not in outcome.output


def test_the_corpora_are_large_distinct_and_do_not_overlap() -> None:
    ids = [case[0] for case in MAIN_CORPUS + HOSTILE]
    contents = [case[1] for case in MAIN_CORPUS + HOSTILE]
    assert len(MAIN_CORPUS) + len(HOSTILE) >= 40
    assert len(HOSTILE) >= 40, "this file alone covers the hostile categories"
    assert len(set(ids)) == len(ids), "ids repeat"
    assert len(set(contents)) == len(contents), "a case repeats another's file"


def test_shell_characters_in_an_email_are_data_not_commands(tmp_path: Path) -> None:
    """`$(id)` is legal in an e-mail's local part and only ever goes to the SNS API, never to
    a shell: validate accepts it (the one hostile-looking value that is not bad input)."""
    path = _write(tmp_path, BASE + "alarms:\n  email: '$(id)+ops@example.com'\n")
    outcome = run_bad(["--config", str(path), "validate"], tmp_path)
    assert outcome.exit_code == 0, outcome.explain()
    assert outcome.aws_calls == [] and not outcome.call_log_written
