"""The function's HTTP contract (SPEC §5), exercised through handler.handler.

The bundle's modules are top-level (as Lambda imports them from the zip), so
each test imports a fresh copy from its folder and removes it afterwards:
module-global state such as the cached DynamoDB client never leaks between
tests, and nothing named `handler` or `settings` is left in sys.modules.
"""

from __future__ import annotations

import importlib
import json
import logging
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from failover_cli.bundle import HANDLER, build_bundle

BUNDLE_DIR = Path(__file__).resolve().parents[1] / "lambda_bundle"
REGION = "us-east-1"
SECRET = "s3cr3t-checker-id"
NEXT_SECRET = "n3xt-checker-id"
TABLE = "prod.Hello"
SEARCH_STRING = "hello from"  # Route 53's default string match
STANDARD_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Failover-Region": REGION,
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


Invoke = Callable[..., Answer]


def proxy_event(
    route: str,
    method: str = "GET",
    query: dict[str, str] | None = None,
    base_path: str | None = None,
    with_proxy: bool = True,
) -> dict[str, Any]:
    """An API Gateway REST proxy event (v1) as a `/{proxy+}` resource delivers it."""
    path = f"/{base_path}/{route}" if base_path else f"/{route}"
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": (
            {k: [v] for k, v in query.items()} if query is not None else None
        ),
        "pathParameters": {"proxy": route} if with_proxy else None,
        "stageVariables": None,
        "requestContext": {"stage": "prod", "httpMethod": method, "path": f"/prod{path}"},
        "body": None,
        "isBase64Encoded": False,
    }


def _bundle_module_names(*folders: Path) -> set[str]:
    return {p.stem for folder in folders for p in folder.glob("*.py")}


@pytest.fixture
def load_bundle(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], ModuleType]]:
    """Import handler.py from a bundle folder as Lambda would, isolated from other tests."""
    folders: list[Path] = [BUNDLE_DIR]
    saved: dict[str, ModuleType] = {}

    def load(folder: Path) -> ModuleType:
        folders.append(folder)
        for name in _bundle_module_names(*folders):
            module = sys.modules.pop(name, None)
            if module is not None and name not in saved:
                saved[name] = module
        monkeypatch.syspath_prepend(str(folder))
        return importlib.import_module("handler")

    yield load
    for name in _bundle_module_names(*folders):
        sys.modules.pop(name, None)
    sys.modules.update(saved)


@pytest.fixture(autouse=True)
def function_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment `up` gives the function (SPEC §4.4)."""
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("HEALTH_CHECKER_ID", SECRET)
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.setenv("DEEP_PING_PERCENT", "0")
    monkeypatch.setenv("FORCE_FAIL", "false")
    for name in ("HEALTH_CHECKER_ID_NEXT", "DEEP_PING_KEY", "DEEP_PING_ATTRIBUTE"):
        monkeypatch.delenv(name, raising=False)


def _answer(result: dict[str, Any]) -> Answer:
    answer = Answer(result["statusCode"], json.loads(result["body"]), result["headers"])
    # Invariants of every answer, checked on every call in this file.
    for name in ("Content-Type", "Cache-Control"):
        assert answer.headers[name] == STANDARD_HEADERS[name]
    # Strangers' answers (403, 404) name no region; every other answer does.
    assert ("X-Failover-Region" in answer.headers) is (answer.status not in (403, 404))
    assert result["isBase64Encoded"] is False
    if answer.status >= 400:
        # A failing region must never satisfy the health checker's string match.
        assert SEARCH_STRING not in result["body"].lower()
    return answer


@pytest.fixture
def invoke(load_bundle: Callable[[Path], ModuleType]) -> Invoke:
    module = load_bundle(BUNDLE_DIR)

    def call(route: str, secret: str | None = SECRET, **kwargs: Any) -> Answer:
        query = dict(kwargs.pop("query", None) or {})
        if secret is not None:
            query["healthCheckerId"] = secret
        event = proxy_event(route, query=query or None, **kwargs)
        return _answer(module.handler(event, None))

    return call


@pytest.fixture
def table() -> Iterator[Any]:
    """A real (moto) table in the function's region, with the seed item `up` writes."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "HelloKey", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "HelloKey", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(
            TableName=TABLE,
            Item={"HelloKey": {"S": "Hello"}, "Hello": {"S": "Deep hello from "}},
        )
        yield client


# --- /health and /hello ------------------------------------------------------------


def test_shallow_health_answers_from_the_region(invoke: Invoke) -> None:
    answer = invoke("health")
    assert answer.status == 200
    assert answer.body == {"message": f"Shallow hello from {REGION}", "ping": "shallow"}
    assert answer.headers["X-Failover-Region"] == REGION


def test_hello_answers_with_the_region(invoke: Invoke) -> None:
    answer = invoke("hello")
    assert answer.status == 200
    assert answer.body == {"message": f"Hello from {REGION}", "region": REGION}


def test_the_starters_public_route_needs_no_secret_and_names_its_region(invoke: Invoke) -> None:
    answer = invoke("hi", secret=None, base_path="v1")
    assert answer.status == 200
    assert answer.body == {"message": f"Hi from {REGION}", "region": REGION}
    assert answer.headers["X-Failover-Region"] == REGION
    assert invoke("hello", secret=None).status == 403  # the contract's routes keep the secret
    assert invoke("health", secret=None).status == 403
    assert invoke("hi", secret=None, method="POST").status == 405


def test_region_comes_from_aws_region(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    answer = invoke("health")
    assert answer.body["message"] == "Shallow hello from eu-west-1"
    assert answer.headers["X-Failover-Region"] == "eu-west-1"


@pytest.mark.parametrize(
    ("base_path", "with_proxy"),
    [(None, True), ("v1", True), (None, False)],
    ids=["execute-api", "custom-domain", "path-only"],
)
@pytest.mark.parametrize("route", ["health", "hello"])
def test_route_is_found_with_and_without_a_base_path(
    invoke: Invoke, route: str, base_path: str | None, with_proxy: bool
) -> None:
    answer = invoke(route, base_path=base_path, with_proxy=with_proxy)
    assert answer.status == 200


def test_proxy_path_parameter_is_used_first(load_bundle: Callable[[Path], ModuleType]) -> None:
    module = load_bundle(BUNDLE_DIR)
    event = proxy_event("hello", query={"healthCheckerId": SECRET})
    event["path"] = "/v1/something-else"
    assert _answer(module.handler(event, None)).body["message"] == f"Hello from {REGION}"


# --- deep ping ---------------------------------------------------------------------


def test_deep_health_reads_the_seed_item(invoke: Invoke, table: Any) -> None:
    answer = invoke("health", query={"deep": "true"})
    assert answer.status == 200
    assert answer.body == {"message": f"Deep hello from {REGION}", "ping": "deep"}


def test_deep_ping_percent_100_always_reads_the_table(
    invoke: Invoke, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEP_PING_PERCENT", "100")
    answers = [invoke("health") for _ in range(5)]
    assert {a.body["ping"] for a in answers} == {"deep"}
    assert {a.body["message"] for a in answers} == {f"Deep hello from {REGION}"}


def test_deep_ping_percent_0_never_touches_the_table(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No table and no moto: any read attempt would fail and answer 503.
    monkeypatch.setenv("DEEP_PING_PERCENT", "0")
    answers = [invoke("health") for _ in range(5)]
    assert {(a.status, a.body["ping"]) for a in answers} == {(200, "shallow")}


def test_deep_false_stays_shallow_whatever_the_percent(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A release gate's shallow ping: never judged by a table read (there is none here).
    monkeypatch.setenv("DEEP_PING_PERCENT", "100")
    answers = [invoke("health", query={"deep": "false"}) for _ in range(5)]
    assert {(a.status, a.body["ping"]) for a in answers} == {(200, "shallow")}


def test_deep_query_parameter_wins_over_percent_0(invoke: Invoke, table: Any) -> None:
    assert invoke("health", query={"deep": "true"}).body["ping"] == "deep"


def test_deep_ping_client_is_created_once_per_container(
    invoke: Invoke, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[str] = []
    real_client = boto3.session.Session.client

    def counting_client(self: boto3.session.Session, service: str, *args: Any, **kw: Any) -> Any:
        created.append(service)
        return real_client(self, service, *args, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(boto3.session.Session, "client", counting_client)
    for _ in range(3):
        assert invoke("health", query={"deep": "true"}).status == 200
    assert created == ["dynamodb"]


def test_deep_ping_with_missing_table_is_503(invoke: Invoke, caplog: Any) -> None:
    with mock_aws(), caplog.at_level(logging.ERROR):
        answer = invoke("health", query={"deep": "true"})
    assert answer.status == 503
    assert answer.body == {"message": f"Deep ping failed in {REGION}"}
    assert "ResourceNotFoundException" in caplog.text
    assert SECRET not in caplog.text


def test_deep_ping_with_missing_item_is_503_and_logged(
    invoke: Invoke, table: Any, caplog: Any
) -> None:
    table.delete_item(TableName=TABLE, Key={"HelloKey": {"S": "Hello"}})
    with caplog.at_level(logging.ERROR):
        answer = invoke("health", query={"deep": "true"})
    assert answer.status == 503
    assert answer.body == {"message": f"Deep ping failed in {REGION}"}
    assert len(caplog.records) == 1
    assert "missing" in caplog.text


def test_deep_ping_with_non_string_greeting_is_503(invoke: Invoke, table: Any) -> None:
    table.put_item(TableName=TABLE, Item={"HelloKey": {"S": "Hello"}, "Hello": {"N": "1"}})
    assert invoke("health", query={"deep": "true"}).status == 503


def test_deep_ping_reads_the_local_region_only(
    invoke: Invoke, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The table exists in us-east-1 only; a function in us-west-2 must not see it.
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    answer = invoke("health", query={"deep": "true"})
    assert answer.status == 503
    assert answer.body == {"message": "Deep ping failed in us-west-2"}


def test_deep_ping_key_and_attribute_are_configurable(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEP_PING_KEY", json.dumps({"pk": "seed"}))
    monkeypatch.setenv("DEEP_PING_ATTRIBUTE", "Greeting")
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(
            TableName=TABLE, Item={"pk": {"S": "seed"}, "Greeting": {"S": "Deep hello from "}}
        )
        answer = invoke("health", query={"deep": "true"})
    assert answer.status == 200
    assert answer.body["message"] == f"Deep hello from {REGION}"


def test_invalid_deep_ping_key_fails_the_deep_ping_only(
    invoke: Invoke, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEP_PING_KEY", "not json")
    assert invoke("health", query={"deep": "true"}).status == 503
    assert invoke("health").status == 200


# --- the health-checker secret -----------------------------------------------------


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1], "ünïcode"])
@pytest.mark.parametrize("route", ["health", "hello"])
def test_wrong_or_missing_secret_is_forbidden(
    invoke: Invoke, route: str, secret: str | None
) -> None:
    answer = invoke(route, secret=secret)
    assert answer.status == 403
    assert answer.body == {"message": "Forbidden"}


def test_next_secret_is_accepted_during_rotation(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEALTH_CHECKER_ID_NEXT", NEXT_SECRET)
    assert invoke("health", secret=NEXT_SECRET).status == 200
    assert invoke("hello", secret=NEXT_SECRET).status == 200
    assert invoke("health", secret=SECRET).status == 200
    assert invoke("health", secret="wrong").status == 403


def test_next_secret_is_not_accepted_when_unset(invoke: Invoke) -> None:
    assert invoke("health", secret=NEXT_SECRET).status == 403


@pytest.mark.parametrize("secret", [None, ""])
def test_empty_configured_secret_rejects_everything(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    monkeypatch.setenv("HEALTH_CHECKER_ID", "")
    monkeypatch.setenv("HEALTH_CHECKER_ID_NEXT", "")
    assert invoke("health", secret=secret).status == 403
    assert invoke("hello", secret=secret).status == 403


def test_missing_configured_secret_rejects_everything(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HEALTH_CHECKER_ID")
    assert invoke("health", secret="").status == 403
    assert invoke("health", secret=None).status == 403


# --- FORCE_FAIL --------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "1", "yes"])
@pytest.mark.parametrize("route", ["health", "hello"])
def test_force_fail_answers_503_on_every_route(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, route: str, value: str
) -> None:
    monkeypatch.setenv("FORCE_FAIL", value)
    answer = invoke(route)
    assert answer.status == 503
    assert answer.body == {"message": f"Forced failure in {REGION}"}


def test_force_fail_also_fails_deep_pings(
    invoke: Invoke, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_FAIL", "true")
    assert invoke("health", query={"deep": "true"}).status == 503


@pytest.mark.parametrize("value", ["false", "0", "no", ""])
def test_force_fail_false_values_serve_normally(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("FORCE_FAIL", value)
    assert invoke("health").status == 200


def test_forbidden_takes_precedence_over_force_fail(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A prober without the secret learns nothing about the region's state.
    monkeypatch.setenv("FORCE_FAIL", "true")
    assert invoke("health", secret="wrong").status == 403


# --- unknown routes and methods ----------------------------------------------------


@pytest.mark.parametrize("route", ["nope", "", "Health", "x/health", "health/x", "v1/hello"])
def test_unknown_route_is_404(invoke: Invoke, route: str) -> None:
    answer = invoke(route)
    assert answer.status == 404
    assert answer.body == {"message": "Not found"}


@pytest.mark.parametrize("route", ["nope", "wp-login.php", "x/health"])
def test_unknown_route_is_404_during_a_drill(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    # A scanner must not learn that a drill is on, nor which region it hit.
    monkeypatch.setenv("FORCE_FAIL", "true")
    answer = invoke(route, secret=None)
    assert (answer.status, answer.body) == (404, {"message": "Not found"})
    assert "X-Failover-Region" not in answer.headers


@pytest.mark.parametrize(
    ("route", "secret"), [("health", "wrong"), ("hello", None), ("nope", None)]
)
def test_answers_to_strangers_name_no_region(
    invoke: Invoke, route: str, secret: str | None
) -> None:
    answer = invoke(route, secret=secret)
    assert answer.status in (403, 404)
    assert "X-Failover-Region" not in answer.headers
    assert REGION not in json.dumps(answer.body)


def test_only_the_exact_health_path_is_the_health_route(
    load_bundle: Callable[[Path], ModuleType],
) -> None:
    module = load_bundle(BUNDLE_DIR)
    event = proxy_event("anything/health", query={"healthCheckerId": SECRET})
    assert _answer(module.handler(event, None)).status == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("route", ["health", "hello"])
def test_wrong_method_is_405_with_allow(invoke: Invoke, route: str, method: str) -> None:
    answer = invoke(route, method=method)
    assert answer.status == 405
    assert answer.headers["Allow"] == "GET"


def test_wrong_method_without_secret_is_still_forbidden(invoke: Invoke) -> None:
    assert invoke("health", method="POST", secret=None).status == 403


@pytest.mark.parametrize(
    ("route", "kwargs"),
    [
        ("health", {}),
        ("hello", {}),
        ("health", {"secret": "wrong"}),
        ("nope", {}),
        ("health", {"method": "POST"}),
        ("health", {"query": {"deep": "true"}}),  # no moto: the read fails -> 503
    ],
)
def test_every_answer_has_the_standard_headers(
    invoke: Invoke, route: str, kwargs: dict[str, Any]
) -> None:
    answer = invoke(route, **kwargs)
    for name, value in STANDARD_HEADERS.items():
        if name != "X-Failover-Region" or answer.status not in (403, 404):
            assert answer.headers[name] == value


def test_shallow_ping_logs_nothing(
    invoke: Invoke, caplog: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level(logging.DEBUG):
        invoke("health")
        invoke("hello")
        invoke("health", secret="wrong")
    assert caplog.records == []
    assert capsys.readouterr() == ("", "")


# --- application routes ------------------------------------------------------------

APP_ROUTES = """
from __future__ import annotations

from routing import Request, Response, route


@route("orders", methods=("GET", "POST"))
def orders(request: Request) -> Response:
    status = 201 if request.method == "POST" else 200
    return Response(status, {"orders": [], "region": request.region})


@route("plain")
def plain(request: Request) -> dict[str, str]:
    return {"ok": request.query.get("q", "")}


@route("private", protected=True)
def private(request: Request) -> dict[str, str]:
    return {"secret": "stuff"}


@route("broken")
def broken(request: Request) -> Response:
    raise RuntimeError(request.query.get("healthCheckerId"))
"""


@pytest.fixture
def app_invoke(load_bundle: Callable[[Path], ModuleType], tmp_path: Path) -> Invoke:
    """The starter bundle with an application's app_routes.py; nothing else changed."""
    folder = tmp_path / "bundle"
    shutil.copytree(BUNDLE_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "app_routes.py").write_text(APP_ROUTES)
    module = load_bundle(folder)

    def call(route: str, secret: str | None = SECRET, **kwargs: Any) -> Answer:
        query = dict(kwargs.pop("query", None) or {})
        if secret is not None:
            query["healthCheckerId"] = secret
        return _answer(module.handler(proxy_event(route, query=query or None, **kwargs), None))

    return call


def test_app_route_added_with_the_decorator_is_served(app_invoke: Invoke) -> None:
    answer = app_invoke("orders", secret=None, base_path="v1")
    assert answer.status == 200
    assert answer.body == {"orders": [], "region": REGION}
    assert answer.headers["X-Failover-Region"] == REGION
    assert app_invoke("orders", secret=None, method="POST").status == 201
    assert app_invoke("plain", secret=None, query={"q": "x"}).body == {"ok": "x"}


def test_app_route_methods_and_protection_are_enforced(app_invoke: Invoke) -> None:
    answer = app_invoke("orders", secret=None, method="DELETE")
    assert answer.status == 405
    assert answer.headers["Allow"] == "GET, POST"
    assert app_invoke("private", secret=None).status == 403
    assert app_invoke("private").body == {"secret": "stuff"}


def test_builtin_routes_still_work_next_to_app_routes(app_invoke: Invoke) -> None:
    assert app_invoke("health").status == 200
    assert app_invoke("nope").status == 404


def test_force_fail_covers_app_routes(app_invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_FAIL", "true")
    assert app_invoke("orders", secret=None).status == 503


def test_crashing_app_route_is_a_500_without_leaking_the_secret(
    app_invoke: Invoke, caplog: Any
) -> None:
    with caplog.at_level(logging.ERROR):
        answer = app_invoke("broken")
    assert answer.status == 500
    assert answer.body == {"message": "Internal error"}
    assert "RuntimeError" in caplog.text
    assert SECRET not in caplog.text


def test_bundle_works_without_app_routes_file(
    load_bundle: Callable[[Path], ModuleType], tmp_path: Path
) -> None:
    folder = tmp_path / "bundle"
    shutil.copytree(BUNDLE_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "app_routes.py").unlink()
    module = load_bundle(folder)
    result = module.handler(proxy_event("health", query={"healthCheckerId": SECRET}), None)
    assert _answer(result).status == 200


def test_duplicate_route_name_is_refused(load_bundle: Callable[[Path], ModuleType]) -> None:
    load_bundle(BUNDLE_DIR)
    routing = sys.modules["routing"]
    with pytest.raises(ValueError, match="already registered"):
        routing.route("health")(lambda request: {})


# --- the zip -----------------------------------------------------------------------


def test_bundle_zip_is_small_and_has_the_handler_at_the_top() -> None:
    bundle = build_bundle(BUNDLE_DIR)
    assert bundle.size < 20 * 1024
    names = zipfile.ZipFile(BytesIO(bundle.zip_bytes)).namelist()
    assert f"{HANDLER.split('.')[0]}.py" in names
    assert "app_routes.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_shallow_ping_does_not_import_boto3(tmp_path: Path) -> None:
    """Cold starts stay cheap: boto3 is imported only by the first deep ping."""
    script = (
        "import sys, json\n"
        "import handler\n"
        "event = {'path': '/health', 'pathParameters': {'proxy': 'health'},"
        " 'httpMethod': 'GET', 'queryStringParameters': {'healthCheckerId': sys.argv[1]}}\n"
        "result = handler.handler(event, None)\n"
        "print(json.dumps({'status': result['statusCode'],"
        " 'loaded': sorted(m for m in ('boto3', 'botocore') if m in sys.modules)}))\n"
    )
    folder = tmp_path / "bundle"
    shutil.copytree(BUNDLE_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    out = subprocess.run(
        [sys.executable, "-c", script, SECRET],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(out.stdout) == {"status": 200, "loaded": []}
