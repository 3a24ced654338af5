"""Domain errors. Each has a stable ``code`` that the adapters map to HTTP statuses,
problem documents and ``CommandRejected`` events."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, *, hint: str | None = None, number: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.number = number
        """The ticket concerned, for the adapters' hints (endpoints are theirs to name)."""


class InvalidRequest(DomainError):
    """The request can never succeed as stated (422)."""

    code = "invalid_request"


class NotPermitted(DomainError):
    """The actor's role may never do this (403)."""

    code = "not_permitted"


class TicketNotFound(DomainError):
    code = "ticket_not_found"


class FreeMailDomain(InvalidRequest):
    """An organization tried to claim a free-mail domain (422)."""

    code = "free_mail_domain"


class ClaimConflict(DomainError):
    """A member address or a domain already belongs to another organization (409)."""

    code = "claim_conflict"


class OrganizationNotFound(DomainError):
    code = "organization_not_found"


class TicketClosed(DomainError):
    """The ticket is closed; nothing but a follow-up can continue the conversation (409)."""

    code = "ticket_closed"


class InvalidTransition(DomainError):
    """The ticket's state forbids this change right now (409)."""

    code = "invalid_transition"


class NotClosed(DomainError):
    """A follow-up was asked of a ticket that is not closed (409)."""

    code = "not_closed"


class StaleClose(DomainError):
    """An automation close names a solve that no longer stands (a no-op for the closer)."""

    code = "stale_close"


class ConcurrencyConflict(DomainError):
    """Someone else changed the ticket first (412 with If-Match, else retry)."""

    code = "conflict"


class IdempotencyKeyReused(DomainError):
    """An idempotency key already stands for a different request (422)."""

    code = "idempotency_key_reused"


FOLLOW_UP_HINT = "Closed tickets are final: create a follow-up instead."
REPLY_HINT = "The ticket is not closed: reply on it instead."
