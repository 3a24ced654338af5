"""Request metrics, the correlation id and the headers every answer carries, as a plain
ASGI middleware.

The correlation id is the request's ``X-Correlation-ID`` (else ``X-Request-ID``, else a new
uuid). A generated one is added to the request's headers so the routes copy it into the
events they cause (``deps.py``); the id is bound in the log context for the request and
echoed in the response's ``X-Correlation-ID`` header.

Every answer also carries ``X-Content-Type-Options: nosniff`` (a JSON answer is never
sniffed into something a browser runs) and, unless the route set its own,
``Cache-Control: no-store`` (tickets, tokens' views and problem documents are not for
shared or browser caches).
"""

from __future__ import annotations

import random
import time
from functools import lru_cache
from uuid import UUID

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.ticket_service.adapters.metrics import HTTP_LATENCY, HTTP_REQUESTS

HEADER = b"x-correlation-id"
MAX_LENGTH = 200
NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")
_REPLACED = frozenset({HEADER, NOSNIFF[0]})


def _correlation_id(scope: Scope) -> str:
    headers = dict(scope.get("headers") or ())
    given = headers.get(HEADER) or headers.get(b"x-request-id")
    if given:
        return given.decode("latin-1")[:MAX_LENGTH]
    generated = _new_id()
    scope["headers"] = [*scope.get("headers", ()), (HEADER, generated.encode())]
    return generated


def _new_id() -> str:
    """A random (version 4) UUID from the ``random`` module: a correlation id needs to be
    unique, not unguessable, and ``uuid4``'s ``os.urandom`` is a system call that also
    hands the GIL to the group-commit writer in the middle of every request."""
    return str(UUID(int=random.getrandbits(128), version=4))


@lru_cache(maxsize=1024)
def _request_counter(method: str, route: str, status: int) -> Counter:
    return HTTP_REQUESTS.labels(method=method, route=route, status=str(status))


@lru_cache(maxsize=256)
def _latency(method: str, route: str) -> Histogram:
    return HTTP_LATENCY.labels(method=method, route=route)


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
                headers = [
                    (k, v) for k, v in message.get("headers", ()) if k.lower() not in _REPLACED
                ]
                headers += ((HEADER, echoed), NOSNIFF)
                if not any(k.lower() == NO_STORE[0] for k, _ in headers):
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        # bind + reset rather than structlog's bound_contextvars, which walks every
        # context variable of the request on the way in
        tokens = structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        try:
            await self.app(scope, receive, send_with_header)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
            method = scope.get("method", "")
            route = _route_template(scope)
            _request_counter(method, route, status).inc()
            _latency(method, route).observe(time.perf_counter() - started)
