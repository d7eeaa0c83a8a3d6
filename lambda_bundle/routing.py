"""The route table and the request/response types every route module shares.

A route is one path segment (`health`, `hello`, `orders`): the whole request
path after the stage and any custom-domain base path (`/x/health` matches
none). Modules register routes with the `route` decorator when they are imported; the
dispatcher in handler.py only looks them up here.
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

    def route(
        self, name: str, *, methods: Iterable[str] = ("GET",), protected: bool = False
    ) -> Callable[[RouteFunc], RouteFunc]:
        """Register the decorated function as the handler of one route name."""
        key = name.strip("/")
        if not key or "/" in key:
            raise ValueError(f"route name must be one path segment, got {name!r}")
        if key in self._routes:
            raise ValueError(f"route {key!r} is already registered")
        allowed = frozenset(m.upper() for m in methods)
        if not allowed:
            raise ValueError(f"route {key!r} needs at least one method")

        def register(func: RouteFunc) -> RouteFunc:
            self._routes[key] = Route(key, allowed, protected, func)
            return func

        return register

    def get(self, name: str) -> Route | None:
        return self._routes.get(name)

    def names(self) -> list[str]:
        return sorted(self._routes)


router = Router()
route = router.route
