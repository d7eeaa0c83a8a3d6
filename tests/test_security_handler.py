"""The function compares the health-checker secret in constant time (SPEC §5), proven without
measuring time.

- every accepted secret (current, and next during a rotation) goes through
  `hmac.compare_digest`, once per request, whatever the candidate: right, wrong,
  shorter, longer, empty, missing, non-ASCII, and whichever secret it matches
  (no short-circuit after a match);
- a right and a wrong candidate execute the same lines of `secret_ok`, in the
  same order (traced), so nothing but compare_digest looks at the value;
- statically, nothing in the bundle compares a secret with `==`, `!=` or `in`,
  and the query parameter reaches nothing but `secret_ok`.

The source is `lambda_bundle/` (what `init` copies and the default `function.source`);
`failover_cli/lambda_bundle` links to it. What ships is the wheel: it is built, and
its bundle must hold the same files, byte for byte, so the checks above hold for it.
"""

from __future__ import annotations

import ast
import hmac
import importlib
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "lambda_bundle"
SECRET = "0123456789abcdef" * 3  # 48 characters, like secrets.token_hex(24)
NEXT = "fedcba9876543210" * 3
CANDIDATES = {
    "right": SECRET,
    "next": NEXT,
    "wrong-same-length": "f" * len(SECRET),
    "one-char-off": SECRET[:-1] + "0",
    "prefix": SECRET[:-1],
    "shorter": SECRET[:8],
    "longer": SECRET + "00",
    "much-longer": SECRET * 40,
    "empty": "",
    "missing": None,
    "non-ascii": "ü" * 24,
}


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh import of the bundle's handler module (its modules are top-level, as in Lambda)."""
    folder = BUNDLE
    names = {p.stem for p in folder.glob("*.py")}
    saved = {name: sys.modules.pop(name) for name in list(names) if name in sys.modules}
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("FORCE_FAIL", "false")
    monkeypatch.setenv("DEEP_PING_PERCENT", "0")
    monkeypatch.setenv("HEALTH_CHECKER_ID", SECRET)
    monkeypatch.delenv("HEALTH_CHECKER_ID_NEXT", raising=False)
    try:
        yield importlib.import_module("handler")
    finally:
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, bytes]]:
    """Every (given, secret) pair passed to hmac.compare_digest, which still does the work."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return calls


def _encoded(candidate: str | None) -> bytes:
    return (candidate or "").encode()


@pytest.mark.parametrize("name", list(CANDIDATES))
def test_one_secret_every_candidate_goes_through_compare_digest(
    handler: Any, compared: list[tuple[bytes, bytes]], name: str
) -> None:
    candidate = CANDIDATES[name]
    assert handler.secret_ok(candidate) is (name == "right")
    assert compared == [(_encoded(candidate), SECRET.encode())]


@pytest.mark.parametrize("name", list(CANDIDATES))
def test_during_a_rotation_both_secrets_are_compared_every_time(
    handler: Any, compared: list[tuple[bytes, bytes]], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("HEALTH_CHECKER_ID_NEXT", NEXT)
    candidate = CANDIDATES[name]
    assert handler.secret_ok(candidate) is (name in ("right", "next"))
    # No early exit after a match: the same two comparisons, in the same order.
    assert compared == [
        (_encoded(candidate), SECRET.encode()),
        (_encoded(candidate), NEXT.encode()),
    ]


@pytest.mark.parametrize("route", ["health", "hello"])
def test_requests_reach_the_comparison_through_the_handler(
    handler: Any, compared: list[tuple[bytes, bytes]], route: str
) -> None:
    def status(candidate: str | None) -> int:
        query = None if candidate is None else {"healthCheckerId": candidate}
        event = {
            "path": f"/{route}",
            "httpMethod": "GET",
            "pathParameters": {"proxy": route},
            "queryStringParameters": query,
        }
        return int(handler.handler(event, None)["statusCode"])

    assert [status(c) for c in (SECRET, "wrong", None, SECRET + "x")] == [200, 403, 403, 403]
    given = [a for a, _ in compared]
    assert given == [SECRET.encode(), b"wrong", b"", (SECRET + "x").encode()]
    assert {b for _, b in compared} == {SECRET.encode()}


def _traced_lines(function: Callable[..., Any], *args: Any) -> list[int]:
    """Line numbers executed inside `function`'s own frame (not its callees)."""
    code = function.__code__
    lines: list[int] = []

    def tracer(frame: FrameType, event: str, _arg: Any) -> Any:
        if frame.f_code is not code:
            return None
        if event == "line":
            lines.append(frame.f_lineno)
        return tracer

    sys.settrace(tracer)
    try:
        function(*args)
    finally:
        sys.settrace(None)
    return lines


@pytest.mark.parametrize("rotating", [False, True], ids=["one-secret", "rotating"])
def test_right_and_wrong_secrets_take_the_same_path(
    handler: Any, monkeypatch: pytest.MonkeyPatch, rotating: bool
) -> None:
    if rotating:
        monkeypatch.setenv("HEALTH_CHECKER_ID_NEXT", NEXT)
    paths = {name: _traced_lines(handler.secret_ok, c) for name, c in CANDIDATES.items()}
    assert paths["right"], "the trace saw secret_ok run"
    assert all(path == paths["right"] for path in paths.values()), paths


def _secret_names(node: ast.AST) -> bool:
    """Whether an expression mentions a secret (by name, attribute or call)."""
    for sub in ast.walk(node):
        text = getattr(sub, "id", None) or getattr(sub, "attr", None) or ""
        if "secret" in text.lower() or "SECRET" in text:
            return True
        if isinstance(sub, ast.Constant) and sub.value in (
            "HEALTH_CHECKER_ID",
            "HEALTH_CHECKER_ID_NEXT",
            "healthCheckerId",
        ):
            return True
    return False


def test_nothing_in_the_bundle_compares_a_secret_by_value() -> None:
    folder = BUNDLE
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                # `v for v in values if v` style truth tests are fine; value comparisons are not.
                assert not any(_secret_names(o) for o in operands), (
                    f"{path.name}:{node.lineno} compares a secret: {ast.unparse(node)}"
                )


def test_the_secret_parameter_and_the_secrets_reach_only_secret_ok() -> None:
    folder = BUNDLE
    uses: list[str] = []
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            for node in ast.walk(function):
                name = getattr(node, "id", None) or getattr(node, "attr", None)
                if name in ("SECRET_PARAM", "accepted_secrets"):
                    uses.append(f"{path.name}:{function.name}:{name}")
    assert sorted(set(uses)) == [
        "handler.py:dispatch:SECRET_PARAM",  # read from the query, handed to secret_ok
        "handler.py:secret_ok:accepted_secrets",
    ]
    handler_tree = ast.parse((folder / "handler.py").read_text(encoding="utf-8"))
    [dispatch] = [
        n for n in ast.walk(handler_tree) if isinstance(n, ast.FunctionDef) and n.name == "dispatch"
    ]
    calls = [
        n
        for n in ast.walk(dispatch)
        if isinstance(n, ast.Call)
        and any(isinstance(a, ast.Name) and a.id == "SECRET_PARAM" for a in n.args)
    ]
    # request.query.get(SECRET_PARAM), and that call only ever as secret_ok's argument.
    outer = [
        n
        for n in ast.walk(dispatch)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id == "secret_ok"
        and any(a in calls for a in n.args)
    ]
    assert len(calls) == 1 and len(outer) == 1, ast.unparse(dispatch)


def _source_files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_ships_the_bundle_as_it_is_in_the_source(tmp_path: Path) -> None:
    """The package's copy is a link in the source tree (comparing the two compares a file
    with itself): build the wheel from a copy of the project and read its bundle."""
    project = tmp_path / "project"
    shutil.copytree(
        REPO / "failover_cli",
        project / "failover_cli",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(BUNDLE, project / "lambda_bundle", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, project / name)
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(project),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("failover-*.whl")
    prefix = "failover_cli/lambda_bundle/"
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name.removeprefix(prefix): archive.read(name)
            for name in archive.namelist()
            if name.startswith(prefix) and not name.endswith("/")
        }
    source = _source_files(BUNDLE)
    assert sorted(shipped) == sorted(source)
    for name, data in source.items():
        assert shipped[name] == data, f"the wheel's {name} differs from lambda_bundle/{name}"


def test_module_is_imported_fresh(handler: ModuleType) -> None:
    assert Path(handler.__file__ or "").parent == BUNDLE
