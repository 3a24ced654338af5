"""Downloads of what a customer actually sent (issue #20): the message that opened a ticket
(``/{number}/original``) or that a comment was made from, as received (``message/rfc822``),
and each attachment of a comment with its content, from the mail store
(:mod:`services.mail_store`) by the SHA-256 the ticket or comment refers to.

Agents, admins and integrations use the agent API; a requester (or CC) downloads the
attachments of public comments on their own requests in the help center. Anything else —
another requester's ticket, an internal note, an unknown or purged id — is the help
center's one 404, identical to a ticket that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from services.ticket_service.adapters.http.deps import AuthorizedClaims, Services, services_of
from services.ticket_service.adapters.http.json_body import JSONRoute
from services.ticket_service.adapters.http.problems import ProblemError, documented
from services.ticket_service.adapters.http.routes_helpcenter import not_found, visible
from services.ticket_service.adapters.http.routes_tickets import Number
from services.ticket_service.domain import errors
from services.ticket_service.domain.ticket import Ticket

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"], route_class=JSONRoute)
help_center_router = APIRouter(
    prefix="/helpcenter/v1/requests", tags=["help center"], route_class=JSONRoute
)

AttachmentId = Path(max_length=64, description="The attachment's ``attachment_id``.")
RFC822 = "message/rfc822"


def _binary(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": "The bytes as received.",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        },
        **documented(401, 403, 404, 422),
    }


def _missing(number: int) -> ProblemError:
    return ProblemError(404, "not_found", f"No such original on ticket #{number}.")


def _comment(ticket: Ticket, comment_id: UUID, *, public_only: bool) -> dict[str, Any] | None:
    for comment in ticket.comments:
        if str(comment["id"]) == str(comment_id) and (comment["public"] or not public_only):
            return comment
    return None


def _attachment(attachments: Iterable[dict[str, Any]], attachment_id: str) -> dict[str, Any] | None:
    for attachment in attachments:
        if str(attachment.get("attachment_id")) == attachment_id and attachment.get("sha256"):
            return attachment
    return None


async def _read(svc: Services, sha256: str) -> bytes | None:
    return await run_in_threadpool(svc.mail_store.get, sha256)


def _download(data: bytes, media_type: str, filename: str | None) -> Response:
    headers = {"X-Content-Type-Options": "nosniff"}
    if filename is not None:
        safe = "".join(c if c.isalnum() or c in "._- " else "_" for c in filename) or "file"
        headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return Response(data, media_type=media_type, headers=headers)


async def _attachment_download(
    svc: Services,
    attachments: Iterable[dict[str, Any]],
    attachment_id: str,
    missing: ProblemError,
) -> Response:
    """The attachment's bytes as a download, or ``missing`` when it is unknown or purged."""
    attachment = _attachment(attachments, attachment_id)
    data = await _read(svc, attachment["sha256"]) if attachment else None
    if attachment is None or data is None:
        raise missing
    return _download(data, str(attachment["content_type"]), str(attachment["filename"]))


async def _agent_ticket(svc: Services, number: int) -> Ticket:
    try:
        return await run_in_threadpool(svc.tickets.get_ticket, number)
    except errors.TicketNotFound:
        raise _missing(number) from None


@router.get(
    "/{number}/original",
    name="get_ticket_original",
    response_class=Response,
    responses=_binary(RFC822),
)
async def get_ticket_original(
    number: Number, request: Request, claims: AuthorizedClaims
) -> Response:
    """The message that opened the ticket (a new ticket or a follow-up made from email),
    byte for byte as email ingest received it; replies are under their comment."""
    svc = services_of(request)
    ticket = await _agent_ticket(svc, number)
    original = ticket.original
    data = await _read(svc, original["sha256"]) if original else None
    if data is None:
        raise _missing(number)
    return _download(data, RFC822, None)


@router.get(
    "/{number}/attachments/{attachment_id}",
    name="get_ticket_attachment",
    response_class=Response,
    responses=_binary("application/octet-stream"),
)
async def get_ticket_attachment(
    number: Number, request: Request, claims: AuthorizedClaims, attachment_id: str = AttachmentId
) -> Response:
    """One attachment of the message that opened the ticket, with its content."""
    svc = services_of(request)
    ticket = await _agent_ticket(svc, number)
    return await _attachment_download(svc, ticket.attachments, attachment_id, _missing(number))


@router.get(
    "/{number}/comments/{comment_id}/original",
    name="get_comment_original",
    response_class=Response,
    responses=_binary(RFC822),
)
async def get_comment_original(
    number: Number, comment_id: UUID, request: Request, claims: AuthorizedClaims
) -> Response:
    """The message the comment was made from, byte for byte as email ingest received it."""
    svc = services_of(request)
    ticket = await _agent_ticket(svc, number)
    comment = _comment(ticket, comment_id, public_only=False)
    original = comment.get("original") if comment else None
    data = await _read(svc, original["sha256"]) if original else None
    if data is None:
        raise _missing(number)
    return _download(data, RFC822, None)


@router.get(
    "/{number}/comments/{comment_id}/attachments/{attachment_id}",
    name="get_comment_attachment",
    response_class=Response,
    responses=_binary("application/octet-stream"),
)
async def get_comment_attachment(
    number: Number,
    comment_id: UUID,
    request: Request,
    claims: AuthorizedClaims,
    attachment_id: str = AttachmentId,
) -> Response:
    """One attachment of the comment, with its content."""
    svc = services_of(request)
    ticket = await _agent_ticket(svc, number)
    comment = _comment(ticket, comment_id, public_only=False) or {}
    return await _attachment_download(
        svc, comment.get("attachments", []), attachment_id, _missing(number)
    )


@help_center_router.get(
    "/{number}/comments/{comment_id}/attachments/{attachment_id}",
    name="get_request_attachment",
    response_class=Response,
    responses=_binary("application/octet-stream"),
)
async def get_request_attachment(
    number: Number,
    comment_id: UUID,
    request: Request,
    claims: AuthorizedClaims,
    attachment_id: str = AttachmentId,
) -> Response:
    """An attachment of a public comment on one of your requests; 404 otherwise."""
    svc = services_of(request)
    ticket, _ = await run_in_threadpool(visible, svc, number, claims)
    comment = _comment(ticket, comment_id, public_only=True) or {}
    return await _attachment_download(
        svc, comment.get("attachments", []), attachment_id, not_found(number)
    )


@help_center_router.get(
    "/{number}/attachments/{attachment_id}",
    name="get_request_opening_attachment",
    response_class=Response,
    responses=_binary("application/octet-stream"),
)
async def get_request_opening_attachment(
    number: Number, request: Request, claims: AuthorizedClaims, attachment_id: str = AttachmentId
) -> Response:
    """An attachment of the mail that opened one of your requests; 404 otherwise."""
    svc = services_of(request)
    ticket, _ = await run_in_threadpool(visible, svc, number, claims)
    return await _attachment_download(svc, ticket.attachments, attachment_id, not_found(number))
