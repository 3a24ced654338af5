"""Agent views (read models): All and Closed, filtered, sorted and cursor-paginated."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from contracts import limits
from contracts.common import Priority, Status
from services.ticket_service.adapters.http import presenters, schemas
from services.ticket_service.adapters.http.deps import AuthorizedClaims, services_of
from services.ticket_service.adapters.http.json_body import JSONRoute
from services.ticket_service.adapters.http.numerals import ascii_number
from services.ticket_service.adapters.http.problems import ProblemError, documented
from services.ticket_service.adapters.read_models.projector import MAX_PAGE, Page
from services.ticket_service.adapters.read_models.view_filters import Filters, InvalidCursor, Sort

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


StatusParam = Annotated[Status | None, Query(description="Only tickets in this status.")]
PriorityParam = Annotated[Priority | None, Query(description="Only tickets of this priority.")]
AssigneeParam = Annotated[
    str | None, Query(max_length=limits.NAME_MAX, description="Only tickets assigned to this.")
]
RequesterParam = Annotated[
    str | None,
    Query(max_length=limits.EMAIL_MAX, description="Only this requester's (case-insensitive)."),
]
TagParam = Annotated[
    str | None, Query(max_length=limits.TAG_MAX, description="Only tickets with this tag.")
]
TextParam = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Words of the subject: each must begin a word of it (case-insensitive).",
    ),
]
SortParam = Annotated[
    Sort,
    Query(
        description="-number: newest first (default); number: oldest first; -updated: "
        "recently updated first; updated: least recently updated first."
    ),
]


def read_view(
    request: Request,
    *,
    closed: bool,
    filters: Filters,
    sort: Sort,
    cursor: str | None,
    limit: int,
) -> Page:
    svc = services_of(request)
    svc.views.catch_up()
    try:
        return svc.views.view(closed=closed, filters=filters, sort=sort, cursor=cursor, limit=limit)
    except InvalidCursor:
        raise ProblemError(
            422, "invalid_cursor", "The cursor is not one this API returned."
        ) from None


@router.get(
    "/all", name="view_all", response_model=schemas.ViewPage, responses=documented(401, 403, 422)
)
async def view_all(
    claims: AuthorizedClaims,
    request: Request,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
    status: StatusParam = None,
    priority: PriorityParam = None,
    assignee: AssigneeParam = None,
    requester: RequesterParam = None,
    tag: TagParam = None,
    q: TextParam = None,
    sort: SortParam = Sort.NEWEST,
) -> schemas.ViewPage:
    """Every ticket that is not closed (newest first unless ``sort`` says otherwise),
    filtered by the parameters given; ``next_cursor`` belongs to the same filters and
    order."""
    filters = Filters(status, priority, assignee, requester, tag, q)
    page = await run_in_threadpool(
        read_view, request, closed=False, filters=filters, sort=sort, cursor=cursor, limit=limit
    )
    return page_out(page)


@router.get(
    "/closed",
    name="view_closed",
    response_model=schemas.ViewPage,
    responses=documented(401, 403, 422),
)
async def view_closed(
    claims: AuthorizedClaims,
    request: Request,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
    priority: PriorityParam = None,
    assignee: AssigneeParam = None,
    requester: RequesterParam = None,
    tag: TagParam = None,
    q: TextParam = None,
) -> schemas.ViewPage:
    """Closed tickets only, most recently closed first, filtered by the parameters given;
    rows are not bulk-selectable."""
    filters = Filters(None, priority, assignee, requester, tag, q)
    page = await run_in_threadpool(
        read_view,
        request,
        closed=True,
        filters=filters,
        sort=Sort.NEWEST,
        cursor=cursor,
        limit=limit,
    )
    return page_out(page)
