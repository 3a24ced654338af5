"""The auto-close policy: how long a ticket stays solved before the automation closes it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from typing_extensions import TypedDict

from contracts.common import POLICY_ADMIN_ROLES, Role
from services.ticket_service.domain import errors
from services.ticket_service.domain.ids import POLICY_ID
from services.ticket_service.domain.snapshot import TypedSnapshot

MIN_DAYS, MAX_DAYS = 1, 28


class AutoClosePolicyState(TypedDict, total=False):
    after_seconds: int
    changed_at: datetime


class AutoClosePolicy(Aggregate):
    """Exists once an admin first changes the period; until then the deployment default
    (``HELPDESK_AUTO_CLOSE_AFTER``) applies. A change applies to tickets solved after it."""

    Snapshot = TypedSnapshot
    snapshot_state = AutoClosePolicyState

    @staticmethod
    def create_id() -> UUID:
        return POLICY_ID

    @classmethod
    def first_change(
        cls, *, after_days: int, actor: dict[str, Any], at: datetime, meta: dict[str, Any]
    ) -> AutoClosePolicy:
        _check(after_days, actor)
        return cls(after_seconds=after_days * 86400, actor=actor, at=at, meta=meta)

    @event("Created")
    def __init__(
        self, *, after_seconds: int, actor: dict[str, Any], at: datetime, meta: dict[str, Any]
    ) -> None:
        self.after_seconds = after_seconds
        self.changed_at = at

    def change(
        self, *, after_days: int, actor: dict[str, Any], at: datetime, meta: dict[str, Any]
    ) -> None:
        _check(after_days, actor)
        if after_days * 86400 != self.after_seconds:
            self._changed(after_seconds=after_days * 86400, actor=actor, at=at, meta=meta)

    @event("Changed")
    def _changed(
        self, *, after_seconds: int, actor: dict[str, Any], at: datetime, meta: dict[str, Any]
    ) -> None:
        self.after_seconds = after_seconds
        self.changed_at = at

    @property
    def after(self) -> timedelta:
        return timedelta(seconds=self.after_seconds)


def _check(after_days: int, actor: dict[str, Any]) -> None:
    if Role(actor["role"]) not in POLICY_ADMIN_ROLES:
        raise errors.NotPermitted("Only admins and owners change the auto-close period.")
    if not MIN_DAYS <= after_days <= MAX_DAYS:
        raise errors.InvalidRequest(
            f"after_days must be between {MIN_DAYS} and {MAX_DAYS}, got {after_days}."
        )
