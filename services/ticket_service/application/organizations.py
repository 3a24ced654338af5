"""Organization commands (admins and owners): each saves the organization's events and the
directory's new index in one transaction. Two writers changing organizations at once
conflict on the directory's version; the loser re-reads it and tries again, so claims
stay unique across processes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.application.unit_of_work import Duplicate, UnitOfWork
from services.ticket_service.domain import errors
from services.ticket_service.domain.organization import Organization
from services.ticket_service.domain.receipt import Receipt

MAX_CONFLICT_RETRIES = 5
T = TypeVar("T")


def create_organization(
    app: TicketApplication,
    ctx: RequestContext,
    *,
    name: str,
    members: Sequence[str] = (),
    domains: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Organization:
    """``idempotency_key``: a retry with the same key answers with the organization the
    first attempt made (its receipt is saved with it)."""
    key = f"organization:{idempotency_key}" if idempotency_key else None

    def op(uow: UnitOfWork) -> Organization:
        if key and (receipt := app.receipt(key)) is not None:
            raise Duplicate(receipt)
        directory = app.organizations.for_change()
        organization = Organization.create(
            name=name,
            members=members,
            domains=domains,
            actor=ctx.actor_dict,
            at=ctx.at,
            meta=ctx.meta,
        )
        directory.record(organization)
        uow.stage(organization, directory)
        if key:
            uow.stage(
                Receipt.record(
                    key=key,
                    outcome="accepted",
                    ticket_id=organization.id,
                    ticket_number=None,
                    at=ctx.at,
                    meta=ctx.meta,
                    command_type="CreateOrganization",
                    error=None,
                    reason=None,
                )
            )
        return organization

    try:
        return _run(app, op)
    except Duplicate as duplicate:
        assert duplicate.receipt.ticket_id is not None
        return get_organization(app, duplicate.receipt.ticket_id)


def change_organization(
    app: TicketApplication,
    organization_id: UUID,
    ctx: RequestContext,
    *,
    name: str | None = None,
    members: Sequence[str] | None = None,
    domains: Sequence[str] | None = None,
) -> Organization:
    def op(uow: UnitOfWork) -> Organization:
        organization = get_organization(app, organization_id)
        changed = organization.change(
            name=name,
            members=members,
            domains=domains,
            actor=ctx.actor_dict,
            at=ctx.at,
            meta=ctx.meta,
        )
        if changed:
            directory = app.organizations.for_change()
            directory.record(organization)
            uow.stage(organization, directory)
        return organization

    return _run(app, op)


def delete_organization(app: TicketApplication, organization_id: UUID, ctx: RequestContext) -> None:
    def op(uow: UnitOfWork) -> None:
        organization = get_organization(app, organization_id)
        organization.delete(actor=ctx.actor_dict, at=ctx.at, meta=ctx.meta)
        directory = app.organizations.for_change()
        directory.remove(str(organization.id))
        uow.stage(organization, directory)

    _run(app, op)


def get_organization(app: TicketApplication, organization_id: UUID) -> Organization:
    """A live organization; a deleted or unknown one is not found."""
    try:
        organization: Aggregate = app.repository.get(organization_id)
    except AggregateNotFoundError:
        organization = None  # type: ignore[assignment]
    if not isinstance(organization, Organization) or organization.deleted:
        raise errors.OrganizationNotFound(f"No organization {organization_id}.")
    return organization


def list_organizations(app: TicketApplication) -> list[dict[str, Any]]:
    """Every live organization as the directory lists it, by name then id."""
    directory = app.organizations.current()
    entries = list(directory.entries.values()) if directory is not None else []
    return sorted(entries, key=lambda e: (e["name"].lower(), e["id"]))


def _run(app: TicketApplication, op: Callable[[UnitOfWork], T]) -> T:
    for _ in range(MAX_CONFLICT_RETRIES):
        try:
            return app.transaction([op])[0]
        except errors.ConcurrencyConflict:
            continue  # another writer changed the directory (or the organization) first
    raise errors.ConcurrencyConflict("Organizations kept changing concurrently; retry.")
