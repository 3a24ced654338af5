"""Request metrics and the correlation id, as a plain ASGI middleware.

The correlation id is the request's ``X-Correlation-ID`` (else ``X-Request-ID``, else a new
uuid). A generated one is added to the request's headers so the routes copy it into the
events they cause (``deps.py``); the id is bound in the log context for the request and
echoed in the response's ``X-Correlation-ID`` header.
"""

from __future__ import annotations

import time
from uuid import uuid4

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.ticket_service.adapters.metrics import HTTP_LATENCY, HTTP_REQUESTS

HEADER = b"x-correlation-id"
MAX_LENGTH = 200


def _correlation_id(scope: Scope) -> str:
    headers = dict(scope.get("headers") or ())
    given = headers.get(HEADER) or headers.get(b"x-request-id")
    if given:
        return given.decode("latin-1")[:MAX_LENGTH]
    generated = str(uuid4())
    scope["headers"] = [*scope.get("headers", ()), (HEADER, generated.encode())]
    return generated


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = _correlation_id(scope)
        echoed = correlation_id.encode("latin-1")
        status = 500
        started = time.perf_counter()

        async def send_with_header(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, echoed)]}
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
            try:
                await self.app(scope, receive, send_with_header)
            finally:
                method = scope.get("method", "")
                route = _route_template(scope)
                HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
                HTTP_LATENCY.labels(method=method, route=route).observe(
                    time.perf_counter() - started
                )
