"""The ingest's admin HTTP API: the suspended queue (list, show, raw, release, reject).

It is served by the ingest process itself (``HELPDESK_EMAIL_ADMIN_PORT``), because a
release must go through this process's pipeline (ticket index, Message-ID dedupe, Kafka
publisher). Authentication is the ticket service's: a Bearer JWT (``HELPDESK_JWT_SECRET``),
and the same kind of role table, checked at start-up to cover every route: admins and
owners only. Errors are RFC 9457 problem documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from contracts.common import POLICY_ADMIN_ROLES, Role
from services.email_ingest.adapters import metrics
from services.email_ingest.application.ingest import IngestService
from services.email_ingest.application.ports import (
    AuditRecord,
    PublishFailed,
    SuspendedMail,
    SuspendedNotFound,
    SuspendedQueue,
)
from services.email_ingest.application.suspension import AlreadyHandled, reject, release
from services.ticket_service.adapters.http import problems
from services.ticket_service.adapters.http.auth import Claims, InvalidToken, decode_token
from services.ticket_service.adapters.http.problems import ProblemError, documented

ROLE_TABLE: Mapping[str, frozenset[Role]] = {
    "list_suspended_mail": POLICY_ADMIN_ROLES,
    "get_suspended_mail": POLICY_ADMIN_ROLES,
    "get_suspended_mail_raw": POLICY_ADMIN_ROLES,
    "release_suspended_mail": POLICY_ADMIN_ROLES,
    "reject_suspended_mail": POLICY_ADMIN_ROLES,
}


class SuspendedOut(BaseModel):
    id: str
    reason: str
    detail: str
    received_at: datetime
    size: int
    subject: str
    sender: str
    message_id: str | None
    ticket_number: int | None
    mail_from: str | None
    recipients: list[str]


class AuditOut(BaseModel):
    at: datetime
    id: str
    action: str
    by: str
    message_id: str | None
    outcome: str


class ReleasedOut(BaseModel):
    outcome: str
    ticket_number: int | None
    command_id: str | None
    audit: AuditOut


class AdminBearer(HTTPBearer):
    """Decodes the token and applies :data:`ROLE_TABLE` to the route being called."""

    async def __call__(self, request: HTTPConnection) -> Claims:  # type: ignore[override]
        scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
        if scheme.lower() != "bearer" or not token:
            raise ProblemError(401, "not_authenticated", "A Bearer token is required.")
        try:
            claims = decode_token(token, request.app.state.jwt_secret)
        except InvalidToken as error:
            raise ProblemError(401, "invalid_token", f"The token is not valid: {error}.") from None
        operation = request.scope["route"].name
        if claims.role not in ROLE_TABLE[operation]:
            raise ProblemError(
                403, "not_permitted", f"The {claims.role} role may not call {operation}."
            )
        return claims


admin_bearer = AdminBearer(auto_error=False, scheme_name="HTTPBearer")
AdminClaims = Annotated[Claims, Depends(admin_bearer)]
router = APIRouter(prefix="/api/v1/email/suspended", tags=["email"])


def _queue(request: Request) -> SuspendedQueue:
    queue: SuspendedQueue = request.app.state.suspended
    return queue


def _out(entry: SuspendedMail) -> SuspendedOut:
    return SuspendedOut(**{**asdict(entry), "recipients": list(entry.recipients)})


def _audit(record: AuditRecord) -> AuditOut:
    return AuditOut(**asdict(record))


def _who(claims: Claims) -> str:
    return f"{claims.role.value}:{claims.email or claims.sub}"


def _missing(error: Exception, id: str) -> ProblemError:
    if isinstance(error, AlreadyHandled):
        r = error.record
        return ProblemError(
            409,
            f"already_{r.action}",
            f"Suspended message {id} was {r.action} by {r.by} at {r.at}.",
        )
    return ProblemError(404, "not_found", f"No suspended message {id}.")


@router.get(
    "", name="list_suspended_mail", response_model=list[SuspendedOut], responses=documented(403)
)
async def list_suspended(claims: AdminClaims, request: Request) -> list[SuspendedOut]:
    """Mail held back because its sender is not proven, oldest first."""
    return [_out(e) for e in _queue(request).list()]


@router.get(
    "/{id}",
    name="get_suspended_mail",
    response_model=SuspendedOut,
    responses=documented(403, 404, 409),
)
async def get_suspended(id: str, claims: AdminClaims, request: Request) -> SuspendedOut:
    queue = _queue(request)
    try:
        return _out(queue.get(id))
    except SuspendedNotFound as error:
        done = queue.audit(id)
        raise _missing(AlreadyHandled(done[-1]) if done else error, id) from None


@router.get(
    "/{id}/raw",
    name="get_suspended_mail_raw",
    response_class=Response,
    responses={200: {"content": {"message/rfc822": {}}}, **documented(403, 404)},
)
async def get_suspended_raw(id: str, claims: AdminClaims, request: Request) -> Response:
    """The message as received, byte for byte."""
    try:
        return Response(_queue(request).raw(id), media_type="message/rfc822")
    except SuspendedNotFound as error:
        raise _missing(error, id) from None


@router.post(
    "/{id}/release",
    name="release_suspended_mail",
    response_model=ReleasedOut,
    responses=documented(403, 404, 409, 503),
)
async def release_suspended(id: str, claims: AdminClaims, request: Request) -> ReleasedOut:
    """Process the mail once, as if authenticated; it leaves the queue (audit record)."""
    service: IngestService = request.app.state.service
    try:
        done = await release(
            service, _queue(request), id, by=_who(claims), count=metrics.count_suspended_action
        )
    except (AlreadyHandled, SuspendedNotFound) as error:
        raise _missing(error, id) from None
    except PublishFailed as error:
        raise ProblemError(
            503, "not_handed_on", f"Could not hand the message on: {error}."
        ) from None
    if done.audit is None:
        raise ProblemError(
            409, "still_suspended", f"The message stays suspended: {done.outcome.reason}."
        )
    return ReleasedOut(
        outcome=done.outcome.kind.value,
        ticket_number=done.outcome.ticket_number,
        command_id=done.outcome.command_id,
        audit=_audit(done.audit),
    )


@router.post(
    "/{id}/reject",
    name="reject_suspended_mail",
    response_model=AuditOut,
    responses=documented(403, 404, 409),
)
async def reject_suspended(id: str, claims: AdminClaims, request: Request) -> AuditOut:
    """Delete the mail, leaving an audit record; no ticket is touched."""
    try:
        return _audit(
            reject(_queue(request), id, by=_who(claims), count=metrics.count_suspended_action)
        )
    except (AlreadyHandled, SuspendedNotFound) as error:
        raise _missing(error, id) from None


def check_role_table(routes: list[Any]) -> None:
    """Every route depends on :data:`admin_bearer` and has a role-table row."""
    unguarded, missing = [], []
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        if not any(d.call is admin_bearer for d in route.dependant.dependencies):
            unguarded.append(route.name)
        elif route.name not in ROLE_TABLE:
            missing.append(route.name)
    if unguarded:
        raise RuntimeError(f"admin routes without the admin_bearer dependency: {unguarded}")
    if missing:
        raise RuntimeError(f"admin routes missing from the role table: {missing}")


def create_admin_app(service: IngestService, queue: SuspendedQueue, jwt_secret: str) -> FastAPI:
    app = FastAPI(
        title="Helpdesk email ingest admin",
        version="1.0.0",
        description="The suspended queue of the email ingest (admins and owners).",
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.service, app.state.suspended, app.state.jwt_secret = service, queue, jwt_secret
    problems.install(app)
    app.include_router(router)
    check_role_table(router.routes)
    return app
