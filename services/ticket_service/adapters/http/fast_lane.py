"""A short path for the two requests that carry most of the write traffic: creating a
ticket (``POST /api/v1/tickets``) and changing one (``PATCH /api/v1/tickets/{number}``).

FastAPI's generic machinery — routing through included routers, dependency solving, the
exception and exit-stack layers — costs more CPU than the command itself: measured
in-process (create+update pairs from 16 concurrent clients), ~720 µs of CPU per request
through the routes and ~410 µs through this lane, on the one core that bounds a server
process's throughput.

The lane serves a well-formed request with the very functions the routes run
(:func:`~routes_tickets.create_command`, :func:`~routes_tickets.update_command` and their
responses); a command the rules refuse is answered by the app's own exception handler, as
the route's would be. Whatever the route would refuse before running the command goes to
the FastAPI app unchanged, body included: an unknown path or method, no or a bad token, a
role the role table refuses, a body or header that does not validate. Those answers
(401, 403, 422 with the validation details) therefore come from FastAPI itself, and the
OpenAPI document describes the lane's requests as it describes the routes'.
"""

from __future__ import annotations

import re
from typing import TypeVar

from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.common import TicketChanges, TicketFields
from services.ticket_service.adapters.http import json_body, routes_tickets
from services.ticket_service.adapters.http.auth import Claims
from services.ticket_service.adapters.http.deps import (
    ServiceHolder,
    authorized_claims,
    context_of,
)
from services.ticket_service.adapters.http.problems import ProblemError
from services.ticket_service.adapters.http.schemas import MAX_NUMBER
from services.ticket_service.domain import errors

_TICKETS = routes_tickets.TICKETS_PATH
_ONE_TICKET = re.compile(r"/api/v1/tickets/([0-9]{1,18})")
M = TypeVar("M", bound=BaseModel)


class _NotHere(Exception):
    """The lane does not serve this request: the FastAPI app does."""


def _route(name: str) -> APIRoute:
    route = next(r for r in routes_tickets.router.routes if getattr(r, "name", None) == name)
    assert isinstance(route, APIRoute)
    return route


class FastLane:
    """ASGI middleware inside the observability middleware (requests served here are
    counted, timed and logged like any other, under their route's template)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.served = 0
        self._create_route = _route("create_ticket")
        self._update_route = _route("update_ticket")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._route_of(scope)
        if route is None:
            await self.app(scope, receive, send)
            return
        body, received = await _read_body(receive)
        holder: ServiceHolder = scope["app"].state.services
        headers = Headers(scope=scope)
        try:
            claims = _claims(headers, holder, route.name)
            if route is self._create_route:
                key = headers.get("idempotency-key")
                if key is not None and len(key) > routes_tickets.IDEMPOTENCY_KEY_MAX:
                    raise _NotHere
                fields = _body(headers, body, TicketFields)
            else:
                number = _number(scope["path"])
                changes = _body(headers, body, TicketChanges)
        except _NotHere:
            await self.app(scope, _replay(received, receive), send)
            return
        scope["route"] = route
        self.served += 1
        svc = holder.get()
        ctx = context_of(headers, claims)
        response: Response
        try:
            if route is self._create_route:
                ticket = await routes_tickets.create_command(
                    svc, claims, fields, idempotency_key=key, ctx=ctx
                )
                response = await routes_tickets.created_response(svc, ticket, claims)
            else:
                ticket = await routes_tickets.update_command(
                    svc, number, changes, if_match=headers.get("if-match"), ctx=ctx
                )
                response = await routes_tickets.updated_response(svc, ticket, claims)
        except (ProblemError, errors.DomainError) as refused:
            response = await _problem_response(scope, receive, refused)
        await response(scope, receive, send)

    def _route_of(self, scope: Scope) -> APIRoute | None:
        if scope["type"] != "http":
            return None
        method, path = scope["method"], scope["path"]
        if method == "POST" and path == _TICKETS:
            return self._create_route
        if method == "PATCH" and _ONE_TICKET.fullmatch(path):
            return self._update_route
        return None


async def _problem_response(scope: Scope, receive: Receive, refused: Exception) -> Response:
    """The answer of the app's own exception handler for a refused command."""
    handlers = scope["app"].exception_handlers
    handler = next(handlers[cls] for cls in type(refused).__mro__ if cls in handlers)
    response: Response = await handler(Request(scope, receive), refused)
    return response


def _claims(headers: Headers, holder: ServiceHolder, operation: str) -> Claims:
    """The caller's claims, when :class:`~deps.Authorize` would let the caller through."""
    try:
        return authorized_claims(headers.get("authorization"), holder.tokens, operation)
    except ProblemError:
        raise _NotHere from None


def _body(headers: Headers, body: bytes, model: type[M]) -> M:
    """The JSON body as the route validates it (parsed, then validated as Python data)."""
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise _NotHere
    try:
        return model.model_validate(json_body.parse(body))
    except (ValueError, ValidationError):
        raise _NotHere from None


def _number(path: str) -> int:
    match = _ONE_TICKET.fullmatch(path)
    number = int(match.group(1)) if match else 0
    if not 1 <= number <= MAX_NUMBER:
        raise _NotHere
    return number


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole request body, and the messages it came in (to hand them on)."""
    chunks: list[bytes] = []
    received: list[Message] = []
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), received


def _replay(received: list[Message], receive: Receive) -> Receive:
    pending = list(received)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
