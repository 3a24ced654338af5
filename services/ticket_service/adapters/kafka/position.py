"""Where the relay got to: the last notification id it published, kept durably in the
event store's own database (eventsourcing's tracking table), keyed by relay name."""

from __future__ import annotations

import threading

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder


class RelayPosition:
    """Blocking (call from a worker thread). Positions only move forward."""

    def __init__(self, app: Application, relay_name: str) -> None:
        self.key = f"relay:{relay_name}"
        self._recorder: TrackingRecorder = app.factory.tracking_recorder()
        self._lock = threading.Lock()
        self._last: int | None = None

    def get(self) -> int:
        """The last recorded notification id, 0 when nothing was published yet."""
        with self._lock:
            self._last = self._recorder.max_tracking_id(self.key) or 0
            return self._last

    def record(self, notification_id: int) -> None:
        with self._lock:
            if self._last is None:
                self._last = self._recorder.max_tracking_id(self.key) or 0
            if notification_id <= self._last:
                return
            try:
                self._recorder.insert_tracking(Tracking(self.key, notification_id))
            except IntegrityError:
                # Another relay of the same name recorded a later position: keep theirs.
                self._last = self._recorder.max_tracking_id(self.key) or 0
                if self._last < notification_id:
                    raise
                return
            self._last = notification_id
