"""The route table and the request/response types every route module shares.

A route is the whole request path after the stage and any custom-domain base
path: one segment (`health`, `hello`, `orders`; `/x/health` matches none), or a
fixed path whose last segment is a parameter (`health/switch/{region}`: the
value is one segment, in `Request.route`'s last segment). Modules register
routes with the `route` decorator when they are imported; the dispatcher in
handler.py only looks them up here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str  # upper case, e.g. "GET"
    route: str  # the path after stage and base path, e.g. "health"
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: str | None
    region: str
    event: Mapping[str, Any]  # the raw API Gateway proxy event
    context: Any  # the Lambda context object


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # anything json.dumps accepts
    headers: Mapping[str, str] = field(default_factory=dict)


# A route function returns a Response, or a JSON-able dict meaning "200 with this body".
RouteFunc = Callable[[Request], "Response | dict[str, Any]"]


@dataclass(frozen=True)
class Route:
    name: str
    methods: frozenset[str]
    protected: bool  # requires the health-checker secret in ?healthCheckerId=
    func: RouteFunc


class Router:
    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._prefixed: dict[str, Route] = {}  # "health/switch" -> the `{param}` route

    def route(
        self, name: str, *, methods: Iterable[str] = ("GET",), protected: bool = False
    ) -> Callable[[RouteFunc], RouteFunc]:
        """Register the decorated function as the handler of one route name."""
        key = name.strip("/")
        prefix, _, last = key.rpartition("/")
        parameter = bool(prefix) and last.startswith("{") and last.endswith("}")
        if not key or ("/" in key and not parameter) or "{" in prefix:
            raise ValueError(
                f"route name must be one path segment or 'fixed/path/{{param}}', got {name!r}"
            )
        table = self._prefixed if parameter else self._routes
        if (prefix if parameter else key) in table:
            raise ValueError(f"route {key!r} is already registered")
        allowed = frozenset(m.upper() for m in methods)
        if not allowed:
            raise ValueError(f"route {key!r} needs at least one method")

        def register(func: RouteFunc) -> RouteFunc:
            table[prefix if parameter else key] = Route(key, allowed, protected, func)
            return func

        return register

    def get(self, name: str) -> Route | None:
        found = self._routes.get(name)
        if found is None and self._prefixed:
            prefix, _, value = name.rpartition("/")
            found = self._prefixed.get(prefix) if value else None
        return found

    def names(self) -> list[str]:
        return sorted([*self._routes, *(r.name for r in self._prefixed.values())])


router = Router()
route = router.route
