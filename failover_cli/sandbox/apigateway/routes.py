"""What a REST API's stage serves: its routes, read from moto, and how a path picks one.

API Gateway serves a stage's *deployment*, a snapshot taken by CreateDeployment,
not the API's current definition. moto keeps no snapshot, so `Deployments`
takes one (a `RouteTable`) whenever a deployment is created through the
sandbox; a deployment it never saw is served from the live definition.

Matching follows API Gateway: per path segment a literal resource beats a
`{param}`, which beats a greedy `{proxy+}`; then the method (the verb itself
before ANY).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from moto.apigateway.models import RestAPI

ANY = "ANY"
DEFAULT_TIMEOUT_MS = 29_000  # API Gateway's default (and, by default, maximum) integration timeout


@dataclass(frozen=True)
class Integration:
    type: str  # AWS_PROXY, AWS, HTTP, MOCK ...
    uri: str
    timeout_ms: int = DEFAULT_TIMEOUT_MS


@dataclass(frozen=True)
class Route:
    """One resource of the API with its methods (verb or ANY -> integration, if any)."""

    resource_id: str
    path: str  # the template, e.g. "/{proxy+}" or "/users/{id}"
    methods: Mapping[str, Integration | None]

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(s for s in self.path.split("/") if s)


@dataclass(frozen=True)
class RouteTable:
    routes: tuple[Route, ...]
    binary_media_types: tuple[str, ...] = ()
    policy: str | None = None  # the resource policy, which also takes effect on deployment


@dataclass(frozen=True)
class Match:
    route: Route
    method: str  # the method key that matched: the verb or ANY
    integration: Integration | None
    path_parameters: dict[str, str]


def read_routes(api: RestAPI) -> RouteTable:
    """The API's current definition, copied out of moto's objects."""
    routes = []
    for resource in list(api.resources.values()):
        methods: dict[str, Integration | None] = {}
        for verb, method in list(resource.resource_methods.items()):
            integration = method.method_integration
            methods[verb.upper()] = (
                Integration(
                    type=str(integration.integration_type or "").upper(),
                    uri=str(integration.uri or ""),
                    timeout_ms=_timeout(integration.timeout_in_millis),
                )
                if integration is not None
                else None
            )
        routes.append(Route(resource.id, resource.get_path(), methods))
    return RouteTable(tuple(routes), tuple(api.binaryMediaTypes or ()), api.policy or None)


def match(table: RouteTable, path: str, method: str) -> Match | None:
    """The route and method API Gateway picks for `path` (within the stage), or None."""
    request = tuple(s for s in path.split("/") if s)
    best: tuple[tuple[int, ...], Route, dict[str, str]] | None = None
    for route in table.routes:
        found = _match_route(route.segments, request, path)
        if found is None:
            continue
        rank, params = found
        if best is None or rank > best[0]:
            best = (rank, route, params)
    if best is None:
        return None
    _, route, params = best
    verb = method.upper()
    key = verb if verb in route.methods else ANY if ANY in route.methods else None
    if key is None:
        return None
    return Match(route, key, route.methods[key], params)


def _match_route(
    template: tuple[str, ...], request: tuple[str, ...], raw_path: str
) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """(rank, path parameters) when `template` matches; literal 2 > {param} 1 > {greedy+} 0."""
    rank: list[int] = []
    params: dict[str, str] = {}
    for index, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            if index >= len(request):
                return None  # a greedy parameter needs at least one segment
            params[part[1:-2]] = _rest_of_path(raw_path, index)
            rank.append(0)
            return tuple(rank), params
        if index >= len(request):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = unquote(request[index])
            rank.append(1)
        elif part == request[index]:
            rank.append(2)
        else:
            return None
    if len(template) != len(request):
        return None
    return tuple(rank), params


def _rest_of_path(raw_path: str, skip: int) -> str:
    """The path after its first `skip` segments, as sent (inner and trailing slashes kept)."""
    rest = raw_path.lstrip("/")
    for _ in range(skip):
        rest = rest.split("/", 1)[1].lstrip("/") if "/" in rest else ""
    return unquote(rest)


def _timeout(value: Any) -> int:
    try:
        return int(value) if value else DEFAULT_TIMEOUT_MS
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT_MS


class Deployments:
    """Route tables as they were at each deployment, keyed by (account, region, api, id)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[tuple[str, str, str, str], RouteTable] = {}

    def record(self, account_id: str, region: str, api: RestAPI, deployment_id: str) -> None:
        table = read_routes(api)
        with self._lock:
            self._tables[(account_id, region, api.id, deployment_id)] = table

    def table(
        self, account_id: str, region: str, api: RestAPI, deployment_id: str | None
    ) -> RouteTable:
        """The deployment's snapshot, or the live definition for one taken outside the layer."""
        with self._lock:
            table = self._tables.get((account_id, region, api.id, deployment_id or ""))
        return table if table is not None else read_routes(api)
