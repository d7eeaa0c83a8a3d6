"""The ranges document and the policy built from it, without AWS: what a user relies on
when `up` turns `route53-health-checkers` into prefixes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from failover_cli.access.policy import (
    HEALTH_RESOURCES,
    AllowList,
    PolicyTooLarge,
    allow_list,
    check_size,
    comparable,
    merge,
    policy_text,
    read_policy,
)
from failover_cli.access.ranges import RangesUnreadable, cache_folder, load_ranges, parse
from failover_cli.config.schema import AccessConfig

DOCUMENT = {
    "syncToken": "1764835200",
    "createDate": "2025-12-04-08-00-00",
    "prefixes": [
        {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2", "service": "AMAZON"},
        {"ip_prefix": "15.177.0.0/18", "region": "GLOBAL", "service": "ROUTE53_HEALTHCHECKS"},
        {"ip_prefix": "107.23.255.0/26", "region": "us-east-1", "service": "ROUTE53_HEALTHCHECKS"},
        {"ip_prefix": "54.228.16.0/26", "region": "eu-west-1", "service": "ROUTE53_HEALTHCHECKS"},
    ],
    "ipv6_prefixes": [
        {
            "ipv6_prefix": "2600:1f18:7fff:f800::/56",
            "region": "us-east-1",
            "service": "ROUTE53_HEALTHCHECKS",
        }
    ],
}


class _Server:
    """ip-ranges.json over HTTP with an ETag, counting full answers and 304s."""

    def __init__(self) -> None:
        self.body = json.dumps(DOCUMENT).encode()
        self.full = self.not_modified = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.headers.get("If-None-Match") == '"v1"':
                    owner.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                owner.full += 1
                self.send_response(200)
                self.send_header("ETag", '"v1"')
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/ip-ranges.json"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[_Server]:
    served = _Server()
    yield served
    served.http.shutdown()
    served.http.server_close()


def test_only_the_checker_prefixes_are_kept_with_global_ones_for_every_region() -> None:
    ranges = parse(json.dumps(DOCUMENT).encode(), "doc")
    assert ranges.sync_token == "1764835200" and ranges.date == "2025-12-04 08:00 UTC"
    assert ranges.checkers(("us-east-1", "us-west-1", "us-west-2")) == [
        "15.177.0.0/18",
        "107.23.255.0/26",
        "2600:1f18:7fff:f800::/56",
    ]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"<html>not json</html>", "not shaped like AWS's ip-ranges.json"),
        (json.dumps({"prefixes": []}).encode(), "not shaped like"),
        (json.dumps({**DOCUMENT, "prefixes": DOCUMENT["prefixes"][:1], "ipv6_prefixes": []})
         .encode(), "lists no ROUTE53_HEALTHCHECKS prefix"),
    ],
)  # fmt: skip
def test_a_document_that_cannot_give_an_allow_list_is_refused(body: bytes, fragment: str) -> None:
    with pytest.raises(RangesUnreadable) as refused:
        parse(body, "doc")
    assert fragment in refused.value.render()


def test_a_file_path_is_read_and_a_missing_one_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ip-ranges.json"
    path.write_text(json.dumps(DOCUMENT))
    assert load_ranges(str(path)).create_date == "2025-12-04-08-00-00"
    with pytest.raises(RangesUnreadable) as refused:
        load_ranges(str(tmp_path / "missing.json"))
    assert "Cannot read the IP ranges document" in refused.value.render()
    assert refused.value.exit_code == 2


def test_the_url_is_cached_and_only_downloaded_again_when_changed(server: _Server) -> None:
    first = load_ranges(server.url)
    cached = next(cache_folder().glob("ip-ranges-*.json"))
    record = json.loads(cached.read_text())
    assert (record["syncToken"], record["createDate"]) == ("1764835200", "2025-12-04-08-00-00")
    again = load_ranges(server.url)
    assert again == first
    assert (server.full, server.not_modified) == (1, 1)


def test_an_unreachable_url_is_exit_2_and_says_nothing_changed(server: _Server) -> None:
    url = server.url.replace("/ip-ranges.json", "/")
    server.http.shutdown()
    server.http.server_close()
    with pytest.raises(RangesUnreadable) as refused:
        load_ranges(url)
    assert "Nothing was changed" in refused.value.render()


def test_adjacent_and_nested_prefixes_merge_ipv4_first() -> None:
    assert merge(["2001:db8::/33", "198.51.100.128/25", "2001:db8:8000::/33", "198.51.100.0/25",
                  "198.51.100.7/32"]) == ("198.51.100.0/24", "2001:db8::/32")  # fmt: skip


def test_the_policy_round_trips_through_api_gateways_escaped_form() -> None:
    access = AccessConfig(allow=("route53-health-checkers", "198.51.100.0/24"))
    ranges = parse(json.dumps(DOCUMENT).encode(), "doc")
    wanted = allow_list(access, ("us-east-1",), ranges)
    assert wanted.resources == HEALTH_RESOURCES and wanted.sync_token == "1764835200"
    stored = (
        policy_text(wanted)
        .replace('"', '\\"')
        .replace("execute-api:/", "arn:aws:execute-api:us-east-1:123456789012:abcdefghij/")
    )  # as GetRestApi hands it back
    assert read_policy(stored) == wanted


def test_a_policy_over_8_kb_names_its_size() -> None:
    many = tuple(f"2001:db8:{i:x}:5678:9abc:def0:1234:5678/128" for i in range(200))
    with pytest.raises(PolicyTooLarge) as refused:
        check_size(policy_text(AllowList(many, HEALTH_RESOURCES)))
    assert "bytes; API Gateway allows 8192" in refused.value.render()
    check_size(policy_text(AllowList(many[:100], HEALTH_RESOURCES)))  # fits


def test_a_document_lacking_a_configured_checker_region_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ip-ranges.json"
    path.write_text(json.dumps(DOCUMENT))
    assert load_ranges(str(path), ("us-east-1", "eu-west-1")).sync_token == "1764835200"
    with pytest.raises(RangesUnreadable) as refused:
        load_ranges(str(path), ("us-east-1", "us-west-1", "us-west-2"))
    assert "us-west-1, us-west-2" in refused.value.render()
    assert refused.value.exit_code == 2


@pytest.mark.parametrize("wide", ["2.0.0.0/7", "0.0.0.0/0", "2600::/31"])
def test_a_prefix_wider_than_a_checkers_is_refused(tmp_path: Path, wide: str) -> None:
    field = "ipv6_prefix" if ":" in wide else "ip_prefix"
    entry = {field: wide, "region": "us-east-1", "service": "ROUTE53_HEALTHCHECKS"}
    key = "ipv6_prefixes" if ":" in wide else "prefixes"
    path = tmp_path / "ip-ranges.json"
    path.write_text(json.dumps({**DOCUMENT, key: [*DOCUMENT[key], entry]}))  # type: ignore[misc]
    with pytest.raises(RangesUnreadable) as refused:
        load_ranges(str(path), ("us-east-1",))
    assert wide in refused.value.render() and "wider than" in refused.value.render()


def test_plain_http_is_refused_but_for_loopback(server: _Server) -> None:
    with pytest.raises(RangesUnreadable) as refused:
        load_ranges("http://ip-ranges.example.com/ip-ranges.json", ("us-east-1",))
    assert "plain http" in refused.value.render()
    assert load_ranges(server.url, ("us-east-1",)).sync_token == "1764835200"


def test_a_damaged_cache_is_downloaded_again_not_trusted_on_a_304(server: _Server) -> None:
    load_ranges(server.url)
    cached = next(cache_folder().glob("ip-ranges-*.json"))
    record = json.loads(cached.read_text())
    record["prefixes"] = [["us-east-1", "0.0.0.0/1"]]  # someone widened the cached list
    cached.write_text(json.dumps(record))
    again = load_ranges(server.url, ("us-east-1",))
    assert ("us-east-1", "0.0.0.0/1") not in again.prefixes
    assert (server.full, server.not_modified) == (2, 0)


@pytest.mark.parametrize("command", ["plan", "up", "refresh-ip-ranges"])
def test_a_document_lacking_a_checker_region_stops_the_command_before_any_aws_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    from tests.e2e_helpers import failover, write_config

    path = tmp_path / "ip-ranges.json"
    path.write_text(json.dumps(DOCUMENT))  # us-east-1 only, of the default checker regions
    monkeypatch.setenv("FAILOVER_IP_RANGES", str(path))
    config = write_config(tmp_path, "shop", "access: {allow: [route53-health-checkers]}\n")
    run = failover(config, command)
    assert run.exit_code == 2, run.stderr
    assert "us-west-1, us-west-2" in run.stderr
    assert not run.calls, run.calls


@pytest.mark.parametrize(
    "prefixes",
    [
        [],  # no checker prefix at all
        [{"ip_prefix": "107.23.255.0/26", "region": "us-east-1"}],  # us-west-2 lacks its own
        [  # a prefix no checker has
            {"ip_prefix": "107.23.255.0/26", "region": "us-east-1"},
            {"ip_prefix": "0.0.0.0/0", "region": "us-west-2"},
        ],
    ],
)
def test_the_refresher_writes_nothing_from_a_document_unfit_for_its_checker_regions(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    prefixes: list[dict[str, str]],
) -> None:
    from failover_cli.access import refresher_handler

    entries = [{**p, "service": "ROUTE53_HEALTHCHECKS"} for p in prefixes]
    path = tmp_path / "ip-ranges.json"
    path.write_text(json.dumps({**DOCUMENT, "prefixes": entries, "ipv6_prefixes": []}))
    settings = {"checker_regions": ["us-east-1", "us-west-2"], "regions": ["us-east-1"]}
    monkeypatch.setenv("SETTINGS", json.dumps(settings))
    monkeypatch.setenv("IP_RANGES_URL", path.as_uri())
    monkeypatch.setattr(refresher_handler, "_converge", lambda *a: pytest.fail("wrote a list"))
    assert refresher_handler.handler({}, None) == {"changed": []}
    assert "nothing changed" in capsys.readouterr().out


def _edited(text: str, change: Any) -> str:
    document = json.loads(text)
    change(document)
    return json.dumps(document)


def _deny(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["Statement"][1]
    return found


@pytest.mark.parametrize(
    "change",
    [
        lambda d: _deny(d).update(Effect="Allow"),  # the Deny turned into an Allow
        lambda d: _deny(d).update(Principal={"AWS": "arn:aws:iam::111122223333:root"}),
        lambda d: _deny(d).update(Action="execute-api:ManageConnections"),
        lambda d: _deny(d).update(Condition={"IpAddress": _deny(d)["Condition"]["NotIpAddress"]}),
        lambda d: d["Statement"].append(
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
        ),
        lambda d: d["Statement"][0].update(Resource="execute-api:/*/GET/hello"),
    ],
)
def test_any_difference_in_the_deployed_policy_is_drift(change: Any) -> None:
    """Not only the CIDRs and routes: an effect, principal, action, condition or an added
    statement makes up, status and the refresher rewrite it."""
    wanted = AllowList(("198.51.100.0/24",), HEALTH_RESOURCES, "1764835200")
    deployed = read_policy(_edited(policy_text(wanted), change))
    assert deployed is not None and not deployed.exact
    assert comparable(deployed) != comparable(wanted)
    # ... while API Gateway's own rewriting and another ranges token are no drift.
    same = policy_text(AllowList(wanted.cidrs, wanted.resources, "1799999999")).replace(
        "execute-api:/", "arn:aws:execute-api:us-east-1:123456789012:abcdefghij/"
    )
    assert comparable(read_policy(same.replace('"', '\\"'))) == comparable(wanted)
