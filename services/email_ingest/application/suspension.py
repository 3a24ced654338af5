"""Admin actions on the suspended queue (CLI and admin API share these).

*Release* hands the mail to the ingest once, as if authenticated, then deletes the entry
with an audit record; a second release finds the audit record and does nothing (and were
two releases to race, the Message-ID dedupe and the command id make the effect once).
*Reject* deletes the entry with an audit record; nothing reaches a ticket.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from services.email_ingest.application.ingest import IngestOutcome, IngestService, Kind
from services.email_ingest.application.ports import (
    AuditRecord,
    SuspendedNotFound,
    SuspendedQueue,
)

log = logging.getLogger("helpdesk.email_ingest.suspended")

RELEASED = "released"
REJECTED = "rejected"


class AlreadyHandled(Exception):
    """The entry was released or rejected before."""

    def __init__(self, record: AuditRecord) -> None:
        super().__init__(f"{record.id} was {record.action} by {record.by} at {record.at}")
        self.record = record


@dataclass(frozen=True)
class Released:
    outcome: IngestOutcome
    audit: AuditRecord | None
    """None when the mail stayed suspended (e.g. still no single sender)."""

    @property
    def still_suspended(self) -> bool:
        return self.audit is None


def _missing(queue: SuspendedQueue, id: str) -> Exception:
    done = queue.audit(id)
    return AlreadyHandled(done[-1]) if done else SuspendedNotFound(id)


async def release(
    service: IngestService,
    queue: SuspendedQueue,
    id: str,
    *,
    by: str,
    count: Callable[[str], None] = lambda action: None,
) -> Released:
    """Raises :class:`AlreadyHandled`, :class:`SuspendedNotFound`, or ``PublishFailed``
    (the entry stays; release again later)."""
    try:
        entry = queue.get(id)
        raw = queue.raw(id)
    except SuspendedNotFound:
        raise _missing(queue, id) from None
    outcome = await service.ingest(
        raw, mail_from=entry.mail_from, recipients=entry.recipients, released_by=by
    )
    if outcome.kind == Kind.SUSPENDED:
        log.warning("suspended mail %s released by %s stays suspended: %s", id, by, outcome)
        return Released(outcome, None)
    try:
        record = queue.remove(id, action=RELEASED, by=by, outcome=outcome.kind.value)
    except SuspendedNotFound:  # a concurrent release removed it first
        raise _missing(queue, id) from None
    count(RELEASED)
    log.info(
        "suspended mail %s released by %s: %s ticket=%s",
        id,
        by,
        outcome.kind.value,
        outcome.ticket_number,
    )
    return Released(outcome, record)


def reject(
    queue: SuspendedQueue,
    id: str,
    *,
    by: str,
    count: Callable[[str], None] = lambda action: None,
) -> AuditRecord:
    try:
        record = queue.remove(id, action=REJECTED, by=by, outcome="deleted")
    except SuspendedNotFound:
        raise _missing(queue, id) from None
    count(REJECTED)
    log.info("suspended mail %s rejected by %s", id, by)
    return record
