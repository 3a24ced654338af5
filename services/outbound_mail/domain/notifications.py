"""Who gets which notification, and the headers that make replies thread back.

Pure: a ticket's state is folded from its event envelopes (JSON dicts as on
``helpdesk.ticket-events``); :func:`plan` says which mails one event causes.

Rules (issue #17):
- kinds: ``acknowledgement`` (TicketCreated, any channel), ``public_comment`` (CommentAdded,
  public, by an agent-side role or an integration), ``solved`` (StatusChanged to solved),
  ``follow_up`` (FollowUpCreated: the new number and the original it continues);
- recipients: the requester and the CCs, never the actor who caused the event (except the
  requester of a receipt: the acknowledgement of the ticket they opened, the follow-up their
  reply made), never the support address (or a plus variant), never a suppressed address
  (one that sent auto-submitted or bulk mail);
- Message-ID: ``<ticket-<n>.<digest(event id, recipient)>@<support domain>>`` — the form the
  email ingest already maps back to ticket ``n`` — so a retried send carries the same id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

AGENT_SIDE_ROLES = frozenset({"agent", "supervisor", "admin", "owner", "integration"})
KEPT_MESSAGE_IDS = 20
"""Ids a ticket state keeps for ``References``: the first (the thread's root) and the latest."""


class Kind(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    PUBLIC_COMMENT = "public_comment"
    SOLVED = "solved"
    FOLLOW_UP = "follow_up"


RECEIPTS = frozenset({Kind.ACKNOWLEDGEMENT, Kind.FOLLOW_UP})
"""Kinds that answer the requester's own action: the requester gets them though they are
its actor (a CC who acted still does not)."""


@dataclass(frozen=True)
class TicketState:
    number: int
    subject: str
    requester: str
    cc: tuple[str, ...]
    message_ids: tuple[str, ...] = ()
    """Notification ids already planned for this ticket, oldest first (for References)."""


@dataclass(frozen=True)
class Notification:
    kind: Kind
    event_id: str
    ticket_number: int
    recipient: str
    message_id: str
    subject: str
    headers: Mapping[str, str] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    """Template variables (ticket number, comment text, original number, …)."""


def _local_and_domain(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().lower().rpartition("@")
    return local, domain


def is_support(address: str, support: str) -> bool:
    local, domain = _local_and_domain(address)
    s_local, s_domain = _local_and_domain(support)
    return domain == s_domain and (local == s_local or local.startswith(s_local + "+"))


def plus_address(support: str, number: int) -> str:
    local, domain = _local_and_domain(support)
    return f"{local}+{number}@{domain}"


def message_id(event_id: str, recipient: str, number: int, support: str) -> str:
    """Deterministic: the same (event, recipient) always gives the same id."""
    digest = hashlib.sha256(f"{event_id}\n{recipient.strip().lower()}".encode()).hexdigest()
    return f"<ticket-{number}.{digest[:32]}@{_local_and_domain(support)[1]}>"


def fold(state: TicketState | None, event: Mapping[str, Any]) -> TicketState | None:
    """The ticket state after ``event`` (None until its creation is seen)."""
    kind = event.get("event_type")
    data = event.get("data") or {}
    if kind in ("TicketCreated", "FollowUpCreated"):
        original = (data.get("original") or {}).get("message_id")
        return TicketState(
            number=int(data["number"]),
            subject=str(data.get("subject") or ""),
            requester=str(data["requester"]).lower(),
            cc=tuple(str(c).lower() for c in data.get("cc") or ()),
            message_ids=(str(original),) if original else (),
        )
    if state is None:
        return None
    if kind == "TicketUpdated":
        changes = data.get("changes") or {}
        if "requester" in changes:
            state = replace(state, requester=str(changes["requester"]).lower())
        if "cc" in changes:
            state = replace(state, cc=tuple(str(c).lower() for c in changes["cc"] or ()))
        if "subject" in changes:
            state = replace(state, subject=str(changes["subject"]))
    return state


def _kind_of(event: Mapping[str, Any]) -> tuple[Kind, str | None] | None:
    """The notification kind of an event and its actor's email, or None."""
    kind = event.get("event_type")
    data = event.get("data") or {}
    if kind == "TicketCreated":
        return Kind.ACKNOWLEDGEMENT, (data.get("created_by") or {}).get("email")
    if kind == "FollowUpCreated":
        return Kind.FOLLOW_UP, (data.get("created_by") or {}).get("email")
    if kind == "CommentAdded":
        author = data.get("author") or {}
        if not data.get("public") or author.get("role") not in AGENT_SIDE_ROLES:
            return None
        return Kind.PUBLIC_COMMENT, author.get("email")
    if kind == "StatusChanged" and data.get("to_status") == "solved":
        return Kind.SOLVED, (data.get("changed_by") or {}).get("email")
    return None


SUBJECTS = {
    Kind.ACKNOWLEDGEMENT: "[#{n}] We received your request: {subject}",
    Kind.PUBLIC_COMMENT: "[#{n}] New reply: {subject}",
    Kind.SOLVED: "[#{n}] Solved: {subject}",
    Kind.FOLLOW_UP: "[#{n}] {subject}",
}


def plan(
    state: TicketState | None,
    event: Mapping[str, Any],
    *,
    support: str,
    suppressed: Collection[str] = (),
    enabled: Collection[Kind] = tuple(Kind),
) -> tuple[TicketState | None, list[Notification]]:
    """Fold ``event`` into ``state`` and say which notifications it causes."""
    state = fold(state, event)
    found = _kind_of(event)
    if state is None or found is None or found[0] not in enabled:
        return state, []
    kind, actor = found
    actor = (actor or "").strip().lower()
    blocked = {a.strip().lower() for a in suppressed}
    recipients: list[str] = []
    for address in (state.requester, *state.cc):
        if (
            address
            and (address != actor or (kind in RECEIPTS and address == state.requester))
            and address not in blocked
            and not is_support(address, support)
            and address not in recipients
        ):
            recipients.append(address)
    data = event.get("data") or {}
    context: dict[str, Any] = {"number": state.number, "subject": state.subject, "kind": kind}
    if kind is Kind.PUBLIC_COMMENT:
        context["body"] = str(data.get("body") or "")
    if kind is Kind.FOLLOW_UP:
        context["original_number"] = (data.get("follow_up_of") or {}).get("number")
        context["by_requester"] = actor == state.requester
    subject = SUBJECTS[kind].format(n=state.number, subject=state.subject)
    event_id = str(event["event_id"])
    notifications: list[Notification] = []
    earlier = state.message_ids
    for recipient in recipients:
        mid = message_id(event_id, recipient, state.number, support)
        notifications.append(
            Notification(
                kind=kind,
                event_id=event_id,
                ticket_number=state.number,
                recipient=recipient,
                message_id=mid,
                subject=subject,
                headers=threading_headers(mid, earlier, support, state.number),
                context=context,
            )
        )
    kept = (*earlier, *(n.message_id for n in notifications))
    if len(kept) > KEPT_MESSAGE_IDS:
        kept = (kept[0], *kept[-(KEPT_MESSAGE_IDS - 1) :])
    return replace(state, message_ids=kept), notifications


def threading_headers(
    mid: str, earlier: tuple[str, ...], support: str, number: int
) -> dict[str, str]:
    headers = {
        "Message-ID": mid,
        "Reply-To": plus_address(support, number),
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    if earlier:
        headers["In-Reply-To"] = earlier[-1]
        headers["References"] = " ".join(earlier[-10:])
    return headers


class RateLimit:
    """At most ``limit`` mails per recipient per ``window`` seconds (loop defence).

    Pure: the caller passes the clock."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._sent: dict[str, list[float]] = {}

    def allow(self, recipient: str, now: float) -> bool:
        times = [t for t in self._sent.get(recipient, []) if now - t < self.window]
        if len(times) >= self.limit:
            self._sent[recipient] = times
            return False
        times.append(now)
        self._sent[recipient] = times
        return True
