"""The pages of the agent console and the help center. Every page names the API
operation it stands for (its role rule) and every form submits the command the API route
would (the route modules' command functions), so the browser meets the same rules.

None of these routes is in the OpenAPI document (``include_in_schema=False``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from contracts.common import ACTIVE_STATUSES, Channel, Priority, Status, TicketChanges
from services.ticket_service.adapters.http import presenters, schemas
from services.ticket_service.adapters.http.audience import audience, viewer_organization
from services.ticket_service.adapters.http.auth import Claims, InvalidToken
from services.ticket_service.adapters.http.deps import Services, context, services_of, submit
from services.ticket_service.adapters.http.permissions import allowed
from services.ticket_service.adapters.http.problems import ProblemError
from services.ticket_service.adapters.http.routes_helpcenter import (
    as_participant,
    create_request_command,
    visible,
)
from services.ticket_service.adapters.http.routes_settings import period
from services.ticket_service.adapters.http.routes_tickets import (
    Number,
    bulk_command,
    channel_of,
    refuses_bulk,
    update_command,
)
from services.ticket_service.adapters.read_models.view_filters import Filters, InvalidCursor, Sort
from services.ticket_service.adapters.web import session
from services.ticket_service.adapters.web.session import Forbidden, SignInNeeded, form_of
from services.ticket_service.application import requested
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.messagebus import Submission
from services.ticket_service.domain import errors

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")  # autoescaped
router = APIRouter(include_in_schema=False)
PAGE = 25
STATUS_CHOICES = [s.value for s in Status if s in ACTIVE_STATUSES]
"""What an agent may pick: every status but closed (tickets close on their own)."""
PRIORITIES = [p.value for p in Priority]
SORTS = {
    Sort.NEWEST: "Newest first",
    Sort.OLDEST: "Oldest first",
    Sort.RECENTLY_UPDATED: "Recently updated",
    Sort.LEAST_RECENTLY_UPDATED: "Least recently updated",
}


def install(app: FastAPI) -> None:
    """The pages, their static files and the answers to signed-out and forbidden calls."""
    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    app.add_exception_handler(SignInNeeded, signed_out)  # type: ignore[arg-type]
    app.add_exception_handler(Forbidden, forbidden)  # type: ignore[arg-type]


async def signed_out(request: Request, error: SignInNeeded) -> Response:
    return RedirectResponse(f"/{error.area}/sign-in", status_code=303)


async def forbidden(request: Request, error: Forbidden) -> Response:
    return render(request, "error.html", {"message": error.message}, status_code=403)


def render(
    request: Request,
    name: str,
    values: dict[str, Any],
    *,
    claims: Claims | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    values = {
        "claims": claims,
        "csrf": session.csrf_token(request),
        "notice": request.query_params.get("notice", "")[:300],
        "error": request.query_params.get("error", "")[:300],
        **values,
    }
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    response.headers["cache-control"] = "no-store"
    response.headers["content-security-policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"
    )
    session.keep_csrf(request, response)
    return response


def back(url: str, **query: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?{urlencode(query)}" if query else url, status_code=303)


def refusal(error: Exception) -> str:
    if isinstance(error, ProblemError):
        return error.detail
    if isinstance(error, errors.DomainError):
        return error.message
    return str(error)


# ---- sign-in --------------------------------------------------------------------------


@router.get("/agent/sign-in", response_class=HTMLResponse)
@router.get("/help/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> Response:
    return render(request, "sign_in.html", {})


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await form_of(request)
    token = session.first(form, "token")
    try:
        claims = session.decode(request, token)
    except InvalidToken as error:
        return render(request, "sign_in.html", {"message": str(error)}, status_code=401)
    area = session.area_of(claims.role)
    home = "view_all" if area == "agent" else "list_requests"
    if not allowed(home, claims.role):
        raise Forbidden(f"The {claims.role} role has no pages here; use the API.")
    response = RedirectResponse(f"/{area}/", status_code=303)
    session.sign_in(request, response, token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await form_of(request)
    response = RedirectResponse("/agent/sign-in", status_code=303)
    session.sign_out(response)
    return response


# ---- console: lists -------------------------------------------------------------------


def filters_of(request: Request, closed: bool) -> tuple[Filters, Sort, dict[str, str]]:
    q = request.query_params
    raw = {
        k: q.get(k, "").strip()[:200]
        for k in ("status", "priority", "assignee", "requester", "tag", "q", "sort")
    }
    status = raw["status"] if raw["status"] in STATUS_CHOICES and not closed else None
    priority = raw["priority"] if raw["priority"] in PRIORITIES else None
    try:
        sort = Sort(raw["sort"]) if raw["sort"] and not closed else Sort.NEWEST
    except ValueError:
        sort = Sort.NEWEST
    filters = Filters(
        status,
        priority,
        raw["assignee"] or None,
        raw["requester"] or None,
        raw["tag"] or None,
        raw["q"] or None,
    )
    return filters, sort, raw


def read_list(svc: Services, closed: bool, filters: Filters, sort: Sort, cursor: str | None) -> Any:
    svc.views.catch_up()
    try:
        return svc.views.view(closed=closed, filters=filters, sort=sort, cursor=cursor, limit=PAGE)
    except InvalidCursor:
        return svc.views.view(closed=closed, filters=filters, sort=sort, limit=PAGE)


async def ticket_list(request: Request, *, closed: bool) -> Response:
    claims = session.claims_of(request, "agent", "view_closed" if closed else "view_all")
    filters, sort, raw = filters_of(request, closed)
    page = await run_in_threadpool(
        read_list, services_of(request), closed, filters, sort, request.query_params.get("cursor")
    )
    kept = {k: v for k, v in raw.items() if v}
    more = urlencode({**kept, "cursor": page.next_cursor}) if page.next_cursor else None
    return render(
        request,
        "agent_list.html",
        {
            "closed": closed,
            "rows": [presenters.view_row(d) for d in page.docs],
            "raw": raw,
            "more": more,
            "statuses": STATUS_CHOICES,
            "priorities": PRIORITIES,
            "sorts": SORTS,
            "results": None,
        },
        claims=claims,
    )


@router.get("/agent/", response_class=HTMLResponse)
async def agent_all(request: Request) -> Response:
    return await ticket_list(request, closed=False)


@router.get("/agent/closed", response_class=HTMLResponse)
async def agent_closed(request: Request) -> Response:
    return await ticket_list(request, closed=True)


@router.post("/agent/bulk", response_class=HTMLResponse)
async def agent_bulk(request: Request) -> Response:
    claims = session.claims_of(request, "agent", "bulk_update")
    form = await form_of(request)
    numbers = [int(n) for n in form.get("numbers", []) if n.isascii() and n.isdigit()][:100]
    change: dict[str, Any] = {}
    if status := session.first(form, "status"):
        change["status"] = status
    if priority := session.first(form, "priority"):
        change["priority"] = priority
    if assignee := session.first(form, "assignee"):
        change["assignee"] = None if assignee == "-" else assignee
    if not numbers or not change:
        return back("/agent/", error="Select tickets and a change.")
    try:
        changes = TicketChanges.model_validate(change)
    except ValidationError:
        return back("/agent/", error="That change is not one a ticket takes.")
    if refuses_bulk(changes):
        raise Forbidden("Closing tickets in bulk is not permitted.")
    svc = services_of(request)
    results = await bulk_command(svc, numbers, changes, ctx=context(request, claims))
    return render(request, "bulk_results.html", {"results": results}, claims=claims)


# ---- console: the ticket page ---------------------------------------------------------


def ticket_page_values(svc: Services, number: int, claims: Claims) -> dict[str, Any]:
    ticket = svc.tickets.get_ticket(number)
    history = [
        env for e in svc.tickets.ticket_events(number) if (env := to_envelope(e)) is not None
    ]
    return {
        "ticket": presenters.ticket_detail(ticket, claims.role, None),
        "events": history,
        "statuses": STATUS_CHOICES,
        "priorities": PRIORITIES,
    }


@router.get("/agent/tickets/{number}", response_class=HTMLResponse)
async def agent_ticket(request: Request, number: Number) -> Response:
    claims = session.claims_of(request, "agent", "get_ticket")
    try:
        values = await run_in_threadpool(ticket_page_values, services_of(request), number, claims)
    except errors.TicketNotFound:
        return render(
            request,
            "error.html",
            {"message": f"No ticket #{number}."},
            claims=claims,
            status_code=404,
        )
    values["created"] = request.query_params.get("created") == "1"
    return render(request, "agent_ticket.html", values, claims=claims)


@router.post("/agent/tickets/{number}/update")
async def agent_update(request: Request, number: Number) -> Response:
    claims = session.claims_of(request, "agent", "update_ticket")
    form = await form_of(request)
    url = f"/agent/tickets/{number}"
    change: dict[str, Any] = {}
    for name in ("status", "priority"):
        if value := session.first(form, name):
            change[name] = value
    if "assignee" in form:
        change["assignee"] = session.first(form, "assignee") or None
    try:
        changes = TicketChanges.model_validate(change)
        await update_command(
            services_of(request), number, changes, if_match=None, ctx=context(request, claims)
        )
    except ValidationError:
        return back(url, error="That change is not one a ticket takes.")
    except (ProblemError, errors.DomainError) as error:
        return back(url, error=refusal(error))
    return back(url, notice="Saved.")


@router.post("/agent/tickets/{number}/comments")
async def agent_comment(request: Request, number: Number) -> Response:
    claims = session.claims_of(request, "agent", "add_comment")
    form = await form_of(request)
    url = f"/agent/tickets/{number}"
    body = session.first(form, "body")
    if not body:
        return back(url, error="Write something first.")
    ctx = context(request, claims)
    command = requested.add_comment(
        ctx, number, body, public=session.first(form, "public") == "1", channel=channel_of(claims)
    )
    try:
        await submit(services_of(request), Submission(command, ctx))
    except (ProblemError, errors.DomainError) as error:
        return back(url, error=refusal(error))
    return back(url, notice="Added.")


@router.post("/agent/tickets/{number}/follow-up")
async def agent_follow_up(request: Request, number: Number) -> Response:
    claims = session.claims_of(request, "agent", "create_follow_up")
    form = await form_of(request)
    ctx = context(request, claims)
    command = requested.create_follow_up(
        ctx, number, session.first(form, "body"), channel_of(claims)
    )
    try:
        ticket = (await submit(services_of(request), Submission(command, ctx))).unwrap()
    except (ProblemError, errors.DomainError) as error:
        return back(f"/agent/tickets/{number}", error=refusal(error))
    return back(f"/agent/tickets/{ticket.number}", created="1")


# ---- console: settings ----------------------------------------------------------------


@router.get("/agent/settings", response_class=HTMLResponse)
async def agent_settings(request: Request) -> Response:
    claims = session.claims_of(request, "agent", "get_auto_close")
    after = period(await run_in_threadpool(services_of(request).tickets.auto_close_after))
    return render(
        request,
        "agent_settings.html",
        {"after": after, "may_change": allowed("put_auto_close", claims.role)},
        claims=claims,
    )


@router.post("/agent/settings")
async def agent_settings_change(request: Request) -> Response:
    claims = session.claims_of(request, "agent", "put_auto_close")
    form = await form_of(request)
    days = session.first(form, "after_days")
    try:
        body = schemas.AutoCloseIn(after_days=int(days) if days.isascii() and days.isdigit() else 0)
    except ValidationError:
        return back("/agent/settings", error="The period is a whole number of days, 1 to 28.")
    ctx = context(request, claims)
    await submit(
        services_of(request),
        Submission(requested.change_auto_close_policy(ctx, body.after_days), ctx),
    )
    return back("/agent/settings", notice="Saved.")


# ---- help center ----------------------------------------------------------------------


def my_requests(svc: Services, claims: Claims, cursor: str | None) -> tuple[list[Any], str | None]:
    org = viewer_organization(claims, svc.tickets.organizations)
    svc.views.catch_up()
    after = int(cursor) if cursor and cursor.isascii() and cursor.isdigit() else None
    page = svc.views.requests(claims.email or "", org, after, PAGE)
    rows = [
        schemas.Request(
            **presenters.request_fields(
                d, audience(claims, d["requester"], d["cc"], d.get("organization_id"), org)
            )
        )
        for d in page.docs
    ]
    return rows, page.next_cursor


@router.get("/help/", response_class=HTMLResponse)
async def help_requests(request: Request) -> Response:
    claims = session.claims_of(request, "help", "list_requests")
    rows, more = await run_in_threadpool(
        my_requests, services_of(request), claims, request.query_params.get("cursor")
    )
    return render(request, "help_list.html", {"rows": rows, "more": more}, claims=claims)


@router.get("/help/new", response_class=HTMLResponse)
async def help_new(request: Request) -> Response:
    claims = session.claims_of(request, "help", "create_request")
    return render(request, "help_new.html", {}, claims=claims)


@router.post("/help/requests")
async def help_create(request: Request) -> Response:
    claims = session.claims_of(request, "help", "create_request")
    form = await form_of(request)
    try:
        body = schemas.NewRequestIn(
            subject=session.first(form, "subject"), description=session.first(form, "description")
        )
        ticket = await create_request_command(
            services_of(request), claims, body, idempotency_key=None, ctx=context(request, claims)
        )
    except ValidationError:
        return back("/help/new", error="A request needs a subject (and at most a long text).")
    except (ProblemError, errors.DomainError) as error:
        return back("/help/new", error=refusal(error))
    return back(f"/help/requests/{ticket.number}", created="1")


@router.get("/help/requests/{number}", response_class=HTMLResponse)
async def help_request(request: Request, number: Number) -> Response:
    claims = session.claims_of(request, "help", "get_request")
    try:
        ticket, seen_as = await run_in_threadpool(visible, services_of(request), number, claims)
    except ProblemError as error:
        return render(
            request,
            "error.html",
            {"message": error.detail},
            claims=claims,
            status_code=error.status,
        )
    detail = presenters.request_detail(ticket, seen_as)
    return render(
        request,
        "help_request.html",
        {"request_": detail, "created": request.query_params.get("created") == "1"},
        claims=claims,
    )


@router.post("/help/requests/{number}/comments")
async def help_comment(request: Request, number: Number) -> Response:
    claims = session.claims_of(request, "help", "comment_request")
    form = await form_of(request)
    url = f"/help/requests/{number}"
    body = session.first(form, "body")
    if not body:
        return back(url, error="Write something first.")
    svc = services_of(request)
    ctx = context(request, claims)
    try:
        await run_in_threadpool(as_participant, svc, number, claims)
        command = requested.add_comment(ctx, number, body, public=True, channel=Channel.HELP_CENTER)
        await submit(svc, Submission(command, ctx))
    except (ProblemError, errors.DomainError) as error:
        return back(url, error=refusal(error))
    return back(url, notice="Sent.")


@router.post("/help/requests/{number}/follow-up")
async def help_follow_up(request: Request, number: Number) -> Response:
    claims = session.claims_of(request, "help", "follow_up_request")
    form = await form_of(request)
    svc = services_of(request)
    ctx = context(request, claims)
    try:
        await run_in_threadpool(as_participant, svc, number, claims)
        command = requested.create_follow_up(
            ctx, number, session.first(form, "body"), Channel.HELP_CENTER
        )
        ticket = (await submit(svc, Submission(command, ctx))).unwrap()
    except (ProblemError, errors.DomainError) as error:
        return back(f"/help/requests/{number}", error=refusal(error))
    return back(f"/help/requests/{ticket.number}", created="1")
