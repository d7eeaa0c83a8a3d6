"""The sandbox's start-up patches to moto and werkzeug defer or share work, never change it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from werkzeug.routing import Map, Rule

from failover_cli.sandbox import moto_warmup


def test_url_building_still_works_once_builders_are_lazy() -> None:
    moto_warmup.install()
    urls = Map([Rule("/functions/<name>/versions", endpoint="versions", methods=["GET"])])
    adapter = urls.bind("lambda.us-east-1.amazonaws.com")
    assert adapter.match("/functions/fn/versions") == ("versions", {"name": "fn"})
    assert adapter.build("versions", {"name": "fn"}) == "/functions/fn/versions"
    assert adapter.build("versions", {"name": "a b", "q": "1"}) == "/functions/a%20b/versions?q=1"


def test_moto_reads_every_model_through_one_loader() -> None:
    moto_warmup.install()
    moto_warmup.install()  # twice: still one patch
    import moto.core.utils as moto_utils

    assert moto_utils.create_loader() is moto_utils.create_loader()
    model = moto_utils._load_service_model("route53", "service-2")
    assert "ChangeResourceRecordSets" in model["operations"]


def test_botocore_sessions_share_one_loader_per_data_path() -> None:
    moto_warmup.install()
    import botocore.session

    first, second = botocore.session.Session(), botocore.session.Session()
    assert first.get_component("data_loader") is second.get_component("data_loader")
    # Each session still answers as before: regions come from the shared endpoints data.
    assert "us-west-2" in second.get_available_regions("lambda")


def test_the_per_request_lookups_answer_as_moto_does() -> None:
    import moto.backends as moto_backends
    import moto.core.responses as moto_responses
    from moto.core.utils import method_names_from_class
    from moto.dynamodb.responses import DynamoHandler

    moto_warmup.install()
    modules = moto_backends.list_of_moto_modules()
    assert "dynamodb" in modules and "route53" in modules and "__pycache__" not in modules
    assert "dynamodb.us-east-1.amazonaws.com" not in modules
    cached = moto_responses.method_names_from_class(DynamoHandler)
    assert cached == set(method_names_from_class(DynamoHandler))
    assert "describe_table" in cached and "no_such_action" not in cached
    assert moto_responses.method_names_from_class(DynamoHandler) is cached  # listed once


def test_finding_a_request_account_builds_no_other_iam_partition() -> None:
    moto_warmup.install()
    import moto.iam.models as iam_models
    from moto.core import DEFAULT_ACCOUNT_ID

    owner = "111122223333"
    account = iam_models.iam_backends[owner]
    iam = account["aws"]
    iam.create_user("us-east-1", "warmup-test")
    key = iam.create_access_key("warmup-test").access_key_id
    built = set(dict.keys(account))
    assert iam_models.get_account_id_from(key) == owner  # still found
    assert iam_models.get_account_id_from("AKIANOSUCHKEY0000000") == DEFAULT_ACCOUNT_ID
    assert set(dict.keys(account)) == built == {"aws"}  # aws-cn, aws-us-gov ... never built


def test_openapi_documents_are_still_validated_once_the_validator_loads_late() -> None:
    # A fresh interpreter: the stand-ins only go in before moto's API Gateway is imported.
    script = textwrap.dedent(
        """
        import sys
        from failover_cli.sandbox import moto_warmup
        moto_warmup.install()
        from moto.apigateway.exceptions import InvalidOpenAPIDocumentException
        from moto.apigateway.models import apigateway_backends
        assert "jsonschema" not in sys.modules  # the validator is not loaded yet
        backend = apigateway_backends["123456789012"]["us-east-1"]
        info = {"title": "t", "description": "d"}
        try:
            backend.import_rest_api({"openapi": "3.0.0", "info": info, "paths": {}}, True)
        except InvalidOpenAPIDocumentException as error:
            print("refused:", error.message)
        info["version"] = "1"
        api = backend.import_rest_api({"openapi": "3.0.0", "info": info, "paths": {}}, True)
        print("imported:", api.name)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "refused: " in done.stdout and "'version' is a required property" in done.stdout
    assert "imported: t" in done.stdout


def test_moto_apps_leave_debug_mode_but_still_hand_errors_to_the_layer() -> None:
    import pytest

    from failover_cli.sandbox.server import _backend_app

    app = _backend_app("sts")
    assert app.debug is False  # no per-request debug helpers
    app.add_url_rule("/boom", "boom", lambda: 1 / 0)
    # As in debug mode, a bug in moto reaches the layer (which answers InternalFailure),
    # not Flask's own HTML error page.
    with pytest.raises(ZeroDivisionError):
        app.test_client().get("/boom")


def test_each_host_finds_its_service_as_before_and_is_matched_once() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto_warmup.install()
    dispatcher = DomainDispatcherApplication(create_backend_app)
    hosts = {
        "lambda.us-east-1.amazonaws.com": "awslambda",
        "dynamodb.us-west-2.amazonaws.com": "dynamodb",
        "route53.amazonaws.com": "route53",
        "nothing.example": None,
    }
    for host, backend in hosts.items():
        assert dispatcher.get_backend_for_host(host) == backend
    matched = len(dispatcher.backend_url_patterns)
    dispatcher.backend_url_patterns = []  # no pattern left: only the first answers remain
    assert dispatcher.get_backend_for_host("dynamodb.us-west-2.amazonaws.com") == "dynamodb"
    assert matched > 100
