"""Dependency wiring: the services behind the routes, the caller's claims, and the one
authorization check every API route goes through."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from services.settings import Settings
from services.ticket_service.adapters.http.auth import Claims, InvalidToken, decode_token
from services.ticket_service.adapters.http.permissions import allowed
from services.ticket_service.adapters.http.problems import ProblemError
from services.ticket_service.adapters.read_models.projector import TicketViews
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.domain import errors

T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    tickets: TicketApplication
    views: TicketViews


class ServiceHolder:
    """Builds the application and views on first use (``helpdesk openapi`` needs neither)."""

    def __init__(self, settings: Settings, factory: Callable[[], TicketApplication]) -> None:
        self.settings = settings
        self._factory = factory
        self._services: Services | None = None
        self._lock = threading.Lock()

    def get(self) -> Services:
        if self._services is None:
            with self._lock:
                if self._services is None:
                    app = self._factory()
                    self._services = Services(self.settings, app, TicketViews(app))
        return self._services


async def services(request: Request) -> Services:
    holder: ServiceHolder = request.app.state.services
    return holder.get()


bearer = HTTPBearer(auto_error=False, description="JWT (HS256) with sub, email, role claims.")


async def current_claims(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Claims:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ProblemError(401, "not_authenticated", "A Bearer token is required.")
    holder: ServiceHolder = request.app.state.services
    try:
        return decode_token(credentials.credentials, holder.settings.jwt_secret)
    except InvalidToken as error:
        raise ProblemError(401, "invalid_token", f"The token is not valid: {error}.") from None


async def authorize(request: Request, claims: Annotated[Claims, Depends(current_claims)]) -> Claims:
    """The role table, applied to the route being called (its name is the operation)."""
    operation = request.scope["route"].name
    if not allowed(operation, claims.role):
        raise ProblemError(
            403,
            "not_permitted",
            f"The {claims.role} role may not call {operation}.",
        )
    return claims


AuthorizedClaims = Annotated[Claims, Depends(authorize)]
Svc = Annotated[Services, Depends(services)]


def context(request: Request, claims: Claims) -> RequestContext:
    correlation = request.headers.get("x-correlation-id") or request.headers.get("x-request-id")
    return RequestContext(
        actor=claims.actor, correlation_id=correlation[:200] if correlation else None
    )


async def call(fn: Callable[..., T], *args: Any, follow_up_url: str | None = None) -> T:
    """Run a blocking application call off the event loop; a closed-ticket refusal says
    where the follow-up is created."""
    try:
        return await run_in_threadpool(fn, *args)
    except errors.TicketClosed as error:
        raise ProblemError(
            409, error.code, error.message, hint=error.hint, follow_up_url=follow_up_url
        ) from None
