"""A bad release on two regions with failover routing and a custom domain never reaches users.

The release (its application module raises at import) goes to the SECONDARY first,
fails the first gate there and is rolled back: `up` exits 1, both regions' APIs still
serve the previous release, and the custom domain, probed every 0.3 s throughout, never
failed a request. A good release then reaches both regions, and a second `up` writes
nothing.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from pathlib import Path

import boto3
import pytest

from failover_cli.bundle import shipped_bundle_path
from failover_cli.net.http import HttpClient
from tests.e2e_helpers import client, failover

pytestmark = pytest.mark.sandbox
EAST, WEST = "us-east-1", "us-west-2"


def _release(source: Path, marker: str, *, broken: bool = False) -> None:
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(shipped_bundle_path(), source, ignore=shutil.ignore_patterns("__pycache__"))
    routes = source / "app_routes.py"
    text = routes.read_text() + f"\n# release {marker}\n"
    if broken:
        text += "raise RuntimeError('this release cannot start')\n"
    routes.write_text(text)


class Prober:
    """GET the custom domain every 0.3 s on a thread; remembers every failed answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.failures: list[str] = []
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        http = HttpClient()
        while not self._stop.wait(0.3):
            answer = http.get(self.url, timeout=30)
            self.count += 1
            if answer.status != 200:
                self.failures.append(f"{answer.status} {answer.error} {answer.body[:80]}")

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _live_version(endpoint: str, region: str, function: str) -> str:
    lam = client("lambda", region, endpoint)
    return str(lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"])


def test_a_release_that_cannot_start_never_fails_the_custom_domain(
    sandbox_env: str, tmp_path: Path
) -> None:
    name = f"r{uuid.uuid4().hex[:10]}"
    zone, domain = f"{name}.test", f"app.{name}.test"
    boto3.client("route53", EAST).create_hosted_zone(Name=zone, CallerReference=name)
    source = tmp_path / "code"
    _release(source, "good-1")
    config = tmp_path / "failover.yaml"
    function = f"{name}-fn"
    config.write_text(
        f"stack: {name}\nregions: [{EAST}, {WEST}]\n"
        f"table: {{name: {name}.Hello, billing: on-demand}}\n"
        f"function: {{name: {function}, source: {source}}}\n"
        f"domain: {{name: {domain}, hosted_zone: {zone}, routing: failover}}\n"
        "deploy: {bake: 0s}\n",
        encoding="utf-8",
    )
    up = failover(config, "up")
    assert up.exit_code == 0, up.stderr
    try:
        url = f"https://{domain}/v1/hi"
        assert HttpClient().get(url).status == 200
        first = {r: _live_version(sandbox_env, r, function) for r in (EAST, WEST)}

        with Prober(url) as prober:
            _release(source, "broken", broken=True)
            bad = failover(config, "up", "--yes")
            assert bad.exit_code == 1, bad.stderr
            said = " ".join(bad.stderr.split())
            assert "The release stopped in us-west-2" in said, said
            assert "us-east-1 never saw it" in said
            for region in (EAST, WEST):
                assert _live_version(sandbox_env, region, function) == first[region]

            _release(source, "good-2")
            good = failover(config, "up", "--yes")
            assert good.exit_code == 0, good.stderr
        assert prober.count > 0 and prober.failures == []
        for region in (EAST, WEST):
            assert _live_version(sandbox_env, region, function) != first[region]
        assert failover(config, "up").mutating == []
    finally:
        failover(config, "down", "--yes")
