"""Who may call an OpenAPI operation in tests that walk every route (from the role table,
so a new route needs no test edit), and its path with the parameters filled in."""

from __future__ import annotations

from services.ticket_service.adapters.http.permissions import ROLE_TABLE

PREFERRED_ROLES = ("agent", "admin", "integration", "requester")
SOME_ORGANIZATION = "00000000-0000-4000-8000-000000000000"


def allowed_role(operation_id: str) -> str:
    """A role the role table lets call ``operation_id`` (an agent where one may)."""
    allowed = {role.value for role in ROLE_TABLE[operation_id]}
    return next(role for role in PREFERRED_ROLES if role in allowed)


def filled_path(template: str, number: str = "1") -> str:
    return template.replace("{number}", number).replace("{organization_id}", SOME_ORGANIZATION)
