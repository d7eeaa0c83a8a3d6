"""What the client factory's botocore sessions share within one process, and why it is safe.

Every command builds a fresh session and fresh clients, as a new `failover` process
would: clients, their event hooks (the call log, the pacing, the budget), their retry
quota and their connections stay the command's own. What botocore rebuilds for each
session or client that depends only on botocore's data and its built-in handlers is made
once per process instead, because tests, the demo and `status --watch` run many commands
in one process and pay for it each time (about 11 ms of CPU a client, 28 ms a session):

- the loader of service models (JSON parsed once) and the exception classes' factory;
- each service's client class (one method per operation) and its `ServiceModel` (whose
  operation models botocore caches on the instance);
- the event-name aliases: botocore rewrites each event name it emits or registers through
  a table of ~30 old names, caching the answer per emitter; every client's emitter is a
  copy with an empty cache, so each client computed every name again;
- the session's ~200 built-in handlers: registered once into a template emitter that each
  new session copies (as botocore copies the session's emitter into each client), instead
  of registered one by one, with their aliasing and signature checks, for every session;
- the tree of event handlers: botocore copies the session's whole tree (~400 nodes, a
  few hundred allocations and a share of the garbage collector's passes) into every
  client, which then registers a dozen handlers of its own. Here the copies share nodes
  and a registration copies only the nodes on its own path (copy on write): each
  session and client still sees exactly the handlers registered on it or before its copy;
- the check that a handler takes `**kwargs`: botocore asks `inspect` for the handler's
  whole signature at every registration (a dozen per client); for a plain function or
  method the answer is a flag of its code object, remembered per code object. This one
  is process-wide: it answers exactly as before, for every session.

Only the factory's sessions are affected: each is marked, and botocore's own behaviour is
kept for every other session in the process (a test's boto3 clients, moto's).
"""

from __future__ import annotations

import copy
import functools
import threading
from types import CodeType, FunctionType, MethodType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

_MARK = "_failover_factory_session"  # set on a factory session's (and its clients') aliaser
_lock = threading.Lock()
_components: dict[str, Any] = {}
_client_classes: dict[tuple[str, str], type] = {}
_service_models: dict[tuple[int, str, str | None], Any] = {}
_aliased_names: dict[str, str] = {}  # event name -> its aliased name (botocore's table)
_takes_kwargs: dict[CodeType, bool] = {}  # a handler's code -> it accepts **kwargs
_template: dict[str, Any] = {}  # "handlers": the built-in handlers it holds; "emitter"
_patched: set[str] = set()


def new_session(profile: str | None) -> boto3.Session:
    """A fresh boto3 session that shares what the process has already built."""
    import boto3
    import botocore.session

    core: Any = botocore.session.Session(
        event_hooks=_builtin_emitter(), include_builtin_handlers=False
    )
    events: Any = core.get_component("event_emitter")
    events._alias_name_cache = _aliased_names
    setattr(events, _MARK, True)
    _patch_botocore()
    session = boto3.Session(botocore_session=core, profile_name=profile)
    registries = {
        "data_loader": core._components,
        "exceptions_factory": core._internal_components,  # botocore's own, not public
    }
    with _lock:
        for name, registry in registries.items():
            if name in _components:
                registry.register_component(name, _components[name])
            else:
                _components[name] = registry.get_component(name)
    return session


def _builtin_emitter() -> Any:
    """A copy of an emitter holding botocore's built-in handlers, as a new session would
    register them. moto adds to that list when imported: the template follows it."""
    from botocore import handlers
    from botocore.hooks import EventAliaser, HierarchicalEmitter
    from botocore.session import Session

    wanted = list(handlers.BUILTIN_HANDLERS)
    with _lock:
        if _template.get("handlers") != wanted:
            emitter = HierarchicalEmitter()
            # Its copies (each session's, then each client's) share nodes: copy on write.
            emitter._handlers = _shared_trie_class()()  # type: ignore[attr-defined]
            aliaser: Any = EventAliaser(emitter)
            aliaser._alias_name_cache = _aliased_names
            session_class: Any = Session
            registrar = session_class.__new__(session_class)  # only its registering is used
            registrar._events = aliaser
            session_class._register_builtin_handlers(registrar, aliaser)
            _template.update(handlers=wanted, emitter=emitter)
        made = copy.copy(_template["emitter"])
    made._lookup_cache = {}  # its own: the template's is shared by every copy
    return made


@functools.cache
def _shared_trie_class() -> type[Any]:
    """botocore's `_PrefixTrie`, its copies sharing their nodes until one of them changes:
    a write copies the nodes on its path (and the handler lists it changes) first, so no
    node reachable from another copy is ever modified."""
    import botocore.hooks

    hooks: Any = botocore.hooks  # its trie is not in the stubs
    NodeList, middle = hooks.NodeList, hooks._MIDDLE

    def own(node: dict[str, Any]) -> dict[str, Any]:
        values = node["values"]
        if values is not None:
            values = NodeList(values.first[:], values.middle[:], values.last[:])
        return {"chunk": node["chunk"], "children": dict(node["children"]), "values": values}

    class SharedTrie(hooks._PrefixTrie):
        _root: dict[str, Any]

        def __copy__(self) -> SharedTrie:
            made = SharedTrie.__new__(SharedTrie)
            made._root = self._root
            return made

        def _own_path(self, parts: list[str]) -> None:
            node = self._root = own(self._root)
            for part in parts:
                child = node["children"].get(part)
                if child is None:
                    return
                node["children"][part] = child = own(child)
                node = child

        def append_item(self, key: str, value: Any, section: int = middle) -> None:
            self._own_path(key.split("."))
            super().append_item(key, value, section)

        def remove_item(self, key: str, value: Any) -> None:
            self._own_path(key.split("."))
            super().remove_item(key, value)

    return SharedTrie


def _patch_botocore() -> None:
    """Install, once, the class methods that share per-process work with marked sessions."""
    import botocore.client
    import botocore.hooks

    with _lock:
        if _patched:
            return
        creator: Any = botocore.client.ClientCreator
        build_class, load_model = creator._create_client_class, creator._load_service_model
        aliaser: Any = botocore.hooks.EventAliaser
        copy_aliaser = aliaser.__copy__
        check_kwargs = botocore.hooks.accepts_kwargs

        def shared_class(self: Any, service_name: str, service_model: Any) -> type:
            if not getattr(self._event_emitter, _MARK, False):
                return build_class(self, service_name, service_model)
            key = (service_name, str(service_model.api_version))
            with _lock:
                made = _client_classes.get(key)
                if made is None:
                    made = _client_classes[key] = build_class(self, service_name, service_model)
                return made

        def shared_model(self: Any, service_name: str, api_version: str | None = None) -> Any:
            if not getattr(self._event_emitter, _MARK, False):
                return load_model(self, service_name, api_version)
            key = (id(self._loader), service_name, api_version)
            with _lock:
                made = _service_models.get(key)
                if made is None:
                    made = _service_models[key] = load_model(self, service_name, api_version)
                return made

        def copy_sharing_aliases(self: Any) -> Any:
            made = copy_aliaser(self)
            if self._alias_name_cache is _aliased_names:  # a factory session's, or its client's
                made._alias_name_cache = _aliased_names
                setattr(made, _MARK, True)
            return made

        def accepts_kwargs(func: Any) -> bool:
            function = getattr(func, "__func__", func)
            if type(func) not in (FunctionType, MethodType) or "__signature__" in vars(function):
                return bool(check_kwargs(func))  # inspect's answer may not follow the code
            code = function.__code__
            known = _takes_kwargs.get(code)
            if known is None:
                known = _takes_kwargs[code] = bool(check_kwargs(func))
            return known

        creator._create_client_class = shared_class
        creator._load_service_model = shared_model
        aliaser.__copy__ = copy_sharing_aliases
        botocore.hooks.accepts_kwargs = accepts_kwargs  # type: ignore[assignment]
        _patched.add("botocore")
