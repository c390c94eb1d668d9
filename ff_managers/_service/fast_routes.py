"""The operation routes, answered in front of FastAPI's per-request machinery.

Every operation's HTTP endpoint (``http_app._route``) takes the raw request and does all of its
own work: authentication, body limits, parsing into the request DTO, the dispatcher's pipeline and
the mapping of every error to problem+json. On those routes FastAPI's per-request layers add
nothing but time: its middleware stack (server error, telemetry with an environment lookup per
request, body limit, exception, async exit stack), the router, dependency solving and the
endpoint runner were about a tenth of the event loop's busy time in the service's profile under
the bench's load. This ASGI front matches the method and path against the operation routes of
the FastAPI app (compiled by Starlette from the same paths, so the same path syntax) and calls
the endpoint directly. Everything else goes to the FastAPI app unchanged: another method on an
operation's path (405), unknown paths (404 problem+json), HEAD, ``/openapi.json``, health,
``/v1/info`` and the WebSocket, and lifespan.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Container
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path, get_route_path
from starlette.types import Receive, Scope, Send

__all__ = ["FFOperationFront"]

Endpoint = Callable[[Request], Awaitable[Response]]


class FFOperationFront:
    """ASGI app: the named operation routes of ``app`` served directly, the rest by ``app``."""

    def __init__(self, app: FastAPI, operations: Container[str]) -> None:
        self.app = app
        self.state = app.state
        self._routes: dict[str, list[tuple[re.Pattern[str], Endpoint]]] = {}
        for route in app.routes:
            if isinstance(route, APIRoute) and route.name in operations:
                regex = compile_path(route.path)[0]
                for method in route.methods or ():
                    self._routes.setdefault(method, []).append((regex, route.endpoint))

    def routes(self) -> int:
        return sum(len(found) for found in self._routes.values())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            candidates = self._routes.get(scope["method"])
            if candidates:
                path = get_route_path(scope)
                for regex, endpoint in candidates:
                    match = regex.match(path)
                    if match is not None:
                        await self._answer(endpoint, match.groupdict(), scope, receive, send)
                        return
        await self.app(scope, receive, send)

    async def _answer(self, endpoint: Endpoint, params: dict[str, Any], scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self.app  # what Starlette sets: the endpoint reads request.app.state
        scope["path_params"] = params
        response = await endpoint(Request(scope, receive))
        await response(scope, receive, send)
