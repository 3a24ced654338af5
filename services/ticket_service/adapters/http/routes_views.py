"""Agent views (read models): All and Closed, cursor-paginated."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from services.ticket_service.adapters.http import presenters, schemas
from services.ticket_service.adapters.http.deps import AuthorizedClaims, services_of
from services.ticket_service.adapters.http.json_body import JSONRoute
from services.ticket_service.adapters.http.numerals import ascii_number
from services.ticket_service.adapters.http.problems import ProblemError, documented
from services.ticket_service.adapters.read_models.projector import MAX_PAGE, Page

router = APIRouter(prefix="/api/v1/views", tags=["views"], route_class=JSONRoute)

CursorParam = Annotated[
    str | None, Query(max_length=40, description="next_cursor of the previous page.")
]
LimitParam = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def parse_cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    position = ascii_number(cursor)
    if position is None:
        raise ProblemError(422, "invalid_cursor", "The cursor is not one this API returned.")
    return position


def page_out(page: Page) -> schemas.ViewPage:
    return schemas.ViewPage(
        tickets=[presenters.view_row(d) for d in page.docs], next_cursor=page.next_cursor
    )


@router.get(
    "/all", name="view_all", response_model=schemas.ViewPage, responses=documented(401, 403, 422)
)
async def view_all(
    claims: AuthorizedClaims, request: Request, cursor: CursorParam = None, limit: LimitParam = 50
) -> schemas.ViewPage:
    """Every ticket that is not closed, newest first."""
    svc = services_of(request)
    after = parse_cursor(cursor)

    def read() -> Page:
        svc.views.catch_up()
        return svc.views.all_open(after, limit)

    return page_out(await run_in_threadpool(read))


@router.get(
    "/closed",
    name="view_closed",
    response_model=schemas.ViewPage,
    responses=documented(401, 403, 422),
)
async def view_closed(
    claims: AuthorizedClaims, request: Request, cursor: CursorParam = None, limit: LimitParam = 50
) -> schemas.ViewPage:
    """Closed tickets only, most recently closed first; rows are not bulk-selectable."""
    svc = services_of(request)
    after = parse_cursor(cursor)

    def read() -> Page:
        svc.views.catch_up()
        return svc.views.closed(after, limit)

    return page_out(await run_in_threadpool(read))
