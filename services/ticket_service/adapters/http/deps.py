"""Dependency wiring: the services behind the routes, the caller's claims, and the one
authorization check every API route goes through."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from services.mail_store import MailStore, mail_store_for
from services.settings import Settings
from services.ticket_service.adapters.dead_letter_store import DeadLetterStore
from services.ticket_service.adapters.http.auth import (
    Claims,
    InvalidToken,
    TokenPolicy,
    decode_token,
)
from services.ticket_service.adapters.http.hints import hint_for
from services.ticket_service.adapters.http.permissions import allowed
from services.ticket_service.adapters.http.problems import ProblemError
from services.ticket_service.adapters.metrics import HTTP_GROUP_COMMANDS, HTTP_GROUP_COMMITS
from services.ticket_service.adapters.read_models.projector import TicketViews
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.group_commit import GroupCommitter
from services.ticket_service.application.messagebus import Outcome, Submission
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.domain import errors
from services.webhooks.application.management import Management

T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    tickets: TicketApplication
    views: TicketViews
    commits: GroupCommitter
    dead_letters: DeadLetterStore
    mail_store: MailStore
    webhooks: Management | None = None


class ServiceHolder:
    """Builds the application and views on first use (``helpdesk openapi`` needs neither)."""

    def __init__(
        self,
        settings: Settings,
        factory: Callable[[], TicketApplication],
        webhooks: Callable[[], Management] | None = None,
    ) -> None:
        self.settings = settings
        self._webhooks = webhooks
        self.tokens = TokenPolicy.from_settings(settings)
        self._factory = factory
        self._services: Services | None = None
        self._lock = threading.Lock()

    def get(self) -> Services:
        if self._services is None:
            with self._lock:
                if self._services is None:
                    app = self._factory()
                    commits = GroupCommitter(app.bus, on_commit=count_group_commit)
                    self._services = Services(
                        self.settings,
                        app,
                        TicketViews(app),
                        commits,
                        DeadLetterStore(app),
                        mail_store_for(self.settings),
                        self._webhooks() if self._webhooks is not None else None,
                    )
        return self._services

    def close(self) -> None:
        """Stop the group-commit writer (the application itself belongs to its factory)."""
        if self._services is not None:
            self._services.commits.close()
            self._services.mail_store.close()
            if self._services.webhooks is not None:
                self._services.webhooks.store.close()


def count_group_commit(operations: int) -> None:
    HTTP_GROUP_COMMITS.inc()
    HTTP_GROUP_COMMANDS.inc(operations)


def services_of(request: Request) -> Services:
    """The services behind the routes (a plain call, not a dependency: each level of
    FastAPI's dependency tree costs every request)."""
    holder: ServiceHolder = request.app.state.services
    return holder.get()


class Authorize(HTTPBearer):
    """The bearer scheme of the OpenAPI document that also decodes the token and applies the
    role table to the route being called (its name is the operation): one dependency
    rather than a chain, as each level of FastAPI's dependency tree costs every request."""

    async def __call__(self, request: HTTPConnection) -> Claims:  # type: ignore[override]
        holder: ServiceHolder = request.app.state.services
        return authorized_claims(
            request.headers.get("authorization"),
            holder.tokens,
            request.scope["route"].name,
        )


def authorized_claims(authorization: str | None, tokens: TokenPolicy, operation: str) -> Claims:
    """The caller's claims from the ``Authorization`` header, if the role table lets the
    caller call ``operation``; else the 401/403 problem (:class:`Authorize`)."""
    scheme, token = get_authorization_scheme_param(authorization)
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(401, "not_authenticated", "A Bearer token is required.")
    try:
        claims = decode_token(token, tokens)
    except InvalidToken as error:
        raise ProblemError(401, "invalid_token", str(error)) from None
    if not allowed(operation, claims.role):
        raise ProblemError(
            403,
            "not_permitted",
            f"The {claims.role} role may not call {operation}.",
        )
    return claims


authorize = Authorize(
    auto_error=False,
    scheme_name="HTTPBearer",
    description="JWT (HS256) with sub, email, role and exp claims (optionally iss, aud; "
    "a kid header picks one of the service's keys).",
)


AuthorizedClaims = Annotated[Claims, Depends(authorize)]


def context(request: Request, claims: Claims) -> RequestContext:
    return context_of(request.headers, claims)


def context_of(headers: Mapping[str, str], claims: Claims) -> RequestContext:
    correlation = headers.get("x-correlation-id") or headers.get("x-request-id")
    return RequestContext(
        actor=claims.actor, correlation_id=correlation[:200] if correlation else None
    )


async def call(fn: Callable[..., T], *args: Any, follow_up_url: str | None = None) -> T:
    """Run a blocking application call off the event loop; a closed-ticket refusal says
    where the follow-up is created."""
    try:
        return await run_in_threadpool(fn, *args)
    except errors.TicketClosed as error:
        raise _closed(error, follow_up_url) from None


async def submit(
    svc: Services, submission: Submission, *, follow_up_url: str | None = None
) -> Outcome:
    """Hand a request's command to the bus, sharing a store transaction with concurrent
    requests (:mod:`~services.ticket_service.application.group_commit`); the rules' refusal
    is raised (the app's handlers answer it), a closed ticket's with where the follow-up is
    created."""
    outcome = await svc.commits.submit(submission)
    if isinstance(outcome.error, errors.TicketClosed):
        raise _closed(outcome.error, follow_up_url)
    if outcome.error is not None:
        raise outcome.error
    if outcome.failure is not None:
        raise outcome.failure
    return outcome


def _closed(error: errors.TicketClosed, follow_up_url: str | None) -> ProblemError:
    return ProblemError(
        409,
        error.code,
        error.message,
        hint=hint_for(error, path=follow_up_url or "/api/"),
        follow_up_url=follow_up_url,
    )
