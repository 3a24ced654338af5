"""Agent and integration API: ``/api/v1/tickets``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from contracts.common import Channel, Role, Status, TicketChanges, TicketFields
from services.ticket_service.adapters.http import idempotency, presenters, schemas
from services.ticket_service.adapters.http.auth import Claims
from services.ticket_service.adapters.http.deps import (
    AuthorizedClaims,
    Services,
    call,
    context,
    services_of,
    submit,
)
from services.ticket_service.adapters.http.hints import agent_follow_up_url, hint_for
from services.ticket_service.adapters.http.json_body import JSONRoute
from services.ticket_service.adapters.http.numerals import ascii_number
from services.ticket_service.adapters.http.problems import DOMAIN_STATUS, ProblemError, documented
from services.ticket_service.adapters.http.schemas import MAX_NUMBER
from services.ticket_service.application import requested
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.messagebus import FromRequest, Submission
from services.ticket_service.domain import errors
from services.ticket_service.domain.ticket import Ticket

Number = Annotated[int, Path(ge=1, le=MAX_NUMBER, description="The ticket number.")]
IDEMPOTENCY_KEY_MAX = idempotency.KEY_MAX
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=IDEMPOTENCY_KEY_MAX,
        description=(
            "Retrying with the same key returns the first result, not a second ticket. "
            "A key is the caller's (token sub) and stands for one request: the same key "
            "with another method, path or body → 422 idempotency_key_reused. Keys expire "
            "after HELPDESK_IDEMPOTENCY_KEY_TTL (default 24 hours)."
        ),
    ),
]

router = APIRouter(prefix="/api/v1", tags=["tickets"], route_class=JSONRoute)
TICKETS_PATH = "/api/v1/tickets"


def scoped_key(claims: Claims, idempotency_key: str | None) -> str | None:
    """Idempotency keys are the caller's own: two clients may pick the same key."""
    return idempotency.scoped_key(claims.sub, idempotency_key)


def follow_up_fingerprint(path: str, message: str) -> str:
    """The request of a follow-up route (no body and an empty ``body`` are one request)."""
    return idempotency.fingerprint("POST", path, {"body": message})


def channel_of(claims: Claims) -> Channel:
    return Channel.INTEGRATION if claims.role == Role.INTEGRATION else Channel.AGENT


follow_up_url = agent_follow_up_url


def change_dict(changes: TicketChanges) -> dict[str, Any]:
    """The fields the client set (the contract refuses ``null`` where it cannot clear)."""
    return changes.as_changes()


def detail(svc: Services, ticket: Ticket, claims: Claims) -> schemas.TicketDetail:
    follow_ups = None
    if claims.role == Role.INTEGRATION:
        svc.views.catch_up()
        follow_ups = svc.views.follow_ups_of(ticket.number)
    return presenters.ticket_detail(ticket, claims.role, follow_ups)


async def present(
    svc: Services,
    ticket: Ticket,
    claims: Claims,
    *,
    status_code: int = 200,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> Response:
    """The ticket as ``response_model=TicketDetail`` renders it, serialised once (the model
    is valid by construction, so FastAPI's second validation is skipped). Only the
    integration view needs the read model (a blocking catch-up)."""
    if claims.role == Role.INTEGRATION:
        body = await run_in_threadpool(detail, svc, ticket, claims)
    else:
        body = detail(svc, ticket, claims)
    return presenters.json_response(
        presenters.TICKET_DETAIL.dump_json(body), status_code=status_code, headers=headers
    )


def etag(ticket: Ticket) -> tuple[bytes, bytes]:
    return (b"etag", b'"%d"' % ticket.version)


def created(ticket: Ticket) -> list[tuple[bytes, bytes]]:
    return [(b"location", b"/api/v1/tickets/%d" % ticket.number), etag(ticket)]


@router.post(
    "/tickets",
    name="create_ticket",
    status_code=201,
    response_model=schemas.TicketDetail,
    responses=documented(401, 403, 422),
)
async def create_ticket(
    fields: TicketFields,
    request: Request,
    claims: AuthorizedClaims,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create a ticket in any active status (``closed`` → 422)."""
    svc = services_of(request)
    ticket = await create_command(
        svc, claims, fields, idempotency_key=idempotency_key, ctx=context(request, claims)
    )
    return await created_response(svc, ticket, claims)


async def create_command(
    svc: Services,
    claims: Claims,
    fields: TicketFields,
    *,
    idempotency_key: str | None,
    ctx: RequestContext,
) -> Ticket:
    """The command behind ``POST /api/v1/tickets``."""
    key = scoped_key(claims, idempotency_key)
    digest = (
        idempotency.fingerprint("POST", TICKETS_PATH, fields.model_dump(mode="json"))
        if key
        else None
    )
    command = requested.create_ticket(ctx, fields, channel_of(claims))
    outcome = await submit(svc, Submission(command, ctx, FromRequest(key, digest)))
    return outcome.unwrap()


async def created_response(svc: Services, ticket: Ticket, claims: Claims) -> Response:
    return await present(svc, ticket, claims, status_code=201, headers=created(ticket))


@router.get(
    "/tickets/{number}",
    name="get_ticket",
    response_model=schemas.TicketDetail,
    responses=documented(401, 403, 404, 422),
)
async def get_ticket(number: Number, claims: AuthorizedClaims, request: Request) -> Response:
    svc = services_of(request)
    ticket = await call(svc.tickets.get_ticket, number)
    return await present(svc, ticket, claims, headers=[etag(ticket)])


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    version = ascii_number(value.strip().removeprefix("W/").strip('"'))
    if version is None:
        raise ProblemError(
            422, "invalid_request", 'If-Match must be a ticket version, e.g. If-Match: "3".'
        )
    return version


@router.patch(
    "/tickets/{number}",
    name="update_ticket",
    response_model=schemas.TicketDetail,
    responses=documented(401, 403, 404, 409, 412, 422),
)
async def update_ticket(
    number: Number,
    changes: TicketChanges,
    request: Request,
    claims: AuthorizedClaims,
    if_match: Annotated[
        str | None,
        Header(alias="If-Match", description="The version the change is based on (412 if stale)."),
    ] = None,
) -> Response:
    """Change fields and status. Internal users can never set ``closed`` (403); a closed
    ticket is read-only except the integration-editable fields for integrations (409)."""
    svc = services_of(request)
    ticket = await update_command(
        svc, number, changes, if_match=if_match, ctx=context(request, claims)
    )
    return await updated_response(svc, ticket, claims)


async def update_command(
    svc: Services,
    number: int,
    changes: TicketChanges,
    *,
    if_match: str | None,
    ctx: RequestContext,
) -> Ticket:
    """The command behind ``PATCH /api/v1/tickets/{number}``."""
    expected = parse_if_match(if_match)
    command = requested.update_ticket(ctx, number, changes, expected)
    try:
        outcome = await submit(svc, Submission(command, ctx), follow_up_url=follow_up_url(number))
    except errors.ConcurrencyConflict as conflict:
        if expected is None:
            raise
        raise ProblemError(412, conflict.code, conflict.message) from None
    return outcome.unwrap()


async def updated_response(svc: Services, ticket: Ticket, claims: Claims) -> Response:
    return await present(svc, ticket, claims, headers=[etag(ticket)])


@router.post(
    "/tickets/{number}/comments",
    name="add_comment",
    status_code=201,
    response_model=schemas.TicketDetail,
    responses=documented(401, 403, 404, 409, 422),
)
async def add_comment(
    number: Number,
    comment: schemas.CommentIn,
    request: Request,
    claims: AuthorizedClaims,
) -> Response:
    """Add to the conversation; a closed ticket takes no more comments (409)."""
    svc = services_of(request)
    ctx = context(request, claims)
    command = requested.add_comment(
        ctx, number, comment.body, public=comment.public, channel=channel_of(claims)
    )
    outcome = await submit(svc, Submission(command, ctx), follow_up_url=follow_up_url(number))
    ticket = outcome.unwrap()
    return await present(svc, ticket, claims, status_code=201)


@router.post(
    "/tickets/{number}/follow-ups",
    name="create_follow_up",
    status_code=201,
    response_model=schemas.TicketDetail,
    responses=documented(401, 403, 404, 409, 422),
)
async def create_follow_up(
    number: Number,
    request: Request,
    claims: AuthorizedClaims,
    body: Annotated[schemas.FollowUpIn | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A new ticket continuing a closed one (source not closed → 409). The original is
    not touched."""
    svc = services_of(request)
    key = scoped_key(claims, idempotency_key)
    message = body.body if body else ""
    digest = follow_up_fingerprint(follow_up_url(number), message) if key else None
    ctx = context(request, claims)
    command = requested.create_follow_up(ctx, number, message, channel_of(claims))
    ticket = (await submit(svc, Submission(command, ctx, FromRequest(key, digest)))).unwrap()
    return await present(svc, ticket, claims, status_code=201, headers=created(ticket))


@router.get(
    "/tickets/{number}/events",
    name="ticket_events",
    response_model=schemas.EventHistory,
    responses=documented(401, 403, 404, 422),
)
async def ticket_events(number: Number, claims: AuthorizedClaims, request: Request) -> Any:
    """The ticket's event history, oldest first, as the envelopes published on Kafka."""
    svc = services_of(request)

    def history() -> list[Any]:
        return [
            env for e in svc.tickets.ticket_events(number) if (env := to_envelope(e)) is not None
        ]

    return {"events": await call(history)}


def refuses_bulk(changes: TicketChanges) -> bool:
    """Closing in bulk is refused as a whole."""
    return change_dict(changes).get("status") == Status.CLOSED


@router.post(
    "/tickets/bulk",
    name="bulk_update",
    response_model=schemas.BulkOut,
    response_model_exclude_none=True,
    responses=documented(401, 403, 422),
)
async def bulk_update(
    bulk: schemas.BulkIn, request: Request, claims: AuthorizedClaims
) -> schemas.BulkOut:
    """Apply the same changes to several tickets, each on its own; closed tickets are
    refused one by one; ``status: closed`` refuses the whole request (403)."""
    svc = services_of(request)
    if refuses_bulk(bulk.changes):
        raise ProblemError(
            403,
            "not_permitted",
            "Closing tickets in bulk is not permitted; tickets close "
            "automatically after staying solved.",
        )
    results = await bulk_command(svc, bulk.numbers, bulk.changes, ctx=context(request, claims))
    return schemas.BulkOut(results=results)


async def bulk_command(
    svc: Services, numbers: Sequence[int], changes: TicketChanges, *, ctx: RequestContext
) -> list[schemas.BulkResult]:
    """The commands behind ``POST /api/v1/tickets/bulk`` (``status: closed`` refused by the
    caller first): one update per ticket, each with its own result."""
    unique = list(dict.fromkeys(numbers))
    submissions = [Submission(requested.update_ticket(ctx, n, changes), ctx) for n in unique]
    outcomes = await run_in_threadpool(svc.tickets.bus.handle_batch, submissions)
    results = []
    for number, outcome in zip(unique, outcomes, strict=True):
        if outcome.failure is not None:
            raise outcome.failure
        if outcome.error is not None:
            error = outcome.error
            results.append(
                schemas.BulkResult(
                    number=number,
                    ok=False,
                    error=schemas.BulkError(
                        status=DOMAIN_STATUS.get(type(error), 409),
                        code=error.code,
                        detail=error.message,
                        hint=hint_for(error, path="/api/"),
                    ),
                )
            )
        else:
            assert outcome.ticket is not None
            results.append(
                schemas.BulkResult(number=number, ok=True, version=outcome.ticket.version)
            )
    return results
