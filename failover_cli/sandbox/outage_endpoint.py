"""The outage switch at run time: `/_sandbox/outage` on the sandbox's own host.

- `GET /_sandbox/outage`: `{"outages": [{"region", "mode", "since"}, ...]}`;
- `POST /_sandbox/outage` with `{"region": "us-west-2", "mode": "hang"}`
  starts or changes one (mode defaults to hang; `none` ends it);
- `DELETE /_sandbox/outage` with `{"region": ...}` ends it; with no region,
  every outage ends.

Each answers with the outages now in place; a bad region, mode or body is a
400 with an `error` sentence and changes nothing. Modes: outage_regions.py. This
feature also installs the gate (outage_answers.py) first in the layer, so an
outage applies before any other feature sees the request.
"""

from __future__ import annotations

import json
from typing import Any

from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, Interceptor
from failover_cli.sandbox.outage_answers import OutageGate
from failover_cli.sandbox.outage_regions import BadOutage, Mode, Outages, check_region, parse_mode
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response

PATH = "/_sandbox/outage"
OWN_HOSTS = frozenset({"127.0.0.1", "localhost"})  # never a custom domain's own path


def install(context: SandboxContext) -> None:
    context.layer.add(OutageSwitch(context.outages))
    context.layer.add(OutageGate(context.outages))


class OutageSwitch(Interceptor):
    def __init__(self, outages: Outages):
        self.outages = outages

    def wants(self, request: AwsRequest) -> bool:
        return (
            request.hostname in OWN_HOSTS
            and request.path.rstrip("/") == PATH
            and not request.signed
        )

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        try:
            if request.method == "GET":
                pass
            elif request.method == "POST":
                region, mode = self._change(request)
                self.outages.set(region, mode)
            elif request.method == "DELETE":
                named = _body(request).get("region")
                if named is None:
                    self.outages.end_all()
                else:
                    self.outages.set(check_region(named), None)
            else:
                return _json({"error": f"{request.method} is not allowed on {PATH}"}, 405)
        except BadOutage as error:
            return _json({"error": str(error)}, 400)
        return _json({"outages": [outage.public() for outage in self.outages.current()]})

    def _change(self, request: AwsRequest) -> tuple[str, Mode | None]:
        body = _body(request)
        if "region" not in body:
            raise BadOutage('the body needs a "region", like {"region": "us-west-2"}')
        mode = body.get("mode", str(Mode.HANG))
        if not isinstance(mode, str):
            raise BadOutage(f"{mode!r} is not an outage mode")
        return check_region(body["region"]), parse_mode(mode)


def _body(request: AwsRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        parsed = json.loads(request.body)
    except ValueError:
        raise BadOutage("the body is not JSON") from None
    if not isinstance(parsed, dict):
        raise BadOutage('the body must be a JSON object, like {"region": "us-west-2"}')
    return parsed


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    body = json.dumps(payload).encode()
    headers = (
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
    )
    return Response(status=status, headers=headers, body=body)
