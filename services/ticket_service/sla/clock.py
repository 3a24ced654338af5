"""One ticket's SLA clocks, advanced fact by fact, and the row they give at an instant.

Rules (see docs/sla.md):
- first reply: creation → the first public comment by an internal user. A solve or close
  before any reply stops the clock without a reply (no figure; breached if the target had
  already passed by then).
- resolution: creation → the solve that stood until close (or the latest solve while the
  ticket is solved). A ticket closed by an integration from another status resolves at the
  close. A ticket active at the audit instant has a running clock.
- agent work: counted time in ``new`` and ``open`` only (``pending``, ``on_hold`` and
  ``solved`` spans are excluded).
- the row's priority is the ticket's priority when it closed (later edits by integrations
  are ignored: the record is locked) or at the audit instant; both targets follow it.
"""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

from services.ticket_service.sla.facts import Fact, Kind
from services.ticket_service.sla.policy import SlaPolicy

WORKING = frozenset({"new", "open"})
ACTIVE = frozenset({"new", "open", "pending", "on_hold", "solved"})
_STATUS, _REPLY, _PRIORITY, _CLOSED = Kind.STATUS, Kind.REPLY, Kind.PRIORITY, Kind.CLOSED


class TicketRow(NamedTuple):
    """One ticket's figures (durations in microseconds of counted time)."""

    number: int
    ticket_id: UUID
    follow_up_of: int | None
    priority: str
    status: str
    created_at: int
    first_reply: int | None
    first_reply_running: bool
    first_reply_breached: bool
    resolution: int
    resolution_running: bool
    resolution_breached: bool
    agent_work: int
    reopens: int


class TicketClock:
    __slots__ = (
        "closed_at",
        "closed_from",
        "created",
        "follow_up_of",
        "last_solve",
        "number",
        "priority",
        "reopens",
        "replied_at",
        "reply_stop",
        "since",
        "status",
        "ticket_id",
        "version",
        "work",
    )

    def __init__(self, created: Fact, policy: SlaPolicy) -> None:
        assert created.kind == Kind.CREATED and created.number is not None
        ticket_id = created.ticket_id
        self.ticket_id = ticket_id if isinstance(ticket_id, UUID) else UUID(ticket_id)
        self.number: int = created.number
        self.follow_up_of = created.follow_up_of
        self.priority = created.priority or "normal"
        self.version = created.version
        self.created = created.at
        self.status = "new"
        self.since = created.at
        self.work = 0
        self.reopens = 0
        self.replied_at: int | None = None
        self.reply_stop: int | None = None
        self.last_solve: int | None = None
        self.closed_at: int | None = None
        self.closed_from: str | None = None
        if created.status and created.status != "new":
            self._move(created.status, created.at, policy)

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def apply(self, fact: Fact, policy: SlaPolicy) -> None:
        """Advance by one fact of this ticket; older or repeated versions are ignored
        (Kafka delivers at least once), and nothing changes a closed ticket's figures."""
        version = fact[1]
        if version <= self.version or self.closed_at is not None:
            return
        self.version = version
        kind = fact[2]
        if kind == _STATUS:
            self._move(fact[4], fact[3], policy)  # type: ignore[arg-type]
        elif kind == _REPLY:
            if self.replied_at is None and self.reply_stop is None:
                self.replied_at = fact[3]
        elif kind == _PRIORITY:
            self.priority = fact[5]  # type: ignore[assignment]
        elif kind == _CLOSED:
            self._move("closed", fact[3], policy)

    def _move(self, new: str, at: int, policy: SlaPolicy) -> None:
        old = self.status
        if old == new:
            return
        if old in WORKING:
            self.work += policy.clock.elapsed(self.since, at)
        if new in ("solved", "closed") and self.replied_at is None and self.reply_stop is None:
            self.reply_stop = at
        if new == "solved":
            self.last_solve = at
        elif new == "closed":
            self.closed_at = at
            self.closed_from = old
        elif old == "solved":
            self.reopens += 1
        self.status = new
        self.since = at

    def row(self, as_of: int, policy: SlaPolicy) -> TicketRow:
        clock = policy.clock
        targets = policy.for_priority(self.priority)
        work = self.work
        if self.status in WORKING:
            work += clock.elapsed(self.since, as_of)

        first_reply: int | None
        if self.replied_at is not None:
            first_reply = clock.elapsed(self.created, self.replied_at)
            reply_running, reply_breached = False, first_reply > targets.first_reply
        elif self.reply_stop is not None:
            first_reply = None
            reply_running = False
            reply_breached = clock.elapsed(self.created, self.reply_stop) > targets.first_reply
        else:
            first_reply = clock.elapsed(self.created, as_of)
            reply_running, reply_breached = True, first_reply > targets.first_reply

        end: int | None = None
        if self.status == "solved" or (self.closed and self.closed_from == "solved"):
            end = self.last_solve
        elif self.closed:
            end = self.closed_at
        resolution = clock.elapsed(self.created, as_of if end is None else end)

        return TicketRow(
            number=self.number,
            ticket_id=self.ticket_id,
            follow_up_of=self.follow_up_of,
            priority=self.priority,
            status=self.status,
            created_at=self.created,
            first_reply=first_reply,
            first_reply_running=reply_running,
            first_reply_breached=reply_breached,
            resolution=resolution,
            resolution_running=end is None,
            resolution_breached=resolution > targets.resolution,
            agent_work=work,
            reopens=self.reopens,
        )
