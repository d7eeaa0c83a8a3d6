"""The layer in front of moto: a WSGI middleware with a registry of interceptors.

Every request is parsed once (`AwsRequest`). Interceptors that want it form a
chain, in registration order; each gets the request and `forward`, which
runs the rest of the chain and finally moto, and returns its response. So an
interceptor can

- answer by itself (never call `forward`): running Lambda code, execute-api
  hosts, TestDNSAnswer ...;
- check first and refuse (return an error without calling `forward`);
- let moto do the work and then add to it or rewrite its answer;
- give no answer at all: raise `outages.Unanswered` (an outage in hang or
  refuse mode); the server then holds or resets the connection (holding.py).

Requests no interceptor wants go straight to moto, untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from failover_cli.sandbox.outage_regions import UNANSWERED_KEY, Unanswered
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_error

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Forward = Callable[[AwsRequest], Response]


class Interceptor:
    """Base class: override `wants` (cheap, no side effects) and `handle`."""

    def wants(self, request: AwsRequest) -> bool:
        raise NotImplementedError

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        raise NotImplementedError


class OperationInterceptor(Interceptor):
    """An interceptor for some operations of one JSON- or query-protocol service."""

    service: ClassVar[str]
    operations: ClassVar[frozenset[str]]

    def wants(self, request: AwsRequest) -> bool:
        return request.service == self.service and request.operation in self.operations


class Layer:
    """WSGI app: interceptors first, moto (`backend`) behind them."""

    def __init__(self, backend: WsgiApp):
        self.backend = backend
        self._interceptors: list[Interceptor] = []

    def add(self, interceptor: Interceptor) -> None:
        self._interceptors.append(interceptor)

    @property
    def interceptors(self) -> tuple[Interceptor, ...]:
        return tuple(self._interceptors)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = AwsRequest.from_environ(environ)
        chain = self._chain(request)
        if not chain:
            return self.backend(environ, start_response)
        try:
            response = self._forward(chain)(request)
        except Unanswered as unanswered:  # no answer at all: the server holds or resets
            environ[UNANSWERED_KEY] = unanswered
            raise
        except Exception as error:  # a bug in the layer answers 500, like moto does
            log.exception("sandbox interceptor failed on %s %s", request.method, request.path)
            response = json_error("InternalFailure", f"sandbox: {error}", status=500)
        start_response(response.status_line, list(response.headers))
        return [response.body]

    def dispatch(self, request: AwsRequest) -> Response:
        """Run a request made in this process (in_process.py) as `__call__` runs one that
        came over HTTP: the interceptors that want it, then moto. Raises what they raise."""
        return self._forward(self._chain(request))(request)

    def _chain(self, request: AwsRequest) -> list[Interceptor]:
        return [i for i in self._interceptors if i.wants(request)]

    def _forward(self, chain: list[Interceptor]) -> Forward:
        if not chain:
            return self.call_backend
        head, rest = chain[0], chain[1:]
        return lambda request: head.handle(request, self._forward(rest))

    def call_backend(self, request: AwsRequest) -> Response:
        """Run moto on `request` and buffer its answer."""
        captured: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = tuple(headers)
            return lambda _data: None  # the legacy write() callable; moto never uses it

        result = self.backend(request.to_environ(), start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return Response(status=captured["status"], headers=captured["headers"], body=body)
