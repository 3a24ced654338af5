"""Settings API: the auto-close period (GET: internal users; PUT: admins and owners)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request

from services.ticket_service.adapters.http import schemas
from services.ticket_service.adapters.http.deps import (
    AuthorizedClaims,
    call,
    context,
    services_of,
    submit,
)
from services.ticket_service.adapters.http.json_body import JSONRoute
from services.ticket_service.adapters.http.problems import documented
from services.ticket_service.application import requested
from services.ticket_service.application.messagebus import Submission

router = APIRouter(prefix="/api/v1/settings", tags=["settings"], route_class=JSONRoute)


def period(after: timedelta) -> schemas.AutoCloseOut:
    seconds = int(after.total_seconds())
    days = seconds // 86400 if seconds % 86400 == 0 else seconds / 86400
    return schemas.AutoCloseOut(after_days=days, after_seconds=seconds)


@router.get(
    "/auto-close",
    name="get_auto_close",
    response_model=schemas.AutoCloseOut,
    responses=documented(401, 403),
)
async def get_auto_close(claims: AuthorizedClaims, request: Request) -> schemas.AutoCloseOut:
    svc = services_of(request)
    return period(await call(svc.tickets.auto_close_after))


@router.put(
    "/auto-close",
    name="put_auto_close",
    response_model=schemas.AutoCloseOut,
    responses=documented(401, 403, 422),
)
async def put_auto_close(
    body: schemas.AutoCloseIn, request: Request, claims: AuthorizedClaims
) -> schemas.AutoCloseOut:
    """Change the period (1 to 28 days); applies to tickets solved after the change."""
    svc = services_of(request)
    ctx = context(request, claims)
    command = requested.change_auto_close_policy(ctx, body.after_days)
    outcome = await submit(svc, Submission(command, ctx))
    assert outcome.policy is not None
    return period(outcome.policy.after)
