"""FAILOVER_RESOLVE: the tool's HTTP requests go where the user says, with the original Host."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from failover_cli.errors import BadInput
from failover_cli.net.http import HttpClient, Override, curl_command, parse_overrides, route


class EchoHost(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"{self.headers['Host']} {self.path}".encode()
        self.send_response(503 if "fail" in self.path else 200)
        self.send_header("X-Failover-Region", "us-west-2")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHost)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_parse_and_route_match_host_patterns() -> None:
    overrides = parse_overrides(
        " *.amazonaws.com=http://127.0.0.1:4566 , hello.example.com=https://10.0.0.1:8443"
    )
    assert overrides == [
        Override("*.amazonaws.com", "http://127.0.0.1:4566"),
        Override("hello.example.com", "https://10.0.0.1:8443"),
    ]
    url = "https://abc.execute-api.us-east-1.amazonaws.com/prod/health?x=1"
    assert route(url, overrides) == (
        "http://127.0.0.1:4566/prod/health?x=1",
        "abc.execute-api.us-east-1.amazonaws.com",
    )
    assert route("https://other.org/a", overrides) == ("https://other.org/a", None)


@pytest.mark.parametrize("bad", ["nohost", "*.x.com=ftp://1.2.3.4", "=http://1.2.3.4", "a=b"])
def test_a_malformed_override_is_bad_input_naming_the_variable(bad: str) -> None:
    with pytest.raises(BadInput) as raised:
        parse_overrides(bad)
    assert "FAILOVER_RESOLVE" in raised.value.render()


def test_get_sends_the_original_host_to_the_override_address(echo_server: str) -> None:
    client = HttpClient(parse_overrides(f"hello.example.com={echo_server}"))
    answer = client.get("https://hello.example.com/v1/hello?healthCheckerId=s")
    assert answer.status == 200 and answer.ok
    assert answer.body == "hello.example.com /v1/hello?healthCheckerId=s"
    assert answer.header("x-failover-region") == "us-west-2"


def test_http_errors_and_unreachable_hosts_are_answers_not_exceptions(echo_server: str) -> None:
    client = HttpClient(
        parse_overrides(f"*.example.com={echo_server},dead.test=http://127.0.0.1:9")
    )
    failing = client.get("https://api.example.com/fail")
    assert failing.status == 503 and not failing.ok and "fail" in failing.body
    dead = client.get("https://dead.test/x", timeout=2)
    assert dead.status == 0 and dead.error


# A name under .invalid never resolves (RFC 6761), wherever the tests run.
NOWHERE = "hello.failover-test.invalid"


def without_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' stand-in proxy would resolve names for us: look them up here instead."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_an_unresolvable_name_says_which_variable_would_route_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_proxies(monkeypatch)
    monkeypatch.delenv("FAILOVER_RESOLVE", raising=False)
    answer = HttpClient([]).get(f"https://{NOWHERE}/v1/hello", timeout=5)
    assert answer.status == 0
    assert f"{NOWHERE} does not resolve" in answer.error
    assert "FAILOVER_RESOLVE is not set" in answer.error
    assert "FAILOVER_RESOLVE is not set" in (
        HttpClient([]).unresolvable(f"https://{NOWHERE}/") or ""
    )

    monkeypatch.setenv("FAILOVER_RESOLVE", "*.amazonaws.com=http://127.0.0.1:9")
    other = HttpClient().unresolvable(f"https://{NOWHERE}/v1/hello")
    assert other is not None and "no FAILOVER_RESOLVE entry matches it" in other


def test_a_name_routed_by_failover_resolve_is_checked_at_its_address(
    echo_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_proxies(monkeypatch)
    routed = HttpClient(parse_overrides(f"{NOWHERE}={echo_server}"))
    assert routed.unresolvable(f"https://{NOWHERE}/v1/hello") is None
    astray = HttpClient(parse_overrides(f"{NOWHERE}=http://backend.failover-test.invalid:8080"))
    problem = astray.unresolvable(f"https://{NOWHERE}/v1/hello")
    assert problem is not None
    assert problem.startswith(f"FAILOVER_RESOLVE sends {NOWHERE} to backend.failover-test.invalid")


def test_a_curl_command_that_works_from_here_follows_failover_resolve() -> None:
    api = "https://a1b2c3.execute-api.us-east-1.amazonaws.com/prod/hi"
    assert curl_command(api, []) == f"curl {api}"  # nothing overridden: AWS's own URL
    loopback = parse_overrides("*=http://127.0.0.1:4566")
    assert curl_command(api, loopback) == (
        "curl http://a1b2c3.execute-api.us-east-1.amazonaws.com.localhost:4566/prod/hi"
    )
    elsewhere = parse_overrides("*.example.com=http://10.0.0.5:8080")
    assert curl_command("https://hello.example.com/v1/hi", elsewhere) == (
        "curl -H 'Host: hello.example.com' http://10.0.0.5:8080/v1/hi"
    )
    # A custom AWS endpoint serves the API's host when no entry matches.
    assert curl_command(api, [], "http://localhost:4566") == (
        "curl http://a1b2c3.execute-api.us-east-1.amazonaws.com.localhost:4566/prod/hi"
    )
