"""Events the broker (or the producer) refused to take: parked, so the relay goes on.

A record too large for the producer's batch limit, or one the broker refuses as too large,
can never be published as it is; retrying it forever would stall every event behind it.
The relay parks it instead: one ``ParkedEvents`` aggregate per relay name, in the event
store itself (durable, in the same database as the relay's position), records which event
was refused, how large it was and why. ``helpdesk relay parked`` lists them; the metric
``helpdesk_relay_parked_events_total`` counts them. Parking the same event twice (a relay
that crashed before recording its position) records it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from services.ticket_service.adapters.kafka.event_records import EventRecord

MAX_SAVE_RETRIES = 5


@dataclass(frozen=True)
class ParkedEvent:
    event_id: str
    event_type: str
    ticket_id: str
    version: int
    size: int
    """Bytes of the record (key, value and headers)."""
    error: str
    parked_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "ticket_id": self.ticket_id,
            "version": self.version,
            "size": self.size,
            "error": self.error,
            "parked_at": self.parked_at.isoformat(),
        }


class ParkedEvents(Aggregate):
    """The events one relay could not publish. Internal: never on the events topic."""

    @staticmethod
    def create_id(relay_name: str) -> UUID:
        return parked_id_for(relay_name)

    @event("Started")
    def __init__(self, relay_name: str) -> None:
        self.relay_name = relay_name
        self.entries: list[dict[str, Any]] = []

    def holds(self, event_id: str) -> bool:
        return any(entry["event_id"] == event_id for entry in self.entries)

    @event("Parked")
    def park(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)


def parked_id_for(relay_name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:helpdesk:relay-parked:{relay_name}")


def record_size(record: EventRecord) -> int:
    return len(record.key) + len(record.value) + sum(len(k) + len(v) for k, v in record.headers)


def describe(record: EventRecord, error: str, at: datetime) -> ParkedEvent:
    headers = {k: v.decode(errors="replace") for k, v in record.headers}
    return ParkedEvent(
        event_id=headers.get("event_id", ""),
        event_type=headers.get("event_type", ""),
        ticket_id=headers.get("ticket_id", record.key.decode(errors="replace")),
        version=int(headers.get("version", "0") or 0),
        size=record_size(record),
        error=error,
        parked_at=at,
    )


class ParkedStore:
    """Blocking (call from a worker thread)."""

    def __init__(self, app: Application, relay_name: str) -> None:
        self.app = app
        self.relay_name = relay_name
        self.id = parked_id_for(relay_name)

    def park(self, parked: ParkedEvent) -> bool:
        """Record it; False when it was parked before."""
        for _ in range(MAX_SAVE_RETRIES):
            aggregate = self._load() or ParkedEvents(self.relay_name)
            if aggregate.holds(parked.event_id):
                return False
            aggregate.park(parked.as_dict())
            try:
                self.app.save(aggregate)
            except IntegrityError:  # another relay of the same name parked first
                continue
            return True
        raise IntegrityError(f"could not park {parked.event_id}: kept conflicting")

    def list(self) -> list[ParkedEvent]:
        aggregate = self._load()
        if aggregate is None:
            return []
        return [
            ParkedEvent(**{**e, "parked_at": datetime.fromisoformat(e["parked_at"])})
            for e in aggregate.entries
        ]

    def _load(self) -> ParkedEvents | None:
        try:
            aggregate: Aggregate = self.app.repository.get(self.id)
        except AggregateNotFoundError:
            return None
        assert isinstance(aggregate, ParkedEvents)
        return aggregate
