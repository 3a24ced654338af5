"""Admin API of the dead letters kept in the ticket store (admins and owners): list, read,
retry (republish the original command to the commands topic), delete (logged)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from services.operator_errors import MissingSetting
from services.ticket_service.adapters.dead_letter_store import DeadLetterStore
from services.ticket_service.adapters.http import schemas
from services.ticket_service.adapters.http.deps import AuthorizedClaims, services_of
from services.ticket_service.adapters.http.json_body import JSONRoute
from services.ticket_service.adapters.http.problems import ProblemError, documented
from services.ticket_service.adapters.kafka.dead_letter_retry import (
    DeadLetterNotFound,
    log_purge,
    retry_dead_letter,
)

router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"], route_class=JSONRoute)


def _store(request: Request) -> DeadLetterStore:
    return services_of(request).dead_letters


def _not_found(dead_letter_id: UUID) -> ProblemError:
    return ProblemError(404, "dead_letter_not_found", f"No dead letter {dead_letter_id}.")


@router.get(
    "",
    name="list_dead_letters",
    response_model=schemas.DeadLetterPage,
    responses=documented(401, 403, 422),
)
async def list_dead_letters(
    request: Request,
    claims: AuthorizedClaims,
    status: Literal["pending", "retried"] | None = Query(None, description="Only these."),
    limit: int = Query(100, ge=1, le=1000),
) -> schemas.DeadLetterPage:
    """Dead letters kept in the store, oldest first."""
    kept = await run_in_threadpool(_store(request).oldest, status=status, limit=limit)
    return schemas.DeadLetterPage(dead_letters=[schemas.DeadLetterOut.of(k) for k in kept])


@router.get(
    "/{dead_letter_id}",
    name="get_dead_letter",
    response_model=schemas.DeadLetterOut,
    responses=documented(401, 403, 404, 422),
)
async def get_dead_letter(
    dead_letter_id: UUID, request: Request, claims: AuthorizedClaims
) -> schemas.DeadLetterOut:
    kept = await run_in_threadpool(_store(request).get, dead_letter_id)
    if kept is None:
        raise _not_found(dead_letter_id)
    return schemas.DeadLetterOut.of(kept)


@router.post(
    "/{dead_letter_id}/retry",
    name="retry_dead_letter",
    response_model=schemas.DeadLetterOut,
    responses=documented(401, 403, 404, 422, 503),
)
async def retry(
    dead_letter_id: UUID, request: Request, claims: AuthorizedClaims
) -> schemas.DeadLetterOut:
    """Republish the original command (key, value, headers) to the commands topic and
    mark the dead letter retried. A command that fails again becomes a new dead letter."""
    svc = services_of(request)
    try:
        kept = await retry_dead_letter(
            svc.dead_letters, svc.settings, dead_letter_id, actor=f"{claims.role}:{claims.sub}"
        )
    except DeadLetterNotFound:
        raise _not_found(dead_letter_id) from None
    except MissingSetting:
        raise ProblemError(
            503, "broker_not_configured", "HELPDESK_KAFKA_BOOTSTRAP is not set."
        ) from None
    except Exception as error:
        raise ProblemError(
            503, "broker_unavailable", f"The command could not be republished: {error}."
        ) from None
    return schemas.DeadLetterOut.of(kept)


@router.delete(
    "/{dead_letter_id}",
    name="purge_dead_letter",
    status_code=204,
    responses=documented(401, 403, 404, 422),
)
async def purge(dead_letter_id: UUID, request: Request, claims: AuthorizedClaims) -> Response:
    """Delete the dead letter (the purge is logged with the caller)."""
    purged = await run_in_threadpool(_store(request).purge, [dead_letter_id])
    if not purged:
        raise _not_found(dead_letter_id)
    log_purge(purged, actor=f"{claims.role}:{claims.sub}")
    return Response(status_code=204)
