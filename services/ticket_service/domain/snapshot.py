"""Snapshots that give an aggregate back with the types it had.

eventsourcing's ``Snapshot`` stores ``vars(aggregate)`` through the JSON transcoder, which
brings back UUIDs, datetimes and decimals but turns a ``str`` enum into a plain ``str``, a
tuple into a list, and so on: loaded from a snapshot, an attribute could have another type
than loaded from its events (``Ticket.status`` came back as ``"open"``, not
``Status.OPEN``). :class:`TypedSnapshot` rebuilds every attribute an aggregate declares in
its ``snapshot_state`` (a ``TypedDict``) with pydantic, on load and before it is taken.

An aggregate opts in with ``Snapshot = TypedSnapshot`` and ``snapshot_state = ItsState``;
``tests/unit/domain/test_snapshots.py`` checks that the declaration names every attribute.
A value that does not fit its declared type (a declaration that is too narrow) is kept as
it was decoded and logged, so a snapshot never makes a ticket fail to load.
"""

from __future__ import annotations

import logging
from typing import Any, get_type_hints

from eventsourcing.domain import Snapshot
from eventsourcing.utils import register_topic
from pydantic import TypeAdapter, ValidationError

log = logging.getLogger(__name__)

LEGACY_TOPIC = "eventsourcing.domain:Snapshot"
"""Snapshots stored before :class:`TypedSnapshot` existed; they load through it too."""

Adapters = dict[str, TypeAdapter[Any]]


class TypedSnapshot(Snapshot):
    @classmethod
    def take(cls, aggregate: Any) -> TypedSnapshot:
        restore_types(aggregate)  # it may come from an older, untyped snapshot
        return super().take(aggregate)

    def mutate(self, _: None) -> Any:
        aggregate = super().mutate(_)
        restore_types(aggregate)
        return aggregate


def restore_types(aggregate: Any) -> None:
    """Give each declared attribute its declared type back (no-op when it already has it)."""
    state = vars(aggregate)
    for name, adapter in _state_adapters(type(aggregate)).items():
        if name in state:
            try:
                state[name] = adapter.validate_python(state[name])
            except ValidationError as error:
                log.error(
                    "%s %s: attribute %r does not fit its declared type; kept as stored: %s",
                    type(aggregate).__name__,
                    state.get("_id"),
                    name,
                    error,
                )


_ADAPTERS: dict[type, Adapters] = {}


def _state_adapters(aggregate_class: type) -> Adapters:
    try:
        return _ADAPTERS[aggregate_class]
    except KeyError:
        state = getattr(aggregate_class, "snapshot_state", None)
        hints = get_type_hints(state) if state is not None else {}
        adapters = {name: TypeAdapter(hint) for name, hint in hints.items()}
        _ADAPTERS[aggregate_class] = adapters
        return adapters


register_topic(LEGACY_TOPIC, TypedSnapshot)
