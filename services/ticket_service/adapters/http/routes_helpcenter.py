"""Help-center API for requesters and CC'd users: ``/helpcenter/v1/requests``.

A ticket the caller may not see answers 404 (never 403: no leak of existence); one seen
only through ``org_wide`` is read-only history (403 on comment and follow-up)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from contracts.common import Channel, TicketFields
from services.ticket_service.adapters.http import idempotency, presenters, schemas
from services.ticket_service.adapters.http.audience import (
    Audience,
    audience,
    viewer_organization,
)
from services.ticket_service.adapters.http.auth import Claims
from services.ticket_service.adapters.http.deps import (
    AuthorizedClaims,
    Services,
    call,
    context,
    services_of,
    submit,
)
from services.ticket_service.adapters.http.hints import help_center_follow_up_url
from services.ticket_service.adapters.http.json_body import JSONRoute
from services.ticket_service.adapters.http.problems import ProblemError, documented
from services.ticket_service.adapters.http.routes_tickets import (
    IdempotencyKey,
    Number,
    follow_up_fingerprint,
    scoped_key,
)
from services.ticket_service.adapters.http.routes_views import (
    CursorParam,
    LimitParam,
    parse_cursor,
)
from services.ticket_service.adapters.read_models.projector import Page
from services.ticket_service.application import requested
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.messagebus import FromRequest, Submission
from services.ticket_service.domain import errors
from services.ticket_service.domain.ticket import Ticket

REQUESTS_PATH = "/helpcenter/v1/requests"
router = APIRouter(prefix=REQUESTS_PATH, tags=["help center"], route_class=JSONRoute)


follow_up_url = help_center_follow_up_url


def not_found(number: int) -> ProblemError:
    """The one answer for a request that does not exist and for one the caller may not
    see: the same body but for the number, so it tells nothing of the other tickets."""
    return ProblemError(404, "ticket_not_found", f"No request #{number}.")


def visible(svc: Services, number: int, claims: Claims) -> tuple[Ticket, Audience]:
    """The ticket and how the caller sees it; 404 unless they may see it at all."""
    try:
        ticket = svc.tickets.get_ticket(number)
    except errors.TicketNotFound:
        raise not_found(number) from None
    viewer_org = viewer_organization(claims, svc.tickets.organizations)
    seen_as = audience(claims, ticket.requester, ticket.cc, ticket.organization_id, viewer_org)
    if seen_as == Audience.NONE:
        raise not_found(number)
    return ticket, seen_as


def as_participant(svc: Services, number: int, claims: Claims) -> Ticket:
    ticket, seen_as = visible(svc, number, claims)
    if seen_as != Audience.PARTICIPANT:
        raise ProblemError(
            403,
            "not_permitted",
            f"Request #{number} is your organization's; only its requester and CC'd users "
            "can reply or follow up.",
        )
    return ticket


@router.get(
    "",
    name="list_requests",
    response_model=schemas.RequestPage,
    responses=documented(401, 403, 422),
)
async def list_requests(
    claims: AuthorizedClaims, request: Request, cursor: CursorParam = None, limit: LimitParam = 50
) -> schemas.RequestPage:
    """My requests: the caller's and CC'd tickets (the organization's with ``org_wide``),
    newest first; closed ones show as ``solved``."""
    svc = services_of(request)
    after = parse_cursor(cursor)

    def read() -> tuple[Page, str | None]:
        org = viewer_organization(claims, svc.tickets.organizations)
        svc.views.catch_up()
        return svc.views.requests(claims.email or "", org, after, limit), org

    page, org = await run_in_threadpool(read)
    return schemas.RequestPage(
        requests=[
            schemas.Request(
                **presenters.request_fields(
                    d,
                    audience(claims, d["requester"], d["cc"], d.get("organization_id"), org),
                )
            )
            for d in page.docs
        ],
        next_cursor=page.next_cursor,
    )


@router.post(
    "",
    name="create_request",
    status_code=201,
    response_model=schemas.RequestDetail,
    responses=documented(401, 403, 422),
)
async def create_request(
    body: schemas.NewRequestIn,
    request: Request,
    response: Response,
    claims: AuthorizedClaims,
    idempotency_key: IdempotencyKey = None,
) -> schemas.RequestDetail:
    """A new request with the caller as its requester (201 + ``Location``); a token
    without an email → 422."""
    svc = services_of(request)
    ticket = await create_request_command(
        svc, claims, body, idempotency_key=idempotency_key, ctx=context(request, claims)
    )
    response.headers["Location"] = f"/helpcenter/v1/requests/{ticket.number}"
    return presenters.request_detail(ticket, Audience.PARTICIPANT)


async def create_request_command(
    svc: Services,
    claims: Claims,
    body: schemas.NewRequestIn,
    *,
    idempotency_key: str | None,
    ctx: RequestContext,
) -> Ticket:
    """The command behind ``POST /helpcenter/v1/requests`` (also the help center's form)."""
    if not claims.email:
        raise ProblemError(422, "email_required", "The token names no email to request as.")
    key = scoped_key(claims, idempotency_key)
    digest = (
        idempotency.fingerprint("POST", REQUESTS_PATH, body.model_dump(mode="json"))
        if key
        else None
    )
    try:
        fields = TicketFields(
            subject=body.subject, description=body.description, requester=claims.email
        )
    except ValidationError:
        raise ProblemError(
            422, "email_required", "The token's email is not one to request as."
        ) from None
    command = requested.create_ticket(ctx, fields, Channel.HELP_CENTER)
    outcome = await submit(svc, Submission(command, ctx, FromRequest(key, digest)))
    return outcome.unwrap()


@router.get(
    "/{number}",
    name="get_request",
    response_model=schemas.RequestDetail,
    responses=documented(401, 403, 404, 422),
)
async def get_request(
    number: Number, claims: AuthorizedClaims, request: Request
) -> schemas.RequestDetail:
    svc = services_of(request)
    ticket, seen_as = await call(visible, svc, number, claims)
    return presenters.request_detail(ticket, seen_as)


@router.post(
    "/{number}/comments",
    name="comment_request",
    status_code=201,
    response_model=schemas.RequestDetail,
    responses=documented(401, 403, 404, 409, 422),
)
async def comment_request(
    number: Number,
    comment: schemas.RequestCommentIn,
    request: Request,
    claims: AuthorizedClaims,
) -> schemas.RequestDetail:
    """Reply on the request (pending/solved goes back to open); closed → 409."""
    svc = services_of(request)
    await call(as_participant, svc, number, claims)
    ctx = context(request, claims)
    command = requested.add_comment(
        ctx, number, comment.body, public=True, channel=Channel.HELP_CENTER
    )
    outcome = await submit(svc, Submission(command, ctx), follow_up_url=follow_up_url(number))
    ticket = outcome.unwrap()
    return presenters.request_detail(ticket, Audience.PARTICIPANT)


@router.post(
    "/{number}/follow-ups",
    name="follow_up_request",
    status_code=201,
    response_model=schemas.RequestDetail,
    responses=documented(401, 403, 404, 409, 422),
)
async def follow_up_request(
    number: Number,
    request: Request,
    response: Response,
    claims: AuthorizedClaims,
    body: Annotated[schemas.FollowUpIn | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> schemas.RequestDetail:
    """A follow-up of one of the caller's closed requests (201 + ``Location``)."""
    svc = services_of(request)
    key = scoped_key(claims, idempotency_key)
    message = body.body if body else ""
    digest = follow_up_fingerprint(follow_up_url(number), message) if key else None
    await call(as_participant, svc, number, claims)
    ctx = context(request, claims)
    command = requested.create_follow_up(ctx, number, message, Channel.HELP_CENTER)
    ticket = (await submit(svc, Submission(command, ctx, FromRequest(key, digest)))).unwrap()
    response.headers["Location"] = f"/helpcenter/v1/requests/{ticket.number}"
    return presenters.request_detail(ticket, Audience.PARTICIPANT)
