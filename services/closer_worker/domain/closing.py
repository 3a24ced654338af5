"""A due timer becomes a ``CloseTicket`` command that names its solve.

The command id is derived from (ticket, solve), so a timer fired twice (a lease that
expired mid-publish, a rebuild racing a fire) yields the same command, which the ticket
service applies once. The ticket service also refuses a close whose solve no longer
stands, so a stale timer can never close a ticket early.

:func:`close_command` is the command, built and validated as the contract says. The
publisher does not build one per close: it serialises the timers through a template
derived from this function (:mod:`services.closer_worker.adapters.kafka_commands`), and
its tests check that the bytes are those of the validated command.
"""

from __future__ import annotations

from datetime import datetime
from hashlib import sha1
from uuid import UUID

from contracts.commands import CloseTicket, CloseTicketData
from contracts.common import Actor, Role
from services.closer_worker.domain.timers import Timer

NAMESPACE = UUID("2b0f8f43-57a5-4a8e-9d55-0c1e3f6d7a21")
AUTOMATION = Actor(role=Role.AUTOMATION)


def close_command_id(ticket_id: UUID, solve_id: int) -> UUID:
    """``uuid5(NAMESPACE, f"auto-close:{ticket_id}:{solve_id}")``."""
    return UUID(close_command_id_text(str(ticket_id), solve_id))


_NAME_PREFIX = NAMESPACE.bytes + b"auto-close:"
_VARIANT = {f"{n:x}": f"{0x8 | (n & 0x3):x}" for n in range(16)}


def close_command_id_text(ticket_id: str, solve_id: int) -> str:
    """:func:`close_command_id` as its canonical string, from the ticket id's canonical
    string (``str(UUID)``): the SHA-1 name-based UUID of RFC 4122 (what ``uuid.uuid5``
    computes), written out from the digest's hex without building ``UUID`` objects, which
    cost a close more than the hash itself."""
    digest = sha1(b"%s%s:%d" % (_NAME_PREFIX, ticket_id.encode(), solve_id)).hexdigest()
    # version 5 in the high nibble of time_hi; the RFC 4122 variant (0b10) in clock_seq_hi
    return (
        f"{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-"
        f"{_VARIANT[digest[16]]}{digest[17:20]}-{digest[20:32]}"
    )


def close_command(timer: Timer, issued_at: datetime) -> CloseTicket:
    command_id = close_command_id(timer.ticket_id, timer.solve_id)
    return CloseTicket(
        command_id=command_id,
        ticket_id=timer.ticket_id,
        issued_at=issued_at,
        correlation_id=str(command_id),
        actor=AUTOMATION,
        data=CloseTicketData(closed_by="automation", solve_id=timer.solve_id),
    )


def lateness_seconds(timer: Timer, closed_at: datetime) -> float:
    """How long after its due time a close was published (never negative)."""
    return max(0.0, (closed_at - timer.due_at).total_seconds())
