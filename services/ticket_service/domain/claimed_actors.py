"""Which actor a command from the commands topic may claim (docs/security.md).

Nothing on the topic authenticates its producer: a command's ``actor`` is what the producer
says it is. The service cannot tell an upstream system from the closer, so it enforces what
follows from the command itself: the automation (the system's own role) acts only in the
closer's command, a ``CloseTicket`` with ``closed_by: automation`` naming the solve it
closes, and that command is the automation's only; and a deployment may narrow the roles
the topic may claim at all (``HELPDESK_COMMAND_ROLES``). Who may publish is the broker's to
enforce (ACLs on ``helpdesk.ticket-commands``)."""

from __future__ import annotations

from contracts.common import Role
from services.ticket_service.domain import errors

TIMER_CLOSE_BY_AUTOMATION_ONLY = "Only the automation closes by timer."
AUTOMATION_IN_TIMER_CLOSE_ONLY = (
    "The automation acts only in the closer's CloseTicket (closed_by: automation); "
    "this command may not claim it."
)


def role_not_allowed(role: Role) -> str:
    return f"Commands on this topic may not claim the {role.value} role (HELPDESK_COMMAND_ROLES)."


def check_claimed_actor(
    role: Role, *, closes_by_timer: bool, allowed: frozenset[Role] | None = None
) -> None:
    """Raise :class:`~errors.NotPermitted` unless ``role`` may issue the command
    (``closes_by_timer``: it is a ``CloseTicket`` with ``closed_by: automation``;
    ``allowed``: the roles the deployment lets the topic claim, None for all)."""
    if allowed is not None and role not in allowed:
        raise errors.NotPermitted(role_not_allowed(role))
    if closes_by_timer and role != Role.AUTOMATION:
        raise errors.NotPermitted(TIMER_CLOSE_BY_AUTOMATION_ONLY)
    if role == Role.AUTOMATION and not closes_by_timer:
        raise errors.NotPermitted(
            AUTOMATION_IN_TIMER_CLOSE_ONLY,
            hint="Claim the role of the system that sends it, e.g. integration.",
        )
