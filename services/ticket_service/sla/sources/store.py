"""Facts from the event store's notification log, in log order.

Two readers give the same facts:

* :func:`reference_facts` maps every stored event to its public envelope
  (``to_envelope``) and reduces that: the definition.
* :func:`store_facts` reads only what the figures need straight from the stored JSON (the
  envelope path costs ~10x a bare read of the log). Only fields that no user-supplied
  value can precede are read by pattern; where user-shaped values (custom fields,
  attachments) could imitate a field the pattern is checked to be unique or in the
  ticket's own place, and anything unexpected falls back to the reference mapping. On
  SQLite and PostgreSQL it reads the rows a page at a time with its own narrow query (no
  ``Notification``/``UUID`` objects per row), optionally only one partition of the
  tickets (:mod:`services.ticket_service.sla.parallel`); elsewhere through
  ``select_notifications``.

The property tests check both readers agree on random histories, including custom fields
and comment bodies written to look like the store's own encoding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from eventsourcing.persistence import JSONTranscoder, Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from contracts.common import INTERNAL_ROLES
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.domain.ticket import Ticket
from services.ticket_service.sla.calendar import to_micros
from services.ticket_service.sla.facts import Fact, Kind, fact_from_envelope

PAGE = 1000
Progress = Callable[[int], None]
"""Called with the number of notifications just read."""

_CREATED = get_topic(Ticket.Created)
_STATUS = get_topic(Ticket.StatusChanged)  # type: ignore[attr-defined]
_COMMENTED = get_topic(Ticket.Commented)  # type: ignore[attr-defined]
_UPDATED = get_topic(Ticket.Updated)  # type: ignore[attr-defined]
_CLOSED = get_topic(Ticket.Closed)  # type: ignore[attr-defined]

_AT = re.compile(rb'"at":\{"_type_":"datetime_iso","_data_":"([^"\\]+)"\}')
_TO_STATUS = re.compile(rb'"to_status":"([a-z_]+)"')
_PUBLIC = re.compile(rb'"public":(true|false)')
_ROLE = re.compile(rb'"actor":\{"role":"([a-z_]+)"')
_PUBLIC_ROLE = re.compile(rb'"public":(true|false),"actor":\{"role":"([a-z_]+)"')
_NUMBER = re.compile(rb'"originator_topic":"[^"]*","number":(\d+),"fields":\{')
_STATUS_FIELD = re.compile(rb'"status":"([a-z_]+)"')
_PRIORITY = re.compile(rb'"priority":"([a-z]+)"')
_FOLLOW_UP_OF = re.compile(rb'"follow_up_of":(?:null|\{"number":(\d+),)')
_STATUS_K, _REPLY_K, _CLOSED_K = Kind.STATUS, Kind.REPLY, Kind.CLOSED
_CREATED_K = Kind.CREATED
_INTERNAL = frozenset(role.value.encode() for role in INTERNAL_ROLES)


def notification_pages(
    app: TicketApplication,
    *,
    start: int = 1,
    stop: int | None = None,
    page: int = PAGE,
    progress: Progress | None = None,
) -> Iterator[Sequence[Notification]]:
    """Pages of notifications from ``start`` to ``stop`` (both inclusive)."""
    select = app.recorder.select_notifications
    return _paged(
        lambda first: select(first, page, stop=stop), lambda n: n.id, start, page, progress
    )


def read_notifications(app: TicketApplication, **read: Any) -> Iterator[Notification]:
    """Every notification, in order (the bare read of the log)."""
    for notifications in notification_pages(app, **read):
        yield from notifications


def reference_facts(app: TicketApplication, **read: Any) -> Iterator[Fact | None]:
    for notification in read_notifications(app, **read):
        yield _by_envelope(app, notification)


def _by_envelope(app: TicketApplication, notification: Notification) -> Fact | None:
    envelope = to_envelope(app.mapper.to_domain_event(notification))
    return fact_from_envelope(envelope) if envelope is not None else None


def fast_reader_applies(app: TicketApplication) -> bool:
    """Stored events are plain JSON (no cipher, no compression)."""
    mapper = app.mapper
    return not (
        mapper.cipher or mapper.compressor or not isinstance(mapper.transcoder, JSONTranscoder)
    )


def store_facts(app: TicketApplication, **read: Any) -> Iterator[Fact | None]:
    if not fast_reader_applies(app):
        yield from reference_facts(app, **read)
        return
    pages = (
        row_pages(app, **read)
        if narrow_reader_applies(app)
        else (
            [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in page]
            for page in notification_pages(app, **read)
        )
    )
    fast = _fast
    for rows in pages:
        try:  # a page at a time: the common case costs no per-row exception handling
            facts = [fast(oid, version, topic, state) for _, oid, version, topic, state in rows]
        except _FALL_BACK:
            facts = [_one(app, row) for row in rows]
        yield from facts


def _one(app: TicketApplication, row: Row) -> Fact | None:
    try:
        return _fast(row[1], row[2], row[3], row[4])
    except _FALL_BACK:
        fact = _by_envelope(app, _notification(app, row))
        # Keep the store's own id form, so the ticket's other facts match it.
        return fact._replace(ticket_id=row[1]) if fact is not None else None


Row = tuple[int, Any, int, str, bytes]
"""(notification id, originator id, originator version, topic, state)."""


def row_pages(
    app: TicketApplication,
    *,
    start: int = 1,
    stop: int | None = None,
    page: int = PAGE,
    progress: Progress | None = None,
    partition: Partition | None = None,
) -> Iterator[Sequence[Row]]:
    """Pages of the notification log's rows, in order, without building objects per row
    (the same rows ``select_notifications`` returns); only one partition's when given.
    SQLite and PostgreSQL stores (see :func:`narrow_reader_applies`)."""
    fetch = _fetcher(app, partition)
    last = stop if stop is not None else 2**63 - 1
    return _paged(lambda first: fetch(first, last, page), lambda r: r[0], start, page, progress)


T = TypeVar("T")


def _paged(
    fetch: Callable[[int], Sequence[T]],
    id_of: Callable[[T], int],
    start: int,
    page: int,
    progress: Progress | None,
) -> Iterator[Sequence[T]]:
    """Pages from ``fetch(first id)`` until a short page."""
    while True:
        items = fetch(start)
        if not items:
            return
        yield items
        if progress:
            progress(len(items))
        if len(items) < page:
            return
        start = id_of(items[-1]) + 1


def log_rows(app: TicketApplication, **read: Any) -> Iterator[Row]:
    for rows in row_pages(app, **read):
        yield from rows


def narrow_reader_applies(app: TicketApplication) -> bool:
    return isinstance(app.recorder, SQLiteApplicationRecorder | PostgresApplicationRecorder)


Fetch = Callable[[int, int, int], list[Row]]
"""(first id, last id, limit) → rows."""


def _fetcher(app: TicketApplication, partition: Partition | None) -> Fetch:
    recorder = app.recorder
    params = _partition_params(partition)
    if isinstance(recorder, SQLiteApplicationRecorder):
        sqlite_statement = (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE rowid >= ? AND rowid <= ? "
            f"{_partition_clause(partition, 'substr(originator_id, -1)', '?')}"
            "ORDER BY rowid LIMIT ?"
        )

        def from_sqlite(first: int, last: int, limit: int) -> list[Row]:
            with recorder.datastore.transaction(commit=False) as cursor:
                raw = cursor.sqlite_cursor
                raw.row_factory = None  # plain tuples on this cursor only
                raw.execute(sqlite_statement, (first, last, *params, limit))
                rows: list[Row] = raw.fetchall()
                return rows

        return from_sqlite
    if isinstance(recorder, PostgresApplicationRecorder):
        pg_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id >= %s AND notification_id <= %s "
            f"{_partition_clause(partition, 'right(originator_id::text, 1)', '%s')}"
            "ORDER BY notification_id LIMIT %s"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )

        def from_postgres(first: int, last: int, limit: int) -> list[Row]:
            with (
                recorder.datastore.get_connection() as connection,
                connection.cursor(row_factory=tuple_row) as cursor,
            ):
                cursor.execute(pg_statement, (first, last, *params, limit), prepare=True)
                rows: list[Row] = cursor.fetchall()
                return rows

        return from_postgres
    raise TypeError(f"no narrow reader for {type(recorder).__name__}")


Partition = tuple[int, int]
"""(k, n): the k-th of n disjoint sets of aggregates (0 <= k < n)."""


def _partition_clause(partition: Partition | None, last_digit: str, mark: str) -> str:
    """Splits aggregates by the last hex digit of their id (uniform for ids made by
    uuid4/uuid5), so every event of a ticket falls in the same partition. The last
    partition takes whatever the others don't, so together they cover every row."""
    if partition is None:
        return ""
    marks = ", ".join(mark for _ in _partition_params(partition))
    negate = "NOT " if partition[0] == partition[1] - 1 else ""
    return f"AND {last_digit} {negate}IN ({marks}) "


def _partition_params(partition: Partition | None) -> tuple[str, ...]:
    """The hex digits of the partition (of all the other partitions, for the last one)."""
    if partition is None:
        return ()
    k, n = partition
    if not 0 <= k < n <= 16:
        raise ValueError(f"partition {k} of {n}: need 0 <= k < n <= 16")
    if k == n - 1:
        return tuple(f"{d:x}" for d in range(16) if d % n != k)
    return tuple(f"{d:x}" for d in range(16) if d % n == k)


def _notification(app: TicketApplication, row: Row) -> Notification:
    originator_id = row[1]
    if isinstance(app.recorder, SQLiteApplicationRecorder):
        originator_id = app.recorder.convert_originator_id(originator_id)
    return Notification(
        id=row[0],
        originator_id=originator_id,
        originator_version=row[2],
        topic=row[3],
        state=row[4],
    )


class _Unexpected(Exception):
    """The stored JSON is not shaped as expected: use the reference mapping."""


_FALL_BACK = (_Unexpected, KeyError, TypeError, ValueError)
"""Whatever the fast reader trips on is left to the reference mapping (which raises if
the event is really unreadable)."""


def _fast(oid: Any, version: int, topic: str, state: bytes) -> Fact | None:
    """The fact of one stored event. ``oid`` stays as the store gives it (a string on
    SQLite): it only keys the ticket's clock, and rows carry the ticket's number."""
    if type(state) is not bytes:
        state = bytes(state)
    if topic == _STATUS:
        to_status = _TO_STATUS.search(state)
        if to_status is None:
            raise _Unexpected
        status = to_status.group(1).decode()
        return _new(Fact, (oid, version, _STATUS_K, _first_at(state), status, None, None, None))
    if topic == _COMMENTED:
        both = _PUBLIC_ROLE.search(state)  # the usual layout, in one search
        if both is not None:
            public, role = both.group(1), both.group(2)
        else:
            public_m, role_m = _PUBLIC.search(state), _ROLE.search(state)
            if public_m is None or role_m is None:
                raise _Unexpected
            public, role = public_m.group(1), role_m.group(1)
        if public != b"true" or role not in _INTERNAL:
            return None
        return _new(Fact, (oid, version, _REPLY_K, _at(state), None, None, None, None))
    if topic == _CLOSED:
        return _new(Fact, (oid, version, _CLOSED_K, _first_at(state), None, None, None, None))
    if topic == _UPDATED:
        if b'"priority"' not in state:
            return None
        d = _loads(state)
        changes = d.get("changes") or {}
        if changes.get("priority") is None:
            return None
        return Fact(oid, version, Kind.PRIORITY, _at_of(d), priority=str(changes["priority"]))
    if topic == _CREATED:
        return _created(oid, version, state)
    if topic.startswith("services.ticket_service.domain.ticket:"):
        raise _Unexpected  # a ticket event this reader does not know: ask the reference
    return None


def _created(oid: Any, version: int, state: bytes) -> Fact:
    """Creation events carry user-shaped values (custom fields) after the status and
    priority and before ``at``: the patterns must find the fields where the ticket's own
    keys are, or the whole JSON is parsed."""
    number, status, priority = (
        _NUMBER.search(state),
        _STATUS_FIELD.search(state),
        _PRIORITY.search(state),
    )
    user_values = state.find(b'"custom_fields":')
    if number is None or status is None or priority is None or user_values < 0:
        return _created_parsed(oid, version, state)
    if max(status.end(), priority.end()) > user_values:
        return _created_parsed(oid, version, state)
    at = _AT.search(state)
    if at is None or _AT.search(state, at.end()) is not None:
        return _created_parsed(oid, version, state)
    origin = _FOLLOW_UP_OF.search(state, at.end())
    if origin is None:
        return _created_parsed(oid, version, state)
    return _new(
        Fact,
        (
            oid,
            version,
            _CREATED_K,
            to_micros(datetime.fromisoformat(at.group(1).decode())),
            status.group(1).decode(),
            priority.group(1).decode(),
            int(number.group(1)),
            int(origin.group(1)) if origin.group(1) else None,
        ),
    )


def _created_parsed(oid: Any, version: int, state: bytes) -> Fact:
    d = _loads(state)
    fields, origin = d["fields"], d.get("follow_up_of")
    return Fact(
        oid,
        version,
        Kind.CREATED,
        _at_of(d),
        status=str(fields["status"]),
        priority=str(fields.get("priority") or "normal"),
        number=int(d["number"]),
        follow_up_of=int(origin["number"]) if origin else None,
    )


_new = tuple.__new__
"""Builds a Fact from all its fields without NamedTuple's Python-level constructor."""


def _loads(state: bytes) -> dict[str, Any]:
    try:
        value = json.loads(state)
    except ValueError:
        raise _Unexpected from None
    if not isinstance(value, dict):
        raise _Unexpected
    return value


def _at(state: bytes) -> int:
    """The event's ``at``: the only datetime of status, comment and close events, which
    carry no user-shaped dict before it (strings cannot contain an unescaped quote)."""
    value, end = _at_value(state)
    if state.find(_AT_KEY, end) >= 0:
        raise _Unexpected
    return to_micros(datetime.fromisoformat(value.decode()))


def _first_at(state: bytes) -> int:
    """``at`` of a status change or close: these events hold no user-shaped dict at all
    (only statuses, the actor's strings, ids and the solve), so the first match is it."""
    return to_micros(datetime.fromisoformat(_at_value(state)[0].decode()))


_AT_KEY = b'"at":{"_type_":"datetime_iso","_data_":"'
_AT_SKIP = len(_AT_KEY)


def _at_value(state: bytes) -> tuple[bytes, int]:
    """The first ``at`` value and where it ends (what ``_AT`` matches, by plain search:
    the value runs to the next quote and must close the object)."""
    start = state.find(_AT_KEY)
    if start < 0:
        raise _Unexpected
    start += _AT_SKIP
    end = state.find(b'"', start)
    value = state[start:end]
    if end < 0 or state[end + 1 : end + 2] != b"}" or b"\\" in value:
        raise _Unexpected
    return value, end


def _at_of(d: dict[str, Any]) -> int:
    at = d.get("at")
    if not isinstance(at, dict) or at.get("_type_") != "datetime_iso":
        raise _Unexpected
    return to_micros(datetime.fromisoformat(at["_data_"]))
