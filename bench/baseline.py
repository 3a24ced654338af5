"""The bare eventsourcing baseline: an application that does one save per command, on the
same kind of store, with nothing of ours in the way. Other benchmarks compare against it."""

from __future__ import annotations

import time
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from services.ticket_service.adapters.event_store import sqlite_env


class Note(Aggregate):
    @event("Created")
    def __init__(self, text: str) -> None:
        self.texts = [text]

    @event("Appended")
    def append(self, text: str) -> None:
        self.texts.append(text)


class BareApplication(Application[UUID]):
    name = "Baseline"

    def create(self, text: str) -> UUID:
        note = Note(text)
        self.save(note)
        return note.id

    def append(self, note_id: UUID, text: str) -> None:
        note: Note = self.repository.get(note_id)
        note.append(text)
        self.save(note)


def bare_commands_per_second(sqlite_path: str, commands: int) -> float:
    """One create then one update per pair, each its own save (transaction)."""
    app = BareApplication(env=sqlite_env(sqlite_path))
    start = time.perf_counter()
    for _ in range(commands // 2):
        note_id = app.create("hello")
        app.append(note_id, "world")
    elapsed = time.perf_counter() - start
    app.close()
    return (commands // 2 * 2) / elapsed
