"""Organizations API: ``/api/v1/organizations`` (read: internal users; create, change,
delete: admins and owners). Each change is an event on the organization's stream."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response

from services.ticket_service.adapters.http import schemas
from services.ticket_service.adapters.http.deps import (
    AuthorizedClaims,
    call,
    context,
    services_of,
)
from services.ticket_service.adapters.http.json_body import JSONRoute
from services.ticket_service.adapters.http.problems import documented
from services.ticket_service.adapters.http.routes_tickets import IdempotencyKey, scoped_key
from services.ticket_service.application import organizations
from services.ticket_service.domain.organization import Organization

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"], route_class=JSONRoute)

OrganizationId = Annotated[UUID, Path(description="The organization's id.")]


def location(organization_id: UUID | str) -> str:
    return f"/api/v1/organizations/{organization_id}"


def present(organization: Organization | dict[str, Any]) -> schemas.Organization:
    entry = organization.entry() if isinstance(organization, Organization) else organization
    return schemas.Organization.model_validate(entry)


@router.post(
    "",
    name="create_organization",
    status_code=201,
    response_model=schemas.Organization,
    responses=documented(401, 403, 409, 422),
)
async def create_organization(
    body: schemas.OrganizationIn,
    request: Request,
    response: Response,
    claims: AuthorizedClaims,
    idempotency_key: IdempotencyKey = None,
) -> schemas.Organization:
    """A new organization; 409 when a member or a domain belongs to another organization,
    422 for a free-mail domain. Tickets created from now on get it (201 + ``Location``).
    A retry with the same ``Idempotency-Key`` answers with the first attempt's organization."""
    svc = services_of(request)
    key = scoped_key(claims, idempotency_key)
    organization = await call(
        lambda: organizations.create_organization(
            svc.tickets,
            context(request, claims),
            name=body.name,
            members=body.members,
            domains=body.domains,
            idempotency_key=key,
        )
    )
    response.headers["Location"] = location(organization.id)
    return present(organization)


@router.get(
    "",
    name="list_organizations",
    response_model=schemas.OrganizationList,
    responses=documented(401, 403),
)
async def list_organizations(
    request: Request, claims: AuthorizedClaims
) -> schemas.OrganizationList:
    """Every organization, by name."""
    svc = services_of(request)
    entries = await call(organizations.list_organizations, svc.tickets)
    return schemas.OrganizationList(organizations=[present(e) for e in entries])


@router.get(
    "/{organization_id}",
    name="get_organization",
    response_model=schemas.Organization,
    responses=documented(401, 403, 404, 422),
)
async def get_organization(
    organization_id: OrganizationId, request: Request, claims: AuthorizedClaims
) -> schemas.Organization:
    svc = services_of(request)
    return present(await call(organizations.get_organization, svc.tickets, organization_id))


@router.patch(
    "/{organization_id}",
    name="update_organization",
    response_model=schemas.Organization,
    responses=documented(401, 403, 404, 409, 422),
)
async def update_organization(
    organization_id: OrganizationId,
    body: schemas.OrganizationPatch,
    request: Request,
    claims: AuthorizedClaims,
) -> schemas.Organization:
    """Replace the name, the members and/or the domains. Existing tickets keep their
    organization; the change applies to tickets created after it."""
    svc = services_of(request)
    organization = await call(
        lambda: organizations.change_organization(
            svc.tickets,
            organization_id,
            context(request, claims),
            name=body.name,
            members=body.members,
            domains=body.domains,
        )
    )
    return present(organization)


@router.delete(
    "/{organization_id}",
    name="delete_organization",
    status_code=204,
    responses=documented(401, 403, 404, 422),
)
async def delete_organization(
    organization_id: OrganizationId, request: Request, claims: AuthorizedClaims
) -> Response:
    """Delete it: no new ticket gets it, and no org-wide viewer sees its tickets any more
    (they stay in the history with its id)."""
    svc = services_of(request)
    await call(
        organizations.delete_organization, svc.tickets, organization_id, context(request, claims)
    )
    return Response(status_code=204)
