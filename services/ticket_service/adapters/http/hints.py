"""What a refused caller should do instead, with the endpoint of *their* API and the
ticket's real number (the domain says what is wrong; only the HTTP adapter knows paths).

- a closed ticket (409 ``ticket_closed``): create a follow-up — the agent/integration
  endpoint, or the help center's for a requester;
- a follow-up of a ticket that is not closed (409 ``not_closed``): reply on it — the
  comments endpoint of the same API.
"""

from __future__ import annotations

from services.ticket_service.domain import errors

HELP_CENTER_PREFIX = "/helpcenter/"


def agent_follow_up_url(number: int) -> str:
    return f"/api/v1/tickets/{number}/follow-ups"


def help_center_follow_up_url(number: int) -> str:
    return f"/helpcenter/v1/requests/{number}/follow-ups"


def _comments_url(number: int, help_center: bool) -> str:
    if help_center:
        return f"/helpcenter/v1/requests/{number}/comments"
    return f"/api/v1/tickets/{number}/comments"


def hint_for(error: errors.DomainError, *, path: str) -> str | None:
    """The hint of the problem document answering ``error`` on a request to ``path``."""
    help_center = path.startswith(HELP_CENTER_PREFIX)
    number = error.number
    if number is None:
        return error.hint
    if isinstance(error, errors.TicketClosed):
        url = help_center_follow_up_url(number) if help_center else agent_follow_up_url(number)
        return f"Closed tickets are final. Create a follow-up instead: POST {url}"
    if isinstance(error, errors.NotClosed):
        return f"Reply on the ticket instead: POST {_comments_url(number, help_center)}"
    return error.hint
