"""Test-wide safety: no test may reach real AWS.

Credentials are fake, profiles and config files are hidden, and every AWS
endpoint points at loopback unless a test sets its own (moto in-process
intercepts before any request leaves; sandbox tests point at their server).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_real_aws(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("FAILOVER_"):
            monkeypatch.delenv(name, raising=False)
    empty = tmp_path_factory.mktemp("awshome")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
    # Any request that slips past moto goes to a closed loopback port and fails
    # fast (moto intercepts before the proxy is used; sandbox tests set
    # AWS_ENDPOINT_URL to their own loopback server, which NO_PROXY exempts).
    for proxy in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,.localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost,.localhost")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield
