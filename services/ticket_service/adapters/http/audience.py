"""Who may see a ticket in the help center, and how (design §4): its requester and CC'd
users as participants; with ``org_wide``, the rest of its organization as read-only history.

A ticket's organization is the one it got when it was created (an organization record,
never an email domain); an org-wide token's ``org`` claim names the organization's id. A
ticket in no organization, or in one deleted since, is seen by no org-wide viewer."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from services.ticket_service.adapters.http.auth import Claims
from services.ticket_service.application.organization_index import OrganizationIndex
from services.ticket_service.domain.participants import is_participant


class Audience(StrEnum):
    PARTICIPANT = "participant"
    ORGANIZATION = "organization"
    NONE = "none"


def viewer_organization(claims: Claims, organizations: OrganizationIndex) -> str | None:
    """The organization whose tickets the caller sees as history: the ``org`` claim of an
    ``org_wide`` token, if it names an organization that exists now."""
    if not (claims.org_wide and claims.org):
        return None
    try:
        organization_id = str(UUID(claims.org))
    except ValueError:
        return None  # e.g. a domain, as tokens named organizations before they were records
    return organization_id if organizations.exists(organization_id) else None


def audience(
    claims: Claims,
    requester: str,
    cc: list[str],
    organization_id: str | None,
    viewer_org: str | None,
) -> Audience:
    """``organization_id``: the ticket's; ``viewer_org``: :func:`viewer_organization`."""
    if is_participant(claims.email, requester, cc):
        return Audience.PARTICIPANT
    if viewer_org is not None and organization_id is not None and viewer_org == organization_id:
        return Audience.ORGANIZATION
    return Audience.NONE
