"""Who may see a ticket in the help center, and how (design §4): its requester and CC'd
users as participants; with ``org_wide``, the rest of the requester's organization as
read-only history. A ticket's organization is its requester's email domain."""

from __future__ import annotations

from enum import StrEnum

from services.ticket_service.adapters.http.auth import Claims
from services.ticket_service.adapters.read_models.ticket_docs import organization_of_email


class Audience(StrEnum):
    PARTICIPANT = "participant"
    ORGANIZATION = "organization"
    NONE = "none"


def audience(claims: Claims, requester: str, cc: list[str]) -> Audience:
    email = (claims.email or "").lower()
    if email and (email == requester.lower() or email in (c.lower() for c in cc)):
        return Audience.PARTICIPANT
    if claims.org_wide and claims.org and claims.org.lower() == organization_of_email(requester):
        return Audience.ORGANIZATION
    return Audience.NONE
