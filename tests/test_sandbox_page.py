"""The watch page at /_sandbox/ in headless Chromium: it follows a failover with no reload.

The original recipe's browser demo never switched regions (its page kept
asking the region it first reached). Here a real stack with a domain is
deployed on a sandbox running 20 times faster, the page is opened, the
primary's function is forced to fail with plain boto3, and the page must show
the other region answering and the moment it switched, in the same page load;
then the failure is undone and the page must switch back.

Skipped only when Chromium or its driver is missing (`scripts/install-browser.sh`
installs both; CI runs it).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from failover_cli.cli.main import cli
from tests.conftest import SandboxProcess

pytestmark = pytest.mark.sandbox

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Flags that work on a machine with no display and a closed network.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",  # the tests' proxy variables are for boto3, not for loopback pages
    "--window-size=1280,1000",
)
STACK = "watch"
DOMAIN = "hello.example.com"
ZONE = "example.com"
PRIMARY, SECONDARY = "us-east-1", "us-west-2"
FUNCTION = f"{STACK}-fn"
CONFIG = f"""\
stack: {STACK}
regions: [{PRIMARY}, {SECONDARY}]
table:
  name: {STACK}.Hello
  billing: on-demand
function:
  name: {FUNCTION}
domain:
  name: {DOMAIN}
  hosted_zone: {ZONE}
  base_path: v1
  routing: failover
health_check:
  interval_s: 10
  failure_threshold: 2
"""
# Screenshots land here, outside pytest's rotating tmp folders, to be looked at.
SCREENSHOTS = Path(tempfile.gettempdir()) / "failover-sandbox-page"
FAILOVER_BUDGET = 60.0  # real seconds; at time scale 20 detection takes about one


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return f"{path} is not installed (scripts/install-browser.sh installs it)"
    return None


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium driven through the system chromedriver; quit (both pids) after."""
    missing = _browser_missing()
    if missing:
        pytest.skip(missing)
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    service = Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()  # ends Chromium, then stops chromedriver by its pid
        if service.process is not None and service.process.poll() is None:
            service.process.kill()


@pytest.fixture
def sandbox(
    launch_sandbox: Callable[..., SandboxProcess], monkeypatch: pytest.MonkeyPatch
) -> SandboxProcess:
    """A sandbox of its own (the page lists every stack), 20 times faster, used by boto3 here."""
    process: SandboxProcess = launch_sandbox("--time-scale", "20")
    process.wait_until_ready()
    monkeypatch.setenv("AWS_ENDPOINT_URL", process.endpoint)
    monkeypatch.setenv(
        "FAILOVER_RESOLVE",
        f"*.amazonaws.com={process.endpoint},*.localhost={process.endpoint},"
        f"{DOMAIN}={process.endpoint}",
    )
    return process


def _client(service: str, region: str, endpoint: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def _set_force_fail(endpoint: str, region: str, value: bool) -> None:
    """What an operator does by hand in the console: merge FORCE_FAIL into the environment."""
    lam = _client("lambda", region, endpoint)
    variables = lam.get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=FUNCTION,
        Environment={"Variables": {**variables, "FORCE_FAIL": "true" if value else "false"}},
    )
    # The API serves the `live` alias: the edit serves once published and aliased.
    lam.get_waiter("function_updated_v2").wait(FunctionName=FUNCTION)
    version = lam.publish_version(FunctionName=FUNCTION)["Version"]
    lam.get_waiter("published_version_active").wait(FunctionName=FUNCTION, Qualifier=version)
    lam.update_alias(FunctionName=FUNCTION, Name="live", FunctionVersion=version)


def _secret(endpoint: str) -> str:
    lam = _client("lambda", PRIMARY, endpoint)
    variables = lam.get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]
    return str(variables["HEALTH_CHECKER_ID"])


def _deploy(tmp_path: Path, endpoint: str) -> None:
    _client("route53", PRIMARY, endpoint).create_hosted_zone(
        Name=ZONE, CallerReference=f"page-test-{time.time()}"
    )
    config = tmp_path / "failover.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "up"])
    assert result.exit_code == 0, result.output


def _watch(driver: Any) -> dict[str, Any]:
    state: dict[str, Any] = driver.execute_script("return window.failoverWatch || {}")
    return state


def _wait_for(
    driver: Any, what: str, check: Callable[[dict[str, Any]], bool], budget: float
) -> dict[str, Any]:
    deadline = time.monotonic() + budget
    state = _watch(driver)
    while time.monotonic() < deadline:
        state = _watch(driver)
        if check(state):
            return state
        time.sleep(0.2)
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / f"never-{what.replace(' ', '-')}.png"
    driver.save_screenshot(str(shot))
    raise AssertionError(f"the page never showed {what} within {budget:g}s: {state} ({shot})")


def _last_switch_to(state: dict[str, Any]) -> str | None:
    switches = state.get("switches") or []
    return str(switches[-1]["to"]) if switches else None


def _text(driver: Any, element_id: str) -> str:
    text: str = driver.find_element("id", element_id).text
    return text


def _navigations(driver: Any) -> int:
    count: int = driver.execute_script("return performance.getEntriesByType('navigation').length")
    return count


def test_page_follows_a_forced_failover_without_a_reload(
    browser: Any, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    endpoint = sandbox.endpoint
    _deploy(tmp_path, endpoint)
    browser.get(f"{endpoint}/_sandbox/")
    loaded = _wait_for(
        browser, f"{PRIMARY} serving", lambda s: s.get("region") == PRIMARY, budget=30
    )
    assert _text(browser, "serving-region") == PRIMARY
    assert "Hello from us-east-1" in _text(browser, "answer-message")
    assert loaded["switches"] == []

    _set_force_fail(endpoint, PRIMARY, True)
    try:
        failed_over = _wait_for(
            browser,
            f"{SECONDARY} serving after a switch",
            lambda s: s.get("region") == SECONDARY and _last_switch_to(s) == SECONDARY,
            budget=FAILOVER_BUDGET,
        )
        switch = failed_over["switches"][-1]
        assert (switch["from"], switch["to"]) == (PRIMARY, SECONDARY)
        banner = _text(browser, "last-switch")
        assert f"{PRIMARY} → {SECONDARY}" in banner
        highlighted = browser.find_elements("css selector", "#log li.switch")
        assert any(f"from {PRIMARY} to {SECONDARY}" in row.text for row in highlighted)
        assert switch["time"]  # the moment, as the sandbox answered it
        assert _text(browser, "serving-region") == SECONDARY
        assert "Hello from us-west-2" in _text(browser, "answer-message")
        # The health cards follow the checkers: the failed primary turns unhealthy.
        _wait_for(
            browser,
            f"{PRIMARY} unhealthy",
            lambda _s: (
                browser.execute_script(
                    f"return document.querySelector('.region-card[data-region=\"{PRIMARY}\"]')"
                    ".dataset.health"
                )
                == "unhealthy"
            ),
            budget=FAILOVER_BUDGET,
        )
        # Same page load all along: no reload, no navigation.
        assert failed_over["loadId"] == loaded["loadId"]
        assert failed_over["polls"] > loaded["polls"]
        assert _navigations(browser) == 1
        SCREENSHOTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(SCREENSHOTS / "failed-over.png"))
    finally:
        _set_force_fail(endpoint, PRIMARY, False)

    back = _wait_for(
        browser,
        f"{PRIMARY} serving again",
        lambda s: s.get("region") == PRIMARY and _last_switch_to(s) == PRIMARY,
        budget=FAILOVER_BUDGET,
    )
    assert back["loadId"] == loaded["loadId"] and _navigations(browser) == 1
    # The secret stays server-side: not in the page, not in what it fetched.
    secret = _secret(endpoint)
    assert secret not in browser.page_source
    fetched = browser.execute_script("return fetch('api/probe?stack=watch').then((r) => r.text())")
    assert secret not in fetched
    answer = json.loads(fetched)
    assert answer.get("region") == PRIMARY, answer


def test_the_pages_outage_switch_takes_the_primary_down_and_the_page_follows(
    browser: Any, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    """The switch on the page, clicked as a user would: a dataplane outage of the primary
    fails its checks, DNS moves, the page shows the other region; ending it moves back."""
    from selenium.webdriver.support.ui import Select

    endpoint = sandbox.endpoint
    _deploy(tmp_path, endpoint)
    browser.get(f"{endpoint}/_sandbox/")
    _wait_for(browser, f"{PRIMARY} serving", lambda s: s.get("region") == PRIMARY, budget=30)
    _wait_for(
        browser,
        "the stack's regions in the switch",
        lambda _s: SECONDARY in _text(browser, "outage-region"),
        budget=15,
    )
    Select(browser.find_element("id", "outage-region")).select_by_visible_text(PRIMARY)
    Select(browser.find_element("id", "outage-mode")).select_by_value("dataplane")
    browser.find_element("id", "outage-start").click()
    _wait_for(
        browser,
        "the outage listed",
        lambda _s: f"{PRIMARY}: dataplane" in _text(browser, "outage-list"),
        budget=15,
    )
    assert _outages(endpoint) == {PRIMARY: "dataplane"}  # the page's click reached the switch
    card = f'.region-card[data-region="{PRIMARY}"] .outage-flag'
    _wait_for(
        browser,
        "the outage flag on the primary's card",
        lambda _s: bool(browser.find_elements("css selector", card)),
        budget=15,
    )
    _wait_for(
        browser,
        f"{SECONDARY} serving during the outage",
        lambda s: s.get("region") == SECONDARY and _last_switch_to(s) == SECONDARY,
        budget=FAILOVER_BUDGET,
    )
    browser.find_element("id", "outage-end").click()
    _wait_for(
        browser,
        "no outage",
        lambda _s: browser.execute_script("return document.body.dataset.outage") == "off",
        budget=15,
    )
    assert _outages(endpoint) == {}
    _wait_for(
        browser,
        f"{PRIMARY} serving again",
        lambda s: s.get("region") == PRIMARY and _last_switch_to(s) == PRIMARY,
        budget=FAILOVER_BUDGET,
    )


def _outages(endpoint: str) -> dict[str, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{endpoint}/_sandbox/outage", timeout=10) as answer:
        return {o["region"]: o["mode"] for o in json.loads(answer.read())["outages"]}


def test_page_says_what_to_run_when_no_stack_is_deployed(
    browser: Any, sandbox: SandboxProcess
) -> None:
    browser.get(f"{sandbox.endpoint}/_sandbox")  # without the slash: redirected
    _wait_for(
        browser,
        "the no-stack notice",
        lambda _s: browser.execute_script("return document.body.dataset.state") == "no-stack",
        budget=15,
    )
    notice = _text(browser, "notice")
    assert "No stack deployed" in notice
    assert "failover up" in notice and f"AWS_ENDPOINT_URL={sandbox.endpoint}" in notice


def test_stack_api_lists_nothing_on_a_fresh_sandbox(sandbox: SandboxProcess) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{sandbox.endpoint}/_sandbox/api/stacks", timeout=10) as answer:
        payload = json.loads(answer.read())
        assert answer.headers["Cache-Control"] == "no-store"
    assert payload["stacks"] == []
    assert payload["sandbox"] == {"endpoint": sandbox.endpoint, "time_scale": 20}
