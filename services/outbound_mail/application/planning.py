"""Ticket events in, intents in the sent log out.

For each event (deduplicated by ``event_id``): fold it into the ticket's projection, plan its
notifications (``domain/notifications.py``) against the suppression list and the enabled
kinds, apply the per-recipient rate limit, render each mail once, and record the new state,
the event as processed and the intents in one transaction. Sending is the delivery loop's
business (``application/delivery.py``): the consumer never waits on the relay, and an
intent recorded is an intent that will be sent, also after a crash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.outbound_mail.application.ports import (
    Intent,
    NotificationStore,
    Planned,
    Renderer,
    Suppression,
    recipients_of,
)
from services.outbound_mail.domain.notifications import (
    Kind,
    RateLimit,
    TicketState,
    fold,
    plan,
)

log = logging.getLogger("helpdesk.outbound_mail")

TICKET_EVENTS = frozenset(
    {"TicketCreated", "FollowUpCreated", "TicketUpdated", "CommentAdded", "StatusChanged"}
)
"""The events that change the projection or cause a mail; the rest are skipped."""


@dataclass
class PlanningPolicy:
    support: str
    sender: str
    enabled: Collection[Kind] = tuple(Kind)
    max_event_age: float = 86400.0
    """Seconds: an older event (a replayed history) updates the projection only."""
    rate_limit: int = 20
    rate_window: float = 3600.0


@dataclass
class Planner:
    store: NotificationStore
    suppression: Suppression
    renderer: Renderer
    policy: PlanningPolicy
    on_recorded: Callable[[], None] = lambda: None
    """Called after intents were recorded (wakes the delivery loop)."""
    count: Callable[[str], None] = lambda outcome: None
    clock: Callable[[], float] = time.time
    rate: RateLimit = field(init=False)

    def __post_init__(self) -> None:
        self.rate = RateLimit(self.policy.rate_limit, self.policy.rate_window)
        for recipient, at in self.store.recent_sends(self.clock() - self.policy.rate_window):
            self.rate.allow(recipient, at)

    def handle(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Plan each event and record them all in one transaction; returns the number of
        intents recorded. Events of one ticket in the batch see each other's state."""
        batch = _Batch(self.store)
        for event in events:
            self._plan_one(event, batch)
        if batch.planned:
            self.store.record(batch.planned)
        recorded = sum(len(p.intents) for p in batch.planned)
        if recorded:
            self.on_recorded()
        return recorded

    def _plan_one(self, event: Mapping[str, Any], batch: _Batch) -> None:
        if event.get("event_type") not in TICKET_EVENTS or not event.get("ticket_id"):
            return
        event_id = str(event.get("event_id") or "")
        if not event_id or batch.processed(event_id):
            return
        ticket_id = str(event["ticket_id"])
        before = batch.state(ticket_id)
        now = self.clock()
        if self._too_old(event, now):
            batch.add(Planned(ticket_id, fold(before, event), event_id))
            return
        suppressed = self.suppression.among(recipients_of(fold(before, event)))
        state, notifications = plan(
            before,
            event,
            support=self.policy.support,
            suppressed=suppressed,
            enabled=self.policy.enabled,
        )
        intents: list[Intent] = []
        limited: list[Intent] = []
        unrenderable: list[tuple[Intent, str]] = []
        for notification in notifications:
            intent = Intent(
                event_id=notification.event_id,
                recipient=notification.recipient,
                message_id=notification.message_id,
                ticket_number=notification.ticket_number,
                kind=notification.kind.value,
                raw=b"",
                created_at=now,
            )
            try:
                raw = self.renderer.render(notification, self.policy.sender)
            except Exception as error:  # a broken template: this mail fails, not the batch
                reason = f"template: {type(error).__name__}: {error}"
                unrenderable.append((intent, reason))
                self.count("failed")
                log.error(
                    "notification not rendered", extra={"event_id": event_id, "reason": reason}
                )
                continue
            intent = replace(intent, raw=raw)
            if self.rate.allow(notification.recipient, now):
                intents.append(intent)
            else:
                limited.append(intent)
                self.count("rate_limited")
                log.warning(
                    "notification rate-limited",
                    extra={"recipient": notification.recipient, "event_id": event_id},
                )
        if suppressed:
            self.count("suppressed")
        batch.add(Planned(ticket_id, state, event_id, intents, limited, unrenderable))

    def _too_old(self, event: Mapping[str, Any], now: float) -> bool:
        occurred = event.get("occurred_at")
        if not isinstance(occurred, str):
            return False
        try:
            at = datetime.fromisoformat(occurred).timestamp()
        except ValueError:
            return False
        return now - at > self.policy.max_event_age


@dataclass
class _Batch:
    """The events of one ``handle`` call: state and dedupe read through to the store, and
    see what earlier events of the batch planned."""

    store: NotificationStore
    planned: list[Planned] = field(default_factory=list)
    states: dict[str, TicketState | None] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def state(self, ticket_id: str) -> TicketState | None:
        if ticket_id not in self.states:
            self.states[ticket_id] = self.store.state(ticket_id)
        return self.states[ticket_id]

    def processed(self, event_id: str) -> bool:
        return event_id in self.seen or self.store.processed(event_id)

    def add(self, planned: Planned) -> None:
        self.planned.append(planned)
        self.seen.add(planned.event_id)
        if planned.state is not None:
            self.states[planned.ticket_id] = planned.state
