"""The SLA fact of one stored ticket event, read by name from its decoded state.

The state is decoded as the application's mapper decodes it in ``Mapper.to_domain_event``:
the mapper's own cipher and compressor when configured, then its own transcoder (with the
transcodings the application registered). With eventsourcing's ``JSONTranscoder`` (the
application's), the JSON document is parsed without the transcoder's per-object hook and
only the values read are decoded, each by the transcoding the transcoder registered under
its name (what the hook would do to them). The document is parsed with ``orjson`` (the
same JSON, read about three times faster than by the standard library's scanner, which the
hook makes call into Python for every object of every event): decoding is most of what an
audit costs. Any other transcoder decodes whole states itself.

The fields are then read by name — the keyword arguments of the
``Ticket`` aggregate's ``@event`` methods, which are also what replaying a stored event
relies on (``Ticket.Created``: ``number``, ``fields``, ``follow_up_of``, ``at``;
``StatusChanged``: ``to_status``; ``Commented``: ``public``, ``actor``; ``Updated``:
``changes``; ``Closed``: ``at``).

Only what the public envelope mapping would give is read (``fact_from_envelope`` is the
definition; the property tests check the two agree). Event classes that would need
upcasting (``class_version`` above 1) and ticket events this module does not know are
left to that mapping (:attr:`StateReader.readers` has no entry for them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Mapper
from eventsourcing.utils import get_topic

from contracts.common import INTERNAL_ROLES
from services.ticket_service.domain.ticket import Ticket
from services.ticket_service.sla.calendar import to_micros
from services.ticket_service.sla.facts import Fact, Kind

TICKET_EVENT_PREFIX = get_topic(Ticket) + "."
"""Every ticket event's topic starts so (``module:Ticket.``)."""

Decode = Callable[[bytes], dict[str, Any]]
ReadFact = Callable[[Any, int, bytes], Fact | None]
"""(originator id as stored, version, stored state) → the fact, or None."""

_INTERNAL = frozenset(role.value for role in INTERNAL_ROLES)
_new = tuple.__new__
"""Builds a Fact from all its fields without NamedTuple's Python-level constructor (the
readers run once per event of the history)."""


Value = Callable[[Any], Any]
"""A value as read from a state dict → the value the transcoder would have decoded."""


def _as_is(value: Any) -> Any:
    return value


def state_decoder(mapper: Mapper[Any]) -> tuple[Decode, Value]:
    """Stored state → the event's state dict, and how to decode a value read from it,
    through the mapper's own objects (see the module)."""
    transcoder, cipher, compressor = mapper.transcoder, mapper.cipher, mapper.compressor
    decode: Decode = transcoder.decode
    value: Value = _as_is
    if type(transcoder) is JSONTranscoder:
        decode, value = orjson.loads, _transcoded(transcoder)
    if cipher is None and compressor is None:
        return decode, value
    return _unwrapped(decode, cipher, compressor), value


def _transcoded(transcoder: JSONTranscoder) -> Value:
    """A value of a state parsed without the transcoder's object hook, as the hook would
    have returned it: an object the transcoder wrapped with a transcoding's name is decoded
    by that transcoding."""
    names = transcoder.names

    def value(item: Any) -> Any:
        if type(item) is dict and len(item) == 2 and "_type_" in item and "_data_" in item:
            return names[item["_type_"]].decode(value(item["_data_"]))
        return item

    return value


def _unwrapped(decode: Decode, cipher: Any, compressor: Any) -> Decode:
    """``decode`` after the mapper's cipher and compressor, as ``to_domain_event`` does."""

    def decrypted(state: bytes) -> dict[str, Any]:
        if cipher is not None:
            state = cipher.decrypt(state)
        if compressor is not None:
            state = compressor.decompress(state)
        return decode(state)

    return decrypted


class StateReader:
    """``readers[topic](oid, version, state)``: the fact of one stored ticket event. ``oid``
    stays as the store gives it (a string on SQLite): it only keys the ticket's clocks."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        decode, v = state_decoder(mapper)
        created, status, reply, closed = Kind.CREATED, Kind.STATUS, Kind.REPLY, Kind.CLOSED
        internal = _INTERNAL

        def at_of(d: dict[str, Any]) -> int:
            """The envelope's ``occurred_at``: the event's ``at``, else its timestamp."""
            return to_micros(v(d.get("at")) or v(d["timestamp"]))

        def on_created(oid: Any, version: int, state: bytes) -> Fact | None:
            d = decode(state)
            fields, origin = v(d["fields"]), v(d.get("follow_up_of"))
            return _new(
                Fact,
                (
                    oid,
                    version,
                    created,
                    at_of(d),
                    str(v(fields["status"])),
                    str(v(fields.get("priority")) or "normal"),
                    int(v(d["number"])),
                    int(v(origin["number"])) if origin else None,
                ),
            )

        def on_status(oid: Any, version: int, state: bytes) -> Fact | None:
            d = decode(state)
            return _new(
                Fact, (oid, version, status, at_of(d), str(v(d["to_status"])), None, None, None)
            )

        def on_commented(oid: Any, version: int, state: bytes) -> Fact | None:
            d = decode(state)
            if v(d["public"]) is not True or v(v(d["actor"])["role"]) not in internal:
                return None
            return _new(Fact, (oid, version, reply, at_of(d), None, None, None, None))

        def on_updated(oid: Any, version: int, state: bytes) -> Fact | None:
            d = decode(state)
            priority = v((v(d["changes"]) or {}).get("priority"))
            if priority is None:
                return None
            return Fact(oid, version, Kind.PRIORITY, at_of(d), priority=str(priority))

        def on_closed(oid: Any, version: int, state: bytes) -> Fact | None:
            d = decode(state)
            return _new(Fact, (oid, version, closed, at_of(d), None, None, None, None))

        by_class: dict[type[Any], ReadFact] = {
            Ticket.Created: on_created,
            Ticket.StatusChanged: on_status,  # type: ignore[attr-defined]
            Ticket.Commented: on_commented,  # type: ignore[attr-defined]
            Ticket.Updated: on_updated,  # type: ignore[attr-defined]
            Ticket.Closed: on_closed,  # type: ignore[attr-defined]
        }
        self.readers: dict[str, ReadFact] = {
            get_topic(cls): read
            for cls, read in by_class.items()
            if getattr(cls, "class_version", 1) == 1
        }
        """Topics this reader reads; other ticket events go through the envelope mapping,
        and events of other aggregates give no fact."""
