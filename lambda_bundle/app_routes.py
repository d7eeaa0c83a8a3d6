"""Your application's routes. Add them here; the dispatcher picks them up.

    @route("orders", methods=("GET", "POST"))
    def orders(request: Request) -> Response:
        return Response(200, {"orders": [], "region": request.region})

A route is the whole path after the stage or base path, one segment
(GET https://<domain>/<base-path>/orders); other paths are unknown (404).
Return a Response, or a dict for a 200. `protected=True` requires the
health-checker secret like /health. While FORCE_FAIL is set every known route
answers 503, so failover drills cover your routes too.
"""

from __future__ import annotations

from routing import Request, Response, route


@route("hi")
def hi(request: Request) -> Response:
    """The starter's public example: no secret needed, and it says which region answered
    (`failover up` prints its URL; try it during a drill)."""
    return Response(200, {"message": f"Hi from {request.region}", "region": request.region})
