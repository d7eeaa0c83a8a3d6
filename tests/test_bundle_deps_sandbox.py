"""A bundle with dependencies, deployed on the sandbox: the routes that import them answer.

The zip holds the Lambda-platform builds (a pure-Python wheel and a fake
compiled one tagged manylinux2014_aarch64); the sandbox runs the compiled one
as rebuilt for this machine and says so. All wheels come from a folder the
test writes (PIP_NO_INDEX, PIP_FIND_LINKS): no network. `failover invoke`
is the client, so its output (secret masked) is checked on the way.
"""

from __future__ import annotations

import io
import json
import shutil
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from failover_cli.bundle import build_bundle
from failover_cli.deps.target import LambdaTarget
from tests.conftest import REPO_ROOT, SandboxProcess
from tests.e2e_helpers import Run, failover, unique_stack, write_config
from tests.sandbox_api_helpers import eventually
from tests.wheel_helpers import LAMBDA_TAG, use_wheelhouse, wheelhouse

pytestmark = pytest.mark.sandbox
EAST = "us-east-1"

ROUTES = """

@route("pure")
def pure(request: Request) -> dict:
    import puretool

    return {"greeting": puretool.greet("sandbox")}


@route("calc")
def calc(request: Request) -> dict:
    import fastcalc

    return {"double": fastcalc.double(21), "build": fastcalc.BUILD}
"""


def _bundle(folder: Path) -> Path:
    shutil.copytree(REPO_ROOT / "lambda_bundle", folder)
    with (folder / "app_routes.py").open("a") as routes:
        routes.write(ROUTES)
    (folder / "requirements.txt").write_text("puretool==1.0\nfastcalc==1.0\n")
    return folder


def _start(
    launch: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch
) -> SandboxProcess:
    sandbox = launch()
    sandbox.wait_until_ready()
    # As the session sandbox: no delay before DynamoDB sees new auto scaling (conftest).
    request = urllib.request.Request(
        f"{sandbox.endpoint}/_sandbox/rules", data=b'{"scaling_visible_after": 0}', method="POST"
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10):
        pass
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint)
    monkeypatch.setenv("FAILOVER_RESOLVE", f"*={sandbox.endpoint}")
    return sandbox


def _answer(config: Path, path: str) -> dict[str, Any]:
    """`failover invoke --json` until it answers 200 (the first call builds for the host)."""

    def call() -> dict[str, Any] | None:
        run: Run = failover(config, "invoke", "--region", EAST, "--path", path, "--json")
        answer: dict[str, Any] = json.loads(run.stdout)
        return answer if answer["status"] == 200 and run.exit_code == 0 else None

    return eventually(call, f"{path} answering 200", deadline_s=180)


def test_pure_and_compiled_dependencies_deploy_and_answer(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    launch_sandbox: Callable[..., SandboxProcess],
) -> None:
    use_wheelhouse(monkeypatch, wheelhouse(tmp_path / "wheels"))
    sandbox = _start(launch_sandbox, monkeypatch)  # started after: its pip sees the wheels
    source = _bundle(tmp_path / "bundle")
    stack = unique_stack("deps")
    config = write_config(tmp_path, stack, f"  source: {source}\n")

    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    said_up = " ".join(up.stderr.split())
    assert "dependencies for manylinux2014_aarch64, CPython 3.13 (Lambda arm64)" in said_up

    # What was uploaded is the Lambda build: the same zip, built again, has its wheel tag.
    code = build_bundle(source, LambdaTarget("python3.13", "arm64"))
    lam = boto3.client("lambda", EAST, endpoint_url=sandbox.endpoint)
    deployed = lam.get_function(FunctionName=f"{stack}-fn")["Configuration"]
    assert deployed["CodeSha256"] == code.sha256
    archive = zipfile.ZipFile(io.BytesIO(code.zip_bytes))
    assert f"Tag: {LAMBDA_TAG}" in archive.read("fastcalc-1.0.dist-info/WHEEL").decode()
    assert "fastcalc/_speedups.aarch64.so" in archive.namelist()

    assert _answer(config, "/pure")["body"] == json.dumps({"greeting": "pure hello, sandbox"})
    calc = json.loads(_answer(config, "/calc")["body"])
    assert calc == {"double": 42, "build": "host"}  # the host build ran, not the uploaded one
    said = " ".join(sandbox.stderr().split())
    assert "fastcalc 1.0: uploaded build for manylinux2014_aarch64 (Lambda's platform)" in said
    assert "running the build for" in said and "(this machine)" in said
    assert "puretool" not in said  # a pure-Python wheel runs as uploaded

    secret = deployed["Environment"]["Variables"]["HEALTH_CHECKER_ID"]
    hello = failover(config, "invoke", "--region", EAST)
    assert hello.exit_code == 0, hello.stderr
    assert "HTTP 200" in hello.stdout and f"Hello from {EAST}" in hello.stdout
    assert "healthCheckerId=****(" in hello.stdout and secret not in hello.stdout

    again = failover(config, "up")
    assert again.exit_code == 0, again.stderr
    assert again.mutating == []
    plan = failover(config, "plan", "--json")
    assert plan.exit_code == 0, plan.stderr
    facts = json.loads(plan.stdout)["code"]
    assert facts["sha256"] == code.sha256 and facts["size"] == code.size
    assert facts["changed"] is False and set(facts["regions"].values()) == {"unchanged"}
    assert {p["name"]: p["tags"] for p in facts["dependencies"]["packages"]} == {
        "fastcalc": [LAMBDA_TAG],
        "puretool": ["py3-none-any"],
    }

    assert failover(config, "down", "--yes").exit_code == 0
