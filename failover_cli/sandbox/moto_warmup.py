"""Fixed start-up costs of moto, paid once per sandbox process instead of per service.

Nothing here changes an answer: each patch defers or shares work moto repeats.

- moto builds a fresh botocore `Loader` for every service model it reads (service and
  paginators, per service), and a fresh loader first walks every botocore data folder to
  list the services: one shared loader (its own cache) walks them once.
- moto makes a new boto3 `Session` per backend (to list its regions) and several while
  importing EC2 (imported for Application Auto Scaling); each new session parsed
  botocore's endpoints file and the service's model again. Every botocore session in the
  process shares one loader per data path, as the CLI's clients already do
  (failover_cli/aws/clients.py), so each JSON file is parsed once.
- werkzeug compiles two URL-building functions (Python source, `compile`) for every rule
  it adds to a map; moto's per-service routers and Flask apps only ever match URLs, so
  the builders are compiled on first use, if ever.

And per request (the sandbox serves a few hundred for each `up`):

- moto's dispatcher asks twice per request whether the Host names a moto module, each time
  listing moto's package folder and testing every entry with `isdir` (a few ms of CPU a
  request, the largest single cost of a forwarded call): the folder does not change while
  the process runs, so it is listed once. It then matches the service's host against
  every backend's URL patterns in turn (about 3% of a request): once per host.
- each response handler lists its class's methods with `inspect.getmembers`: once per class.
- moto finds a request's account by looking for its access key in the IAM backend of every
  partition (aws, aws-cn, aws-us-gov, the ISO ones), building each partition's backend on
  the way: six IAM backends, each loading ~1,600 AWS managed policies, on the sandbox's
  first request (about a second of CPU per sandbox). A partition not built yet holds no
  access key, so only the partitions that exist are searched; the answer is the same.
- moto's API Gateway imports openapi_spec_validator (about half a second of CPU, a large
  part of a new sandbox's first API Gateway call) for ImportRestApi and PutRestApi only,
  which the tool never calls: it is imported when one of them first validates a document.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading
import types
from typing import Any

_installed = False
_lock = threading.Lock()


def install() -> None:
    """Apply the patches (idempotent; the sandbox calls it before serving)."""
    global _installed
    with _lock:
        if _installed:
            return
        _share_moto_loader()
        _share_botocore_loader()
        _lazy_url_builders()
        _list_moto_modules_once()
        _match_hosts_once()
        _list_handler_methods_once()
        _find_accounts_in_built_partitions()
        _validate_openapi_on_first_use()
        _installed = True


def _share_moto_loader() -> None:
    import moto.core.utils as moto_utils
    from moto.core.loaders import create_loader

    # botocore's Loader caches what it loads per instance (instance_cache): one instance
    # for the whole process. A race at first use only builds a loader twice.
    moto_utils.create_loader = functools.cache(create_loader)


def _share_botocore_loader() -> None:
    import botocore.session
    from botocore.loaders import create_loader

    # Keyed by the session's data_path: a session configured with other models keeps them.
    botocore.session.create_loader = functools.cache(create_loader)


def _lazy_url_builders() -> None:
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder

    def lazy_builder(rule: Rule, append_unknown: bool = True) -> Any:
        built: list[Any] = []

        # `Rule.compile` binds what this returns with `__get__`: a plain function binds.
        def build(bound: Rule, *args: Any, **kwargs: Any) -> Any:
            if not built:
                built.append(compile_builder(bound, append_unknown).__get__(bound, None))
            return built[0](*args, **kwargs)

        return build

    Rule._compile_builder = lazy_builder  # type: ignore[method-assign,assignment]


def _list_moto_modules_once() -> None:
    import moto.backends as moto_backends

    # The dispatcher only tests membership (`host in list_of_moto_modules()`).
    listed = frozenset(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: listed


def _match_hosts_once() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    match = DomainDispatcherApplication.get_backend_for_host

    # The patterns are fixed when the dispatcher is made and the answer depends on the host
    # alone; the few hosts a sandbox sees (a service and region each) are matched once.
    @functools.lru_cache(maxsize=4096)
    def backend_for_host(self: Any, host: str | None) -> Any:
        return match(self, host)

    DomainDispatcherApplication.get_backend_for_host = backend_for_host  # type: ignore[method-assign]


def _list_handler_methods_once() -> None:
    import moto.core.responses as moto_responses

    listed = moto_responses.method_names_from_class

    # A class's methods are fixed once it is defined; the one caller tests membership
    # (`action in method_names`), so a frozenset (which no caller can change) serves it.
    @functools.cache
    def method_names(clazz: object) -> frozenset[str]:
        return frozenset(listed(clazz))

    moto_responses.method_names_from_class = method_names  # type: ignore[assignment]


def _find_accounts_in_built_partitions() -> None:
    import moto.iam.models as iam_models

    def get_account_id_from(access_key: str) -> str:
        # As moto's (moto/iam/models.py), but `dict.get` does not build a missing partition.
        for account_id, account in list(iam_models.iam_backends.items()):
            for partition in iam_models.PARTITION_NAMES:
                backend = dict.get(account, partition)
                if backend is not None and access_key in backend.access_keys:
                    return account_id
        return iam_models.DEFAULT_ACCOUNT_ID

    iam_models.get_account_id_from = get_account_id_from


_OPENAPI = "openapi_spec_validator"
_OPENAPI_ERRORS = "openapi_spec_validator.validation.exceptions"


class _OpenApiValidationError(Exception):
    """What moto's `except OpenAPIValidationError` catches: the real error's message, which
    moto quotes (`cause.message`) in its BadRequest answer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _validate_openapi_on_first_use() -> None:
    """Stand-ins for the two names moto.apigateway.models imports from the validator
    (`validate`, `OpenAPIValidationError`); the first validation imports the real one."""
    if _OPENAPI in sys.modules or "moto.apigateway.models" in sys.modules:
        return  # imported already: nothing left to save
    lock = threading.Lock()
    standins: dict[str, types.ModuleType] = {}

    def validate(document: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            for name, module in standins.items():
                if sys.modules.get(name) is module:
                    del sys.modules[name]
            real = importlib.import_module(_OPENAPI)
            errors = importlib.import_module(_OPENAPI_ERRORS)
        try:
            return real.validate(document, *args, **kwargs)
        except errors.OpenAPIValidationError as error:
            raise _OpenApiValidationError(error.message) from error

    for name in (_OPENAPI, f"{_OPENAPI}.validation", _OPENAPI_ERRORS):
        module = types.ModuleType(name)
        module.__path__ = []  # a package: the next name is its submodule
        standins[name] = module
    standins[_OPENAPI].validate = validate  # type: ignore[attr-defined]
    standins[_OPENAPI_ERRORS].OpenAPIValidationError = _OpenApiValidationError  # type: ignore[attr-defined]
    sys.modules.update(standins)
