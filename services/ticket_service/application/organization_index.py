"""The organization directory as this process last read it, kept current cheaply.

Every batch that creates tickets (or changes a requester) asks
:meth:`OrganizationIndex.current` once: one indexed query for directory events newer than
the cached version (none, nearly always; some 30 µs on SQLite). Other
processes' organization changes are therefore seen by the next batch; the cached directory
is replaced, never changed in place, so readers on other threads never see it half-updated.
"""

from __future__ import annotations

import copy
import threading
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from services.ticket_service.domain.ids import ORGANIZATION_DIRECTORY_ID
from services.ticket_service.domain.organization import OrganizationDirectory


class OrganizationIndex:
    def __init__(self, app: Application[UUID]) -> None:
        """``app``: the ticket application (its store: recorder, repository, mapper)."""
        self._app = app
        self._directory: OrganizationDirectory | None = None
        self._lock = threading.Lock()

    def current(self) -> OrganizationDirectory | None:
        """The directory as stored now (None until the first organization is created).
        Read it, never change it: :meth:`for_change` gives a copy to change."""
        with self._lock:
            cached = self._directory
            recorder = self._app.recorder
            if cached is None:  # first read: from the latest snapshot, if any
                if not recorder.select_events(ORGANIZATION_DIRECTORY_ID, limit=1):
                    return None
                loaded: Aggregate = self._app.repository.get(ORGANIZATION_DIRECTORY_ID)
                assert isinstance(loaded, OrganizationDirectory)
                self._directory = loaded
                return loaded
            stored = recorder.select_events(ORGANIZATION_DIRECTORY_ID, gt=cached.version)
            if not stored:
                return cached
            directory: Any = copy.deepcopy(cached)
            for record in stored:
                domain_event: Any = self._app.mapper.to_domain_event(record)
                directory = domain_event.mutate(directory)
            assert isinstance(directory, OrganizationDirectory)
            self._directory = directory
            return directory

    def for_change(self) -> OrganizationDirectory:
        """A private copy of the current directory (a new one if there is none yet), to
        change and save; a concurrent writer's save makes that save conflict."""
        current = self.current()
        return copy.deepcopy(current) if current is not None else OrganizationDirectory()

    def organization_of(self, requester: str) -> str | None:
        directory = self.current()
        return directory.organization_for(requester) if directory is not None else None

    def exists(self, organization_id: str) -> bool:
        directory = self.current()
        return directory is not None and directory.exists(organization_id)
